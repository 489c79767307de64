using SaGatSr.Symbolic;

namespace SaGatSr.Tests.Symbolic;

public class FeatureTableTests
{
    private static string Write(string name, string text)
    {
        var path = Path.Combine(TestContext.CurrentContext.WorkDirectory, name);
        File.WriteAllText(path, text);
        return path;
    }

    [Test]
    public void ReadsNumericColumnsSkipsIdColumnsAndSplitsOffTheTarget()
    {
        var path = Write("table-ok.csv", "id,x,\"y, eV\",z\nmp-1,1.5,2,3e-1\nmp-2,-2,4,\"5\"\n");
        var table = FeatureTable.ReadCsv(path, "y, eV", out var target);
        Assert.That(table.Names, Is.EqualTo(new[] { "x", "z" }));
        Assert.That(table.IgnoredColumns, Is.EqualTo(new[] { "id" }));
        Assert.That(target, Is.EqualTo(new[] { 2.0, 4.0 }));
        Assert.That(table.Columns[1], Is.EqualTo(new[] { 0.3, 5.0 }));
    }

    [Test]
    public void MalformedNumberNamesFileLineAndColumn()
    {
        var path = Write("table-bad.csv", "x,y\n1,2\n3,4\n1.2.3,5\n");
        var error = Assert.Throws<FormatException>(() => FeatureTable.ReadCsv(path, "y", out _));
        Assert.That(error!.Message, Does.Contain("table-bad.csv:4").And.Contain("'x'").And.Contain("1.2.3"));
    }

    [Test]
    public void UnknownTargetListsTheColumns()
    {
        var path = Write("table-target.csv", "x,y\n1,2\n");
        var error = Assert.Throws<ArgumentException>(() => FeatureTable.ReadCsv(path, "gap", out _));
        Assert.That(error!.Message, Does.Contain("'gap'").And.Contain("x, y"));
    }

    [Test]
    public void RaggedRowIsReported()
    {
        var path = Write("table-ragged.csv", "x,y\n1,2\n3\n");
        var error = Assert.Throws<FormatException>(() => FeatureTable.ReadCsv(path, "y", out _));
        Assert.That(error!.Message, Does.Contain("table-ragged.csv:3"));
    }
}
