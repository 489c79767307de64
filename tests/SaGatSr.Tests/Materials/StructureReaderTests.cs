using SaGatSr.Gat.Materials;

namespace SaGatSr.Tests.Materials;

public class StructureReaderTests
{
    private static IEnumerable<string> JarvisFiles() =>
        File.ReadAllLines(Path.Combine(MaterialsTestData.Jarvis, "id_prop.csv")).Select(l => l.Split(',')[0]);

    [Test]
    public void AllFiftyJarvisPoscarsLoadWithTheAtomCountsOfTheirCountLines()
    {
        var files = JarvisFiles().ToList();
        Assert.That(files, Has.Count.EqualTo(50));
        foreach (string name in files)
        {
            string path = Path.Combine(MaterialsTestData.Jarvis, name);
            var structure = StructureReader.Read(path);
            int expected = File.ReadAllLines(path)[6].Split(' ', StringSplitOptions.RemoveEmptyEntries).Sum(int.Parse);
            Assert.That(structure.AtomCount, Is.EqualTo(expected), name);
            Assert.That(structure.Volume, Is.GreaterThan(1), name);
        }
    }

    [TestCase("POSCAR-JVASP-10.vasp", 3, "VSe2")]
    [TestCase("POSCAR-JVASP-1372.vasp", 2, "AlAs")]
    [TestCase("POSCAR-JVASP-1996.vasp", 2, "NaI")]
    [TestCase("POSCAR-JVASP-655.vasp", 3, "NbSe2")]
    [TestCase("POSCAR-JVASP-14014.vasp", 12, "TbMnSi")]
    public void HandCheckedJarvisStructures(string file, int atoms, string formula)
    {
        var structure = StructureReader.Read(Path.Combine(MaterialsTestData.Jarvis, file));
        Assert.That(structure.AtomCount, Is.EqualTo(atoms));
        Assert.That(structure.Formula, Is.EqualTo(formula));
        Assert.That(structure.Id, Is.EqualTo(Path.GetFileNameWithoutExtension(file)));
    }

    [Test]
    public void JarvisLatticeVolumeAndCoordinatesAreConsistent()
    {
        var s = StructureReader.Read(Path.Combine(MaterialsTestData.Jarvis, "POSCAR-JVASP-14014.vasp"));
        // orthorhombic cell in the file: volume is the product of the diagonal
        Assert.That(s.Volume, Is.EqualTo(4.157436115454804 * 7.038494037846648 * 7.411178065479046).Within(1e-9));
        Assert.That(s.FractionalCoordinates[0], Is.EqualTo(new[] { 0.25, 0.5014870121743014, 0.1863876024079978 }).Within(1e-12));
        Assert.That(s.CartesianCoordinates[0][1], Is.EqualTo(0.5014870121743014 * 7.038494037846648).Within(1e-12));
    }

    // Expected counts from the space group and Wyckoff multiplicities in each file (hand-checked).
    [TestCase("1000041", 8, "NaCl")]   // Fm-3m, 4a + 4b
    [TestCase("1000050", 2, "KCl")]    // Pm-3m, 1a + 1b
    [TestCase("1101051", 4, "ZnS")]    // P63mc wurtzite, 2b + 2b
    [TestCase("1507756", 5, "BaTiO3")] // P4mm, 1a + 1b + 1b + 2c
    [TestCase("7206075", 12, "TiO2")]  // I41/amd anatase, 4a + 8e
    [TestCase("9000046", 8, "C")]      // Fmmm graphite (orthohexagonal), 8i
    [TestCase("9009743", 2, "CsCl")]   // Pm-3m
    [TestCase("9011050", 8, "Ge")]     // Fd-3m diamond, 8a
    [TestCase("9011998", 8, "Si")]
    [TestCase("9012304", 8, "C")]
    public void CgcnnCifsExpandTheirAsymmetricUnit(string id, int atoms, string formula)
    {
        var structure = StructureReader.Read(Path.Combine(MaterialsTestData.Cgcnn, id + ".cif"));
        Assert.That(structure.AtomCount, Is.EqualTo(atoms));
        Assert.That(structure.Formula, Is.EqualTo(formula));
    }

    [Test]
    public void RockSaltFromCifHasTheTextbookGeometry()
    {
        var s = StructureReader.Read(Path.Combine(MaterialsTestData.Cgcnn, "1000041.cif"));
        Assert.That(s.Volume, Is.EqualTo(Math.Pow(5.62, 3)).Within(1e-9));
        var graph = CrystalGraph.Build(s, new GraphOptions { MaxNeighbors = 6 });
        Assert.That(graph.EdgeDistance, Has.All.EqualTo(5.62 / 2).Within(1e-5));
        for (int e = 0; e < graph.EdgeCount; e++)
            Assert.That(s.AtomicNumbers[graph.EdgeSource[e]], Is.Not.EqualTo(s.AtomicNumbers[graph.EdgeTarget[e]]), "NaCl first shell is all unlike ions");
    }

    [Test]
    public void CifSymmetryOperationsWithDifferentSpellingsAndMergedSpecialPositions()
    {
        // rutile TiO2 (P42/mnm): Ti on 2a, O on 4f; spelled with the newer _space_group_symop tag, extra spaces and
        // rounded coordinates that a naive expansion would duplicate
        const string cif = """
            data_rutile
            _cell_length_a 4.5937
            _cell_length_b 4.5937
            _cell_length_c 2.9587
            _cell_angle_alpha 90
            _cell_angle_beta 90
            _cell_angle_gamma 90
            loop_
            _space_group_symop_id
            _space_group_symop_operation_xyz
            1 'x, y, z'
            2 '-x, -y, z'
            3 '-y+1/2, x+1/2, z+1/2'
            4 'y+1/2, -x+1/2, z+1/2'
            5 '-x+1/2, y+1/2, -z+1/2'
            6 'x+1/2, -y+1/2, -z+1/2'
            7 'y, x, -z'
            8 '-y, -x, -z'
            9 '-x, -y, -z'
            10 'x, y, -z'
            11 'y+1/2, -x+1/2, -z+1/2'
            12 '-y+1/2, x+1/2, -z+1/2'
            13 'x+1/2, -y+1/2, z+1/2'
            14 '-x+1/2, y+1/2, z+1/2'
            15 '-y, -x, z'
            16 'y, x, z'
            loop_
            _atom_site_label
            _atom_site_fract_x
            _atom_site_fract_y
            _atom_site_fract_z
            Ti1 0 0 0
            O1 0.3049 0.3049 0
            """;
        var s = StructureReader.Parse(cif, "cif", "rutile.cif");
        Assert.That(s.AtomCount, Is.EqualTo(6));
        Assert.That(s.Formula, Is.EqualTo("TiO2"));
        var graph = CrystalGraph.Build(s, new GraphOptions { MaxNeighbors = 6 });
        // every Ti is octahedrally coordinated by O at 1.95-1.99 Å
        for (int i = 0; i < s.AtomCount; i++)
            if (s.AtomicNumbers[i] == 22)
                for (int e = graph.TargetOffsets[i]; e < graph.TargetOffsets[i + 1]; e++)
                    Assert.That(graph.EdgeDistance[e], Is.InRange(1.93f, 2.0f));
    }

    private const string DirectPoscar = """
        Si2 test
        1.0
        0.0 2.715 2.715
        2.715 0.0 2.715
        2.715 2.715 0.0
        Si
        2
        Direct
        0.00 0.00 0.00
        0.25 0.25 0.25
        """;

    [Test]
    public void PoscarVariantsDescribeTheSameCrystal()
    {
        var reference = StructureReader.Parse(DirectPoscar, "poscar", "direct");
        string selectiveCartesian = """
            Si2 selective dynamics, Cartesian, scale 2 on a half-size cell
            2.0
            0.0 1.3575 1.3575
            1.3575 0.0 1.3575
            1.3575 1.3575 0.0
            Si_pv
            2
            Selective dynamics
            Cartesian
            0.0 0.0 0.0 T T T
            0.67875 0.67875 0.67875 F F F Si
            """;
        string negativeScale = DirectPoscar.Replace("\n1.0\n", $"\n-{reference.Volume.ToString("R", System.Globalization.CultureInfo.InvariantCulture)}\n")
            .Replace("0.0 2.715 2.715\n2.715 0.0 2.715\n2.715 2.715 0.0", "0.0 1 1\n1 0.0 1\n1 1 0.0");
        string vasp4 = "Si\n1.0\n0.0 2.715 2.715\n2.715 0.0 2.715\n2.715 2.715 0.0\n2\nDirect\n0 0 0\n0.25 0.25 0.25\n";
        foreach (var (text, name) in new[] { (selectiveCartesian, "selective"), (negativeScale, "negative scale"), (vasp4, "VASP 4") })
        {
            var s = StructureReader.Parse(text, "POSCAR", name);
            Assert.That(s.AtomCount, Is.EqualTo(2), name);
            Assert.That(s.AtomicNumbers, Is.All.EqualTo(14), name);
            for (int r = 0; r < 3; r++)
            for (int c = 0; c < 3; c++)
                Assert.That(s.Lattice[r, c], Is.EqualTo(reference.Lattice[r, c]).Within(1e-9), $"{name} lattice[{r},{c}]");
            for (int i = 0; i < 2; i++)
                Assert.That(s.CartesianCoordinates[i], Is.EqualTo(reference.CartesianCoordinates[i]).Within(1e-9), name);
        }
    }

    [Test]
    public void ExtendedXyzWithLatticeAndPropertiesMatchesThePoscar()
    {
        var reference = StructureReader.Parse(DirectPoscar, "poscar", "direct");
        string xyz = """
            2
            Lattice="0.0 2.715 2.715 2.715 0.0 2.715 2.715 2.715 0.0" Properties=species:S:1:pos:R:3:forces:R:3 energy=-10.8 pbc="T T T"
            Si 0.0 0.0 0.0 0.1 0.2 0.3
            Si 1.3575 1.3575 1.3575 0 0 0
            """;
        var s = StructureReader.Parse(xyz, ".extxyz", "si.extxyz");
        Assert.That(s.AtomCount, Is.EqualTo(2));
        Assert.That(s.Volume, Is.EqualTo(reference.Volume).Within(1e-9));
        for (int i = 0; i < 2; i++)
            Assert.That(s.FractionalCoordinates[i], Is.EqualTo(reference.FractionalCoordinates[i]).Within(1e-9));
    }

    [Test]
    public void FormatIsDetectedFromNameOrContent()
    {
        string folder = MaterialsTestData.NewTemporaryFolder();
        try
        {
            File.WriteAllText(Path.Combine(folder, "CONTCAR"), DirectPoscar);
            File.Copy(Path.Combine(MaterialsTestData.Cgcnn, "1000041.cif"), Path.Combine(folder, "nacl.txt"));
            Assert.That(StructureReader.Read(Path.Combine(folder, "CONTCAR")).Formula, Is.EqualTo("Si"));
            Assert.That(StructureReader.Read(Path.Combine(folder, "nacl.txt")).Formula, Is.EqualTo("NaCl"));
        }
        finally
        {
            MaterialsTestData.DeleteFolder(folder);
        }
    }
}
