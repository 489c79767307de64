using System.IO.Compression;
using SaGatSr.Gat.Materials.Symmetry;

namespace SaGatSr.Tests.Materials;

public class SpaceGroupTests
{
    // General-position multiplicity of each space group in its conventional cell (hexagonal axes for R groups),
    // International Tables Vol. A, numbers 1..230.
    private static readonly int[] Multiplicity =
    [
        1, 2, 2, 2, 4, 2, 2, 4, 4, 4, 4, 8, 4, 4, 8, 4, 4, 4, 4, 8, 8, 16, 8, 8, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 8, 8, 8, 8, 8, 8,
        8, 16, 16, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 16, 16, 16, 16, 16, 16, 32, 32, 16, 16, 16, 16, 4, 4,
        4, 4, 8, 8, 4, 8, 8, 8, 8, 8, 16, 16, 8, 8, 8, 8, 8, 8, 8, 8, 16, 16, 8, 8, 8, 8, 8, 8, 8, 8, 16, 16, 16, 16, 8, 8,
        8, 8, 8, 8, 8, 8, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 32, 32, 32, 32, 3, 3,
        3, 9, 6, 18, 6, 6, 6, 6, 6, 6, 18, 6, 6, 6, 6, 18, 18, 12, 12, 12, 12, 36, 36, 6, 6, 6, 6, 6, 6, 6, 12, 12, 12, 12,
        12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 24, 24, 24, 24, 12, 48, 24, 12, 24, 24, 24, 96, 96, 48, 24, 48, 24, 24,
        96, 96, 48, 24, 24, 48, 24, 96, 48, 24, 96, 48, 48, 48, 48, 48, 192, 192, 192, 192, 96, 96,
    ];

    private static string OracleFile => Path.Combine(MaterialsTestData.RepositoryRoot, "tests", "SaGatSr.Tests", "Data", "symmetry", "symops_pymatgen.tsv.gz");

    [Test]
    public void TableHoldsEveryGroupWithItsStandardSettingFirst()
    {
        var settings = SpaceGroupTable.Settings;
        Assert.That(settings, Has.Count.EqualTo(527));
        Assert.That(settings.Select(s => s.Number).Distinct().Order(), Is.EqualTo(Enumerable.Range(1, 230)));
        Assert.That(SpaceGroupTable.OfNumber(14)[0].Symbol, Is.EqualTo("P 1 21/c 1"));
        Assert.That(SpaceGroupTable.OfNumber(166)[0].Symbol, Is.EqualTo("R -3 m :H"));
        Assert.That(settings.Count(s => s.IsStandard), Is.EqualTo(230));
    }

    [Test]
    public void EverySettingHasTheGeneralPositionMultiplicityOfItsGroup()
    {
        foreach (var setting in SpaceGroupTable.Settings)
        {
            // the rhombohedral cell holds a third of the hexagonal cell's lattice points
            int expected = setting.Choice == 'R' ? Multiplicity[setting.Number - 1] / 3 : Multiplicity[setting.Number - 1];
            Assert.That(setting.Operations, Has.Count.EqualTo(expected), setting.ToString());
        }
    }

    [Test]
    public void OrbitOfAGeneralPointHasOnePointPerOperation()
    {
        double[] general = [0.1234, 0.3779, 0.6521];
        foreach (var setting in SpaceGroupTable.Settings)
        {
            var orbit = new List<double[]>();
            foreach (var op in setting.Operations)
            {
                var p = op.Apply(general);
                if (!orbit.Any(q => Enumerable.Range(0, 3).All(c => Math.Abs((p[c] - q[c]) - Math.Round(p[c] - q[c])) < 1e-6)))
                    orbit.Add(p);
            }

            Assert.That(orbit, Has.Count.EqualTo(setting.Operations.Count), setting.ToString());
        }
    }

    [Test]
    public void OperationsAreClosedUnderComposition()
    {
        foreach (var setting in SpaceGroupTable.Settings)
        {
            var set = setting.Operations.ToHashSet();
            Assert.That(set, Has.Count.EqualTo(setting.Operations.Count), setting.ToString());
            foreach (var a in setting.Operations)
                foreach (var b in setting.Operations)
                    if (!set.Contains(a.Then(b)))
                        Assert.Fail($"{setting}: {a} then {b} is not in the group");
        }
    }

    [Test]
    public void GeneratedOperationsEqualTheExplicitListsOfAnIndependentTable()
    {
        using var reader = new StreamReader(new GZipStream(File.OpenRead(OracleFile), CompressionMode.Decompress));
        int compared = 0;
        while (reader.ReadLine() is { } line)
        {
            var cells = line.Split('\t');
            var setting = SpaceGroupTable.FindByHall(cells[0]);
            Assert.That(setting, Is.Not.Null, cells[0]);
            var expected = cells[1].Split(';').Select(t => SymmetryOperation.TryParse(t, out _)!).ToHashSet();
            Assert.That(setting!.Operations.ToHashSet().SetEquals(expected), Is.True,
                $"{setting}: generated {string.Join(" ", setting.Operations)}; expected {cells[1]}");
            compared++;
        }

        Assert.That(compared, Is.EqualTo(527));
    }

    [Test]
    public void HallSymbolsOutsideTheTableAndTheirErrors()
    {
        // the same group as the table's "P 31 2 (0 0 4)", written with the c-glide form of International Tables
        var p3112 = SpaceGroupTable.FindBySymbol("P 31 1 2").Single();
        Assert.That(HallSymbol.Operations("P 31 2c (0 0 1)").ToHashSet().SetEquals(p3112.Operations), Is.True);
        Assert.That(HallSymbol.Operations("  -P   2yn ").ToHashSet().SetEquals(SpaceGroupTable.FindBySymbol("P 1 21/n 1").Single().Operations), Is.True);
        foreach (string bad in new[] { "Q 2", "P", "P 5", "P 2q", "P 3* 4", "P 2 (0 0)", "P 4 3x" })
            Assert.Throws<FormatException>(() => HallSymbol.Operations(bad), bad);
    }

    [TestCase("P 1 21/n 1", 14, "P 1 21/n 1")]
    [TestCase("P21/n", 14, "P 1 21/n 1")]
    [TestCase("P2_1/c", 14, "P 1 21/c 1")]
    [TestCase("P 2(1)/c", 14, "P 1 21/c 1")]
    [TestCase("p 21/C", 14, "P 1 21/c 1")]
    [TestCase("P n m a", 62, "P n m a")]
    [TestCase("Pbnm", 62, "P b n m")]
    [TestCase("R -3 m H", 166, "R -3 m :H")]
    [TestCase("R-3m:R", 166, "R -3 m :R")]
    [TestCase("R-3mR", 166, "R -3 m :R")]
    [TestCase("F d -3 m Z", 227, "F d -3 m :2")]
    [TestCase("F d -3 m S", 227, "F d -3 m :1")]
    [TestCase("Fd-3m:1", 227, "F d -3 m :1")]
    [TestCase("Fm3m", 225, "F m -3 m")]
    [TestCase("Ia3d", 230, "I a -3 d")]
    [TestCase("Cmca", 64, "C m c e")]
    [TestCase("Abm2", 39, "A e m 2")]
    [TestCase("P 63/m m c", 194, "P 63/m m c")]
    public void HermannMauguinSpellingsFromRealFiles(string written, int number, string standard)
    {
        var found = SpaceGroupTable.FindBySymbol(written);
        Assert.That(found, Is.Not.Empty, written);
        Assert.That(found[0].Number, Is.EqualTo(number));
        Assert.That(found[0].Symbol, Is.EqualTo(standard));
    }

    [Test]
    public void SymbolsWithoutTheirSettingListEverySetting()
    {
        Assert.That(SpaceGroupTable.FindBySymbol("F d -3 m").Select(s => s.Symbol), Is.EqualTo(new[] { "F d -3 m :1", "F d -3 m :2" }));
        Assert.That(SpaceGroupTable.FindBySymbol("R 3").Select(s => s.Symbol), Is.EqualTo(new[] { "R 3 :H", "R 3 :R" }));
        // b unique first, as International Tables reads a short monoclinic symbol
        Assert.That(SpaceGroupTable.FindBySymbol("P21/b").Select(s => s.Symbol), Is.EqualTo(new[] { "P 1 1 21/b", "P 21/b 1 1" }));
        Assert.That(SpaceGroupTable.FindBySymbol("P 1 21/q 1"), Is.Empty);
        Assert.That(SpaceGroupTable.FindBySymbol("Pnma :3"), Is.Empty);
    }

    [Test]
    public void EverySpellingNamesOneGroup()
    {
        foreach (var setting in SpaceGroupTable.Settings)
            foreach (string written in new[] { setting.Symbol, setting.BaseSymbol, setting.ShortSymbol })
                Assert.That(SpaceGroupTable.FindBySymbol(written).Select(s => s.Number).Distinct(), Is.EqualTo(new[] { setting.Number }), written);
    }

    [Test]
    public void DefaultSettingsOfANumberCoverAxesAndOriginChoices()
    {
        Assert.That(SpaceGroupTable.DefaultSettings(14).Select(s => s.Symbol), Is.EqualTo(new[] { "P 1 21/c 1", "P 1 1 21/a", "P 21/b 1 1" }));
        Assert.That(SpaceGroupTable.DefaultSettings(227).Select(s => s.Symbol), Is.EqualTo(new[] { "F d -3 m :1", "F d -3 m :2" }));
        Assert.That(SpaceGroupTable.DefaultSettings(62).Select(s => s.Symbol), Is.EqualTo(new[] { "P n m a" }));
    }

    [Test]
    public void FoundByItsOperations()
    {
        var setting = SpaceGroupTable.FindBySymbol("P 42/m n m").Single();
        Assert.That(SpaceGroupTable.FindByOperations(setting.Operations.Reverse().ToList()), Is.SameAs(setting));
        Assert.That(SpaceGroupTable.FindByOperations([SymmetryOperation.Identity, SymmetryOperation.TryParse("-x,-y,z+1/3", out _)!]), Is.Null);
    }

    [Test]
    public void OperationsPrintAsCifText()
    {
        var op = SymmetryOperation.TryParse("1/2 - Y, X-Y ,z+0.3333333", out var problem)!;
        Assert.That(problem, Is.Null);
        Assert.That(op.ToString(), Is.EqualTo("-y+1/2,x-y,z+1/3"));
        Assert.That(op.Apply([0.1, 0.2, 0.3]), Is.EqualTo(new[] { 0.3, -0.1, 0.3 + 1 / 3.0 }).Within(1e-6));
        Assert.That(SymmetryOperation.TryParse("x,y", out problem), Is.Null);
        Assert.That(problem, Does.Contain("three"));
        Assert.That(SymmetryOperation.TryParse("x,x,z", out problem), Is.Null);
        Assert.That(problem, Does.Contain("determinant"));
        Assert.That(SymmetryOperation.TryParse("1/2x,y,z", out problem), Is.Null);
        Assert.That(problem, Does.Contain("non-integer"));
    }

    // COD files with their operation loops: each loop is the whole group the Hall symbol generates, so the reader
    // names the file's setting from the table (an exact match of every operation, centring included)
    [TestCase("1000041", "F m -3 m (225)")]
    [TestCase("1000050", "P m -3 m (221)")]
    [TestCase("1101051", "P 63 m c (186)")]
    [TestCase("7206075", "I 41/a m d :1 (141)")]
    [TestCase("9000046", "F m m m (69)")]
    [TestCase("9011050", "F d -3 m :1 (227)")]
    public void ExplicitLoopsOfRealFilesEqualTheGeneratedOperations(string cod, string setting)
    {
        var structure = SaGatSr.Gat.Materials.StructureReader.Read(Path.Combine(MaterialsTestData.Cgcnn, cod + ".cif"));
        Assert.That(structure.SpaceGroup, Is.EqualTo(setting));
    }
}
