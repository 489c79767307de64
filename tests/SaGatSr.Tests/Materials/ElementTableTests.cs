using SaGatSr.Gat.Materials;

namespace SaGatSr.Tests.Materials;

public class ElementTableTests
{
    [Test]
    public void ShippedTableMatchesWhatTheGeneratorProducesFromTheJson()
    {
        string generated = ElementTableGenerator.Generate(MaterialsTestData.PeriodicTableJson);
        string shipped = File.ReadAllText(MaterialsTestData.ShippedElementTable).Replace("\r\n", "\n");
        Assert.That(shipped, Is.EqualTo(generated), "run the explicit test RegenerateShippedTable after changing the generator");
    }

    [Test, Explicit("writes src/Gat/Materials/Data/elements.csv")]
    public void RegenerateShippedTable() =>
        File.WriteAllText(MaterialsTestData.ShippedElementTable, ElementTableGenerator.Generate(MaterialsTestData.PeriodicTableJson));

    [Test]
    public void KnownValuesAreParsedFromTheSourceStrings()
    {
        var table = ElementTable.Default;
        Assert.Multiple(() =>
        {
            // hand-checked against periodic_table.json
            Assert.That(table.RawValue(26, table.IndexOf("T_melt")), Is.EqualTo(1811));
            Assert.That(table.RawValue(26, table.IndexOf("V_molar")), Is.EqualTo(7.09));
            Assert.That(table.RawValue(26, table.IndexOf("rho")), Is.EqualTo(7.874).Within(1e-12));
            Assert.That(table.RawValue(26, table.IndexOf("val_d")), Is.EqualTo(6));
            Assert.That(table.RawValue(26, table.IndexOf("val_s")), Is.EqualTo(2));
            Assert.That(table.RawValue(26, table.IndexOf("unf_d")), Is.EqualTo(4));
            Assert.That(table.RawValue(82, table.IndexOf("val_total")), Is.EqualTo(2 + 2 + 10 + 14));
            Assert.That(table.RawValue(15, table.IndexOf("T_melt")), Is.EqualTo(317.3), "'(white P) 317.3 K'");
            Assert.That(table.RawValue(16, table.IndexOf("log_resist")), Is.EqualTo(23), "'&gt; 10^23 10^-8 Ohm m'");
            Assert.That(table.RawValue(8, table.IndexOf("IE2")), Is.EqualTo(35.1211).Within(1e-3));
            Assert.That(table.RawValue(1, table.IndexOf("IE2")), Is.Null, "hydrogen has one electron");
            Assert.That(table.RawValue(26, table.IndexOf("group")), Is.EqualTo(8));
            Assert.That(table.RawValue(82, table.IndexOf("group")), Is.EqualTo(14));
            Assert.That(table.RawValue(58, table.IndexOf("block_f")), Is.EqualTo(1));
            Assert.That(table.RawValue(2, table.IndexOf("block_s")), Is.EqualTo(1));
            Assert.That(table.RawValue(86, table.IndexOf("period")), Is.EqualTo(6));
        });
    }

    [Test]
    public void MissingValuesAreImputedWithTheColumnMedianAndDocumented()
    {
        var table = ElementTable.Default;
        int ie2 = table.IndexOf("IE2");
        var present = Enumerable.Range(1, Elements.Count).Select(z => table.RawValue(z, ie2)).OfType<double>().Order().ToArray();
        double median = present.Length % 2 == 1 ? present[present.Length / 2] : 0.5 * (present[present.Length / 2 - 1] + present[present.Length / 2]);
        Assert.That(table.Value(1, ie2), Is.EqualTo(median));
        Assert.That(table.Properties[ie2].Description, Does.Contain("imputed with the median"));
        for (int z = 1; z <= Elements.Count; z++)
        for (int p = 0; p < table.Properties.Count; p++)
            Assert.That(double.IsFinite(table.Value(z, p)), $"{Elements.Symbol(z)} {table.Properties[p].Name}");
    }
}
