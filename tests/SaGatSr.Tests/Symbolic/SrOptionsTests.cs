using SaGatSr.Symbolic;

namespace SaGatSr.Tests.Symbolic;

public class SrOptionsTests
{
    [Test]
    public void OperatorListsParseAndUnknownOperatorsAreNamed()
    {
        Assert.That(SrOptions.ParseOperators("+, -,*,/ exp |a-b| ^2"), Is.EqualTo(new[] { "+", "-", "*", "/", "exp", "|a-b|", "^2" }));
        Assert.That(Assert.Throws<ArgumentException>(() => SrOptions.ParseOperators("+,sin"))!.Message, Does.Contain("'sin'"));
        var (table, y) = SissoRecoveryTests.Synthetic(1, 10, [("a", 1, 2)], 0, r => r["a"]);
        Assert.Throws<ArgumentException>(() => SymbolicRegressor.Fit(table, y, new SrOptions { Engine = "pysr" }));
        Assert.Throws<ArgumentException>(() => SymbolicRegressor.Fit(table, y[..5], new SrOptions()));
    }
}
