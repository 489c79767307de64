using SaGatSr.Gat.Materials;

namespace SaGatSr.Tests.Materials;

public class RoleDescriptorTests
{
    private static readonly ElementTable Table = ElementTable.Default;

    private static double Element(int z, string property) => Table.Value(z, Table.IndexOf(property));

    private static Structure RockSalt => StructureReader.Read(Path.Combine(MaterialsTestData.Cgcnn, "1000041.cif"));

    private static Structure Copper => Structure.Create("Cu", new double[,] { { 0, 1.8, 1.8 }, { 1.8, 0, 1.8 }, { 1.8, 1.8, 0 } }, [29], [[0, 0, 0]], true, "test");

    [Test]
    public void PerovskiteTableHasSingleSiteAAndBAndStatisticsOverX()
    {
        var structures = new[]
        {
            SiteRolesTests.CubicPerovskite("Sr", "Ti", ["O", "O", "O"], 3.905),
            SiteRolesTests.CubicPerovskite("La", "Ti", ["N", "O", "O"], 4.0),
            RockSalt,
        };
        var table = new RoleDescriptors().Compute(structures);
        Assert.That(table.Scheme, Is.EqualTo(RoleScheme.Abx3), "two of three are ABX3");
        Assert.That(() => new FeatureSet(table.Columns), Throws.Nothing, "no duplicate names");
        Assert.That(table.Columns.Select(c => c.Name), Has.Member("B_IE1").And.Member("X_EA_range").And.Member("A_ir").And.Member("X_charge").And.Member("G_t")
            .And.No.Member("A_IE1_mean"));
        double V(int row, string column) => table[row, table.IndexOf(column)];
        Assert.Multiple(() =>
        {
            Assert.That(V(0, "A_IE1"), Is.EqualTo(Element(38, "IE1")));
            Assert.That(V(0, "B_IE1"), Is.EqualTo(Element(22, "IE1")));
            Assert.That(V(0, "B_ir"), Is.EqualTo(0.605));
            Assert.That(V(0, "A_charge"), Is.EqualTo(2));
            Assert.That(V(0, "X_charge"), Is.EqualTo(-2));
            Assert.That(V(0, "X_EA_range"), Is.EqualTo(0));
            Assert.That(V(1, "A_ir"), Is.EqualTo(1.36), "La3+ XII");
            Assert.That(V(1, "X_EA_mean"), Is.EqualTo((Element(7, "EA") + 2 * Element(8, "EA")) / 3).Within(1e-12));
            Assert.That(V(1, "X_EA_min"), Is.EqualTo(Math.Min(Element(7, "EA"), Element(8, "EA"))));
            Assert.That(V(1, "X_EA_range"), Is.EqualTo(Math.Abs(Element(7, "EA") - Element(8, "EA"))).Within(1e-12));
            Assert.That(V(1, "X_ir_mean"), Is.EqualTo((1.46 + 2 * 1.40) / 3).Within(1e-12), "N3- IV, O2- VI");
            Assert.That(V(1, "X_charge"), Is.EqualTo(-7.0 / 3).Within(1e-12));
            Assert.That(V(1, "G_t"), Is.EqualTo((1.36 + (1.46 + 2.80) / 3) / (Math.Sqrt(2) * (0.605 + (1.46 + 2.80) / 3))).Within(1e-12));
            Assert.That(V(0, "roles_fallback") + V(1, "roles_fallback"), Is.Zero);
            // rock salt: cation/anion only, so A and B both hold the sodium values and the ABX3 descriptors are neutral
            Assert.That(V(2, "roles_fallback"), Is.EqualTo(1));
            Assert.That(V(2, "A_X"), Is.EqualTo(0.93).Within(1e-12));
            Assert.That(V(2, "B_X"), Is.EqualTo(0.93).Within(1e-12));
            Assert.That(V(2, "X_X_mean"), Is.EqualTo(3.16).Within(1e-12));
            Assert.That(V(2, "G_t"), Is.Zero);
            Assert.That(V(2, "G_abx3"), Is.Zero);
            Assert.That(table.FallbackCount, Is.EqualTo(1));
            Assert.That(table.Rules, Is.EqualTo(new[] { "ABX3, charge balance", "ABX3, charge balance", "charge balance" }));
        });
    }

    [Test]
    public void GeneralTableUsesCationAndAnionAndFallsBackToTheWholeCrystal()
    {
        var table = new RoleDescriptors(["X", "Z"]).Compute([RockSalt, Copper]);
        Assert.That(table.Scheme, Is.EqualTo(RoleScheme.CationAnion));
        Assert.That(table.Columns.Select(c => c.Name), Has.No.Member("G_t").And.No.Member("G_tilt").And.Member("G_gii").And.Member("G_abx3"));
        double V(int row, string column) => table[row, table.IndexOf(column)];
        Assert.Multiple(() =>
        {
            Assert.That(V(0, "cation_X_mean"), Is.EqualTo(0.93).Within(1e-12));
            Assert.That(V(0, "anion_Z_max"), Is.EqualTo(17));
            Assert.That(V(0, "cation_charge"), Is.EqualTo(1));
            Assert.That(V(0, "anion_charge"), Is.EqualTo(-1));
            Assert.That(V(0, "cation_frac"), Is.EqualTo(0.5));
            Assert.That(V(0, "roles_fallback"), Is.Zero);
            Assert.That(V(1, "roles_fallback"), Is.EqualTo(2));
            Assert.That(V(1, "cation_X_mean"), Is.EqualTo(Element(29, "X")));
            Assert.That(V(1, "anion_X_mean"), Is.EqualTo(Element(29, "X")), "no roles: whole-crystal statistics in every role column");
            Assert.That(V(1, "cation_charge"), Is.Zero);
            Assert.That(V(1, "G_assigned"), Is.Zero);
            Assert.That(table.FallbackCount, Is.EqualTo(1));
            Assert.That(table.Rules[1], Does.StartWith("none: fallback"));
        });
        for (int r = 0; r < table.RowCount; r++)
        for (int c = 0; c < table.Columns.Count; c++)
            Assert.That(double.IsFinite(table[r, c]), $"{table.Ids[r]} {table.Columns[c].Name}");
    }

    [Test]
    public void JarvisSampleGivesFiniteTablesInBothSchemes()
    {
        var structures = Directory.GetFiles(MaterialsTestData.Jarvis, "*.vasp").Order().Select(StructureReader.Read).ToArray();
        foreach (var scheme in new[] { RoleScheme.CationAnion, RoleScheme.Abx3 })
        {
            var table = new RoleDescriptors().Compute(structures, scheme);
            Assert.That(table.Scheme, Is.EqualTo(scheme));
            Assert.That(table.Columns.Select(c => c.Description), Is.All.Not.Empty);
            for (int r = 0; r < table.RowCount; r++)
            for (int c = 0; c < table.Columns.Count; c++)
                Assert.That(double.IsFinite(table[r, c]), $"{table.Ids[r]} {table.Columns[c].Name}");
            var writer = new StringWriter();
            table.WriteCsv(writer);
            Assert.That(writer.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries), Has.Length.EqualTo(structures.Length + 1));
        }
    }
}
