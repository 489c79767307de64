using SaGatSr.Gat.Materials;

namespace SaGatSr.Tests.Materials;

public class ElementsTests
{
    [TestCase("Fe", 26)]
    [TestCase("FE", 26)]
    [TestCase("Fe3+", 26)]
    [TestCase("O2-", 8)]
    [TestCase("Fe_pv", 26)]
    [TestCase("Fe/4a1b2c", 26)]
    [TestCase("D", 1)]
    [TestCase("Og", 118)]
    public void StrictSymbolsAcceptDecorations(string text, int z)
    {
        Assert.That(Elements.TryParseSymbol(text, out int parsed), Is.True);
        Assert.That(parsed, Is.EqualTo(z));
    }

    [TestCase("System")]
    [TestCase("OH")]
    [TestCase("Xx")]
    [TestCase("1")]
    [TestCase("")]
    public void StrictSymbolsRejectNonElements(string text) => Assert.That(Elements.TryParseSymbol(text, out _), Is.False);

    [TestCase(1, 1, 1, 0)]
    [TestCase(2, 18, 1, 0)]
    [TestCase(5, 13, 2, 1)]
    [TestCase(26, 8, 4, 2)]
    [TestCase(57, 3, 6, 3)]
    [TestCase(72, 4, 6, 2)]
    [TestCase(82, 14, 6, 1)]
    [TestCase(88, 2, 7, 0)]
    [TestCase(104, 4, 7, 2)]
    [TestCase(118, 18, 7, 1)]
    public void GroupPeriodAndBlock(int z, int group, int period, int block)
    {
        Assert.That(Elements.Group(z), Is.EqualTo(group));
        Assert.That(Elements.Period(z), Is.EqualTo(period));
        Assert.That(Elements.Block(z), Is.EqualTo(block));
    }
}
