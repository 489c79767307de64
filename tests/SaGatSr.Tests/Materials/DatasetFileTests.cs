using SaGatSr.Gat.Materials;

namespace SaGatSr.Tests.Materials;

/// <summary>Datasets kept in one file: CDVAE-style CSV with a structure column, multi-frame extended XYZ.</summary>
public class DatasetFileTests
{
    private static string PerovskitesHead => Path.Combine(MaterialsTestData.Folder, "perovskites", "perovskites-head.csv");

    private const string RockSaltCif = """
        data_NaCl
        _cell_length_a 5.64
        _cell_length_b 5.64
        _cell_length_c 5.64
        _cell_angle_alpha 90
        _cell_angle_beta 90
        _cell_angle_gamma 90
        loop_
        _atom_site_type_symbol
        _atom_site_fract_x
        _atom_site_fract_y
        _atom_site_fract_z
        Na 0 0 0
        Cl 0.5 0.5 0.5
        """;

    private static string Quote(string text) => "\"" + text.Replace("\"", "\"\"") + "\"";

    [Test]
    public void CdvaeStyleCsvReadsIdsTargetsByNameAndEveryCrystal()
    {
        var dataset = Dataset.Load(PerovskitesHead);
        Assert.That(dataset.Entries, Has.Count.EqualTo(12));
        Assert.That(dataset.Skipped, Is.Empty);
        // The unnamed index, material_id, cif and the text-only formula column are not targets.
        Assert.That(dataset.TargetNames, Is.EqualTo(new[] { "heat_all", "heat_ref", "dir_gap", "ind_gap" }));
        var first = dataset.Entries[0];
        Assert.That(first.Id, Is.EqualTo("3961"));
        Assert.That(first.Structure.Formula, Is.EqualTo("TiOsNOF"));
        Assert.That(first.Structure.AtomCount, Is.EqualTo(5));
        Assert.That(first.Targets, Is.EqualTo(new[] { 1.16, 1.4383314936574307, 0.0, 0.0 }));
        Assert.That(first.Location, Does.EndWith("perovskites-head.csv:2"));
    }

    [Test]
    public void BadRowsAreSkippedWithTheirRowAndLineAndTheRestLoads()
    {
        string folder = MaterialsTestData.NewTemporaryFolder();
        try
        {
            string broken = RockSaltCif.Replace("Cl 0.5 0.5 0.5", "Xx 0.5 0.5 0.5");
            string csv = "material_id,structure,energy,note\n" +
                         $"a,{Quote(RockSaltCif)},-1.5,fine\n" +              // row 1, lines 2-16
                         $"b,{Quote(broken)},-2.5,unknown element\n" +       // row 2, lines 16-30: Xx on line 29
                         $"a,{Quote(RockSaltCif)},-3.5,duplicate\n" +        // row 3
                         $"c,{Quote(RockSaltCif)},,empty target\n" +         // row 4: kept, with a gap
                         $"d,{Quote(RockSaltCif)},high,text target\n" +      // row 5: kept, with a gap
                         "e,only three,fields\n";                            // row 6
            string path = Path.Combine(folder, "set.csv");
            File.WriteAllText(path, csv);

            var dataset = Dataset.Load(path, structureColumn: "structure");
            Assert.That(dataset.Entries.Select(e => e.Id), Is.EqualTo(new[] { "a", "c", "d" }));
            Assert.That(dataset.TargetNames, Is.EqualTo(new[] { "energy" }));
            Assert.That(dataset.Entries[0].Targets, Is.EqualTo(new[] { -1.5 }));
            Assert.That(double.IsNaN(dataset.Entries[1].Targets[0]) && double.IsNaN(dataset.Entries[2].Targets[0]));

            var reasons = dataset.Skipped.ToDictionary(s => s.Reason.Contains("duplicate") ? "dup" : s.Id, s => s.Reason);
            int brokenLine = 16 + RockSaltCif.Split('\n').ToList().FindIndex(l => l.StartsWith("Cl"));
            Assert.That(reasons["b"], Does.Contain($"set.csv:{brokenLine}: row 2 (structure)").And.Contain("Xx"));
            Assert.That(reasons["dup"], Does.Contain("row 3").And.Contain("duplicate id 'a'"));
            Assert.That(reasons["e"], Does.Contain("row 6").And.Contain("3 fields, the header has 4"));
            Assert.That(dataset.TargetGaps.Select(g => g.Reason), Is.EqualTo(new[]
            {
                $"{path}:{44}: row 4: energy is empty",
                $"{path}:{58}: row 5: energy is 'high', not a number",
            }));
        }
        finally
        {
            MaterialsTestData.DeleteFolder(folder);
        }
    }

    [Test]
    public void PoscarTextInANamedColumnAndRowNumbersAsIds()
    {
        string folder = MaterialsTestData.NewTemporaryFolder();
        try
        {
            string poscar = File.ReadAllText(Path.Combine(MaterialsTestData.Jarvis, "POSCAR-JVASP-10.vasp"));
            string path = Path.Combine(folder, "set.csv");
            File.WriteAllText(path, $"poscar,gap\r\n{Quote(poscar)},1.25\r\n{Quote(poscar)},2\r\n");
            var dataset = Dataset.Load(path, structureColumn: "POSCAR");
            Assert.That(dataset.Entries.Select(e => e.Id), Is.EqualTo(new[] { "1", "2" }));
            Assert.That(dataset.Entries.Select(e => e.Structure.Formula), Is.All.EqualTo("VSe2"));
            Assert.That(dataset.Entries.Select(e => e.Targets[0]), Is.EqualTo(new[] { 1.25, 2.0 }));

            var error = Assert.Throws<StructureFormatException>(() => Dataset.Load(path));
            Assert.That(error!.Message, Does.Contain("no structure column 'cif'").And.Contain("poscar, gap").And.Contain("--structure-column"));
        }
        finally
        {
            MaterialsTestData.DeleteFolder(folder);
        }
    }

    [Test]
    public void ExtendedXyzFramesGiveOneEntryEachWithTheirPropertiesAsTargets()
    {
        string folder = MaterialsTestData.NewTemporaryFolder();
        try
        {
            const string lattice = "Lattice=\"5.64 0 0 0 5.64 0 0 0 5.64\" Properties=species:S:1:pos:R:3";
            string frames =
                $"2\n{lattice} energy=-1.5 gap=2.0 pbc=\"T T T\"\nNa 0 0 0\nCl 2.82 2.82 2.82\n" +
                $"2\n{lattice} energy=-1.25 name=second\nNa 0 0 0\nCl 2.82 2.82 2.82\n" +
                $"2\n{lattice} energy=-1.0\nNa 0 0 0\nQq 2.82 2.82 2.82\n" +
                $"1\n{lattice} energy=oops gap=1\nK 0 0 0\n";
            string path = Path.Combine(folder, "frames.extxyz");
            File.WriteAllText(path, frames);
            var dataset = Dataset.Load(path);
            Assert.That(dataset.TargetNames, Is.EqualTo(new[] { "energy", "gap" }));
            Assert.That(dataset.Entries.Select(e => e.Id), Is.EqualTo(new[] { "frames.extxyz#1", "second", "frames.extxyz#4" }));
            Assert.That(dataset.Entries[0].Targets, Is.EqualTo(new[] { -1.5, 2.0 }));
            Assert.That(dataset.Skipped.Single().Reason, Does.Contain("frames.extxyz:12: frame 3").And.Contain("Qq"));
            Assert.That(dataset.TargetGaps.Select(g => g.Reason), Is.EqualTo(new[]
            {
                $"{path}:5: frame 2: gap is missing",
                $"{path}:13: frame 4: energy is 'oops', not a number",
            }));
        }
        finally
        {
            MaterialsTestData.DeleteFolder(folder);
        }
    }

    private static string MatbenchSample => Path.Combine(MaterialsTestData.Folder, "perovskites", "matbench-style-sample.json.gz");

    [Test]
    public void MatbenchJsonGivesTheSameCrystalsAsTheCsv()
    {
        var json = Dataset.Load(MatbenchSample);
        var csv = Dataset.Load(PerovskitesHead);
        Assert.That(json.Entries, Has.Count.EqualTo(24));
        Assert.That(json.TargetNames, Is.EqualTo(new[] { "e_form" }));
        foreach (var row in csv.Entries)
        {
            var same = json.Entries.Single(e => e.Id == row.Id);
            Assert.That(same.Targets[0], Is.EqualTo(row.Targets[0]), $"{row.Id}: e_form is heat_all");
            Assert.That(same.Structure.Formula, Is.EqualTo(row.Structure.Formula));
            Assert.That(same.Structure.Volume, Is.EqualTo(row.Structure.Volume).Within(1e-6));
            // The two files list the atoms in other orders and wrap them into the cell differently.
            bool Matches(int a, int b) => row.Structure.AtomicNumbers[a] == same.Structure.AtomicNumbers[b] && Enumerable.Range(0, 3).All(k =>
            {
                double d = row.Structure.FractionalCoordinates[a][k] - same.Structure.FractionalCoordinates[b][k];
                return Math.Abs(d - Math.Round(d)) < 1e-6;
            });
            for (int a = 0; a < row.Structure.AtomCount; a++)
                Assert.That(Enumerable.Range(0, same.Structure.AtomCount).Count(b => Matches(a, b)), Is.EqualTo(1), $"{row.Id}: atom {a + 1}");
        }
    }

    private static string StructureJson(string species, string abc = "[0.5, 0.5, 0.5]") => $$"""
        {"@module": "pymatgen.core.structure", "@class": "Structure", "charge": 0,
         "lattice": {"matrix": [[5.64, 0, 0], [0, 5.64, 0], [0, 0, 5.64]]},
         "sites": [{"species": [{"element": "Na", "occu": 1}], "abc": [0, 0, 0], "label": "Na"},
                   {"species": {{species}}, "abc": {{abc}}, "label": "X1"}]}
        """;

    [Test]
    public void PymatgenStructureJsonReadsAsAStructureWithItsDisorder()
    {
        string folder = MaterialsTestData.NewTemporaryFolder();
        try
        {
            string ordered = Path.Combine(folder, "nacl.json");
            File.WriteAllText(ordered, StructureJson("""[{"element": "Cl", "occu": 1.0}]"""));
            var structure = StructureReader.Read(ordered);
            Assert.That((structure.Id, structure.Formula, structure.AtomCount), Is.EqualTo(("nacl", "NaCl", 2)));
            Assert.That(structure.CartesianCoordinates[1], Is.EqualTo(new[] { 2.82, 2.82, 2.82 }).Within(1e-12));
            Assert.That(Dataset.Load(ordered).Entries.Single().Structure.Formula, Is.EqualTo("NaCl"));

            string mixed = Path.Combine(folder, "mixed.json");
            File.WriteAllText(mixed, StructureJson("""[{"element": "Cl", "occu": 0.75}, {"element": "Br", "occu": 0.25}]"""));
            var virtualCrystal = StructureReader.Read(mixed, DisorderPolicy.Virtual);
            Assert.That(virtualCrystal.DisorderedSites, Is.EqualTo(1));
            Assert.That(virtualCrystal.Mixtures![1]!.Species, Has.Count.EqualTo(2));
            Assert.That(StructureReader.Read(mixed, DisorderPolicy.Majority).AtomicNumbers[1], Is.EqualTo(17));
            var refused = Assert.Throws<StructureFormatException>(() => StructureReader.Read(mixed, DisorderPolicy.Error));
            Assert.That(refused!.Message, Does.Contain("mixed.json").And.Contain("site 2 ('X1') is partially occupied"));

            string unknown = Path.Combine(folder, "unknown.json");
            File.WriteAllText(unknown, StructureJson("""[{"element": "Qq", "occu": 1}]"""));
            Assert.That(Assert.Throws<StructureFormatException>(() => StructureReader.Read(unknown))!.Message,
                Does.Contain("site 2 ('X1'): unknown element 'Qq'"));

            string broken = Path.Combine(folder, "broken.json");
            File.WriteAllText(broken, "{\n  \"lattice\": {\n  \"matrix\": [1, 2,,]\n}");
            Assert.That(Assert.Throws<StructureFormatException>(() => StructureReader.Read(broken))!.Message,
                Does.StartWith($"{broken}:3: not valid JSON"));
        }
        finally
        {
            MaterialsTestData.DeleteFolder(folder);
        }
    }

    [Test]
    public void MatbenchRowsThatCannotBeReadAreSkippedWithRowAndId()
    {
        string folder = MaterialsTestData.NewTemporaryFolder();
        try
        {
            string good = StructureJson("""[{"element": "Cl", "occu": 1}]"""), bad = StructureJson("""[{"element": "Qq", "occu": 1}]""");
            string path = Path.Combine(folder, "set.json");
            File.WriteAllText(path, $$"""{"index": ["a", "b", "c", "a"], "columns": ["structure", "gap"], "data": [[{{good}}, 1.5], [{{bad}}, 2], [{{good}}, null], [{{good}}, 4]]}""");
            var dataset = Dataset.Load(path);
            Assert.That(dataset.Entries.Select(e => e.Id), Is.EqualTo(new[] { "a", "c" }));
            Assert.That(dataset.Skipped.Select(s => s.Reason), Has.Some.Contains("row 2 (id b)").And.Some.Contains("row 4 (id a)"));
            Assert.That(dataset.TargetGaps.Single().Reason, Does.Contain("row 3 (id c): gap is missing"));
        }
        finally
        {
            MaterialsTestData.DeleteFolder(folder);
        }
    }

    [Test]
    public void QuotedFieldsKeepCommasQuotesAndLineBreaks()
    {
        var records = CsvRecords.Read(new StringReader("a,\"b,\"\"c\"\"\nd\",e\r\n\"\",f\n"), "test").ToList();
        Assert.That(records.Select(r => r.Fields), Is.EqualTo(new[] { new[] { "a", "b,\"c\"\nd", "e" }, new[] { "", "f" } }));
        Assert.That(records.Select(r => r.Lines), Is.EqualTo(new[] { new[] { 1, 1, 2 }, new[] { 3, 3 } }));
        var broken = CsvRecords.Read(new StringReader("a,\"open\n"), "t.csv").Single();
        Assert.That((broken.Line, broken.Fields.Length), Is.EqualTo((1, 0)));
        Assert.That(broken.Error, Does.StartWith("a quoted field opened on line 1 is not closed"));
    }

    [Test]
    public void CsvStructuresFollowTheDisorderPolicy()
    {
        string folder = MaterialsTestData.NewTemporaryFolder();
        try
        {
            string disordered = RockSaltCif.Replace("_atom_site_fract_z\n", "_atom_site_fract_z\n_atom_site_occupancy\n")
                .Replace("Na 0 0 0", "Na 0 0 0 0.5\nK 0 0 0 0.5").Replace("Cl 0.5 0.5 0.5", "Cl 0.5 0.5 0.5 1");
            string path = Path.Combine(folder, "set.csv");
            File.WriteAllText(path, $"material_id,structure,energy\na,{Quote(disordered)},-1.5\nb,{Quote(RockSaltCif)},-2.5\n");
            var virtualCrystal = Dataset.Load(path, structureColumn: "structure");
            Assert.That(virtualCrystal.Entries[0].Structure.DisorderedSites, Is.EqualTo(1));
            Assert.That(virtualCrystal.Entries[0].Structure.Formula, Is.EqualTo("K0.5Na0.5Cl"));
            var ordered = Dataset.Load(path, structureColumn: "structure", disorder: DisorderPolicy.Error);
            Assert.That(ordered.Entries.Select(e => e.Id), Is.EqualTo(new[] { "b" }));
            Assert.That(ordered.Skipped.Single().Reason, Does.Contain("partially occupied"));
        }
        finally
        {
            MaterialsTestData.DeleteFolder(folder);
        }
    }
}
