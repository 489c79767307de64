using SaGatSr.Gat.Materials;

namespace SaGatSr.Tests.Materials;

public class BadInputTests
{
    private const string GoodPoscar = "NaCl\n1.0\n5.62 0 0\n0 5.62 0\n0 0 5.62\nNa Cl\n1 1\nDirect\n0 0 0\n0.5 0.5 0.5\n";

    private static StructureFormatException ParseFails(string text, string format, string name = "bad.file") =>
        Assert.Throws<StructureFormatException>(() => StructureReader.Parse(text, format, name))!;

    [Test]
    public void GoodPoscarParses() => Assert.That(StructureReader.Parse(GoodPoscar, "poscar", "good").Formula, Is.EqualTo("NaCl"));

    [TestCase("Na Cl\n1 1", "Xx Cl\n1 1", 6, "unknown element 'Xx'")]
    [TestCase("0 5.62 0\n0 0 5.62", "0 5.6x2 0\n0 0 5.62", 4, "malformed number '5.6x2'")]
    [TestCase("0 0 5.62\nNa", "5.62 0 0\nNa", 3, "linearly dependent")]
    [TestCase("0.5 0.5 0.5\n", "0.02 0.03 0.0\n", 10, "are 0.2")]
    [TestCase("1.0\n5.62", "abc\n5.62", 2, "malformed number 'abc' for the scale factor")]
    [TestCase("1 1\nDirect", "1 2\nDirect", 11, "expected 3 atom positions, found only 2")]
    [TestCase("Direct", "Fractional", 8, "expected 'Direct' or 'Cartesian'")]
    public void PoscarErrorsNameFileLineAndProblem(string good, string bad, int line, string problem)
    {
        var ex = ParseFails(GoodPoscar.Replace(good, bad), "poscar", "x.vasp");
        Assert.That(ex.File, Is.EqualTo("x.vasp"));
        Assert.That(ex.Line, Is.EqualTo(line));
        Assert.That(ex.Problem, Does.Contain(problem));
        Assert.That(ex.Message, Does.StartWith($"x.vasp:{line}: ").And.Contain(problem));
    }

    [Test]
    public void Vasp4FileWhoseCommentIsNotASpeciesListIsRefused()
    {
        var ex = ParseFails(GoodPoscar.Replace("NaCl\n", "System\n").Replace("Na Cl\n", ""), "poscar", "x.vasp");
        Assert.That(ex.Message, Does.StartWith("x.vasp:6: VASP 4 file without a species line: add a line with the element symbols before the counts"));
    }

    [Test]
    public void TinyCellWhereAnAtomMeetsItsOwnImageIsRefused()
    {
        var ex = ParseFails("tiny\n1.0\n0.4 0 0\n0 5 0\n0 0 5\nNa\n1\nDirect\n0 0 0\n", "poscar");
        Assert.That(ex.Message, Does.Contain("its own periodic image"));
        Assert.That(ex.Line, Is.EqualTo(9));
    }

    [TestCase("")]
    [TestCase("   \n\n")]
    public void EmptyFileIsReportedAtLineOne(string text)
    {
        foreach (string format in new[] { "cif", "poscar", "xyz" })
        {
            var ex = ParseFails(text, format, "empty." + format);
            Assert.That(ex.Message, Is.EqualTo($"empty.{format}:1: empty file"));
        }
    }

    private const string GoodCif = """
        data_x
        _cell_length_a 5.62
        _cell_length_b 5.62
        _cell_length_c 5.62
        _cell_angle_alpha 90
        _cell_angle_beta 90
        _cell_angle_gamma 90
        loop_
        _atom_site_label
        _atom_site_type_symbol
        _atom_site_fract_x
        _atom_site_fract_y
        _atom_site_fract_z
        _atom_site_occupancy
        Na1 Na1+ 0 0 0 1.0
        Cl1 Cl1- 0.5 0.5 0.5 1.0
        """;

    [Test]
    public void GoodCifParses() => Assert.That(StructureReader.Parse(GoodCif, "cif", "good").FullFormula, Is.EqualTo("NaCl"));

    [TestCase("Cl1 Cl1- 0.5 0.5 0.5 1.0", "Cl1 Cl1- 0.5 0.5 0.5 1.5", 16, "occupancy 1.5, outside 0..1")]
    [TestCase("Cl1 Cl1- 0.5", "Qq1 Qq 0.5", 16, "unknown element 'Qq'")]
    [TestCase("0.5 0.5 0.5 1.0", "0.5 0.5 0.5a 1.0", 16, "malformed number '0.5a'")]
    [TestCase("_cell_length_b 5.62", "_cell_length_b 0", 3, "must be positive")]
    [TestCase("Cl1 Cl1- 0.5 0.5 0.5 1.0", "Cl1 Cl1- 0.01 0.02 0.0 1.0", 16, "apart")]
    public void CifErrorsNameFileLineAndProblem(string good, string bad, int line, string problem)
    {
        var ex = ParseFails(GoodCif.Replace(good, bad), "cif", "x.cif");
        Assert.That(ex.Line, Is.EqualTo(line));
        Assert.That(ex.Message, Does.StartWith($"x.cif:{line}: ").And.Contain(problem));
    }

    [Test]
    public void CifWithoutCellIsRefused()
    {
        var ex = ParseFails(GoodCif.Replace("_cell_length_c 5.62\n", ""), "cif", "x.cif");
        Assert.That(ex.Message, Does.Contain("missing cell: _cell_length_c"));
    }

    [Test]
    public void CifWithBadSymmetryOperationIsRefused()
    {
        string cif = GoodCif.Replace("loop_\n_atom_site_label", "loop_\n_symmetry_equiv_pos_as_xyz\nx,y,z\n'-x,y,w'\nloop_\n_atom_site_label");
        var ex = ParseFails(cif, "cif", "x.cif");
        Assert.That(ex.Line, Is.EqualTo(11));
        Assert.That(ex.Message, Does.Contain("symmetry operation '-x,y,w'"));
    }

    [Test]
    public void XyzWithoutLatticeIsAMissingCell()
    {
        var ex = ParseFails("2\ncomment only\nNa 0 0 0\nCl 2.81 0 0\n", "xyz", "m.xyz");
        Assert.That(ex.Message, Does.StartWith("m.xyz:2: missing cell"));
    }

    [Test]
    public void XyzWithUnknownElementNamesTheAtomLine()
    {
        var ex = ParseFails("2\nLattice=\"5 0 0 0 5 0 0 0 5\"\nNa 0 0 0\nZz 2.5 0 0\n", "xyz", "m.xyz");
        Assert.That(ex.Message, Is.EqualTo("m.xyz:4: unknown element 'Zz'"));
    }

    [Test]
    public void MissingFileIsAStructureFormatException()
    {
        var ex = Assert.Throws<StructureFormatException>(() => StructureReader.Read("/nonexistent/POSCAR"))!;
        Assert.That(ex.Message, Does.Contain("file not found"));
    }
}
