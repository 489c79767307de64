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

    [TestCase("sisso")]
    [TestCase("gp")]
    public void ConstantTargetGivesTheConstantAndNonFiniteTargetsAreRejected(string engine)
    {
        var (table, _) = SissoRecoveryTests.Synthetic(2, 20, [("a", 1, 2)], 2, r => r["a"]);
        var options = new SrOptions { Engine = engine, Rungs = 1, Generations = 3, PopulationSize = 20, Islands = 1 };
        var result = SymbolicRegressor.Fit(table, Enumerable.Repeat(4.25, 20).ToArray(), options);
        Assert.That(result.Best.Evaluate(table), Is.All.EqualTo(4.25).Within(1e-9));

        var y = Enumerable.Repeat(1.0, 20).ToArray();
        y[7] = double.NaN;
        Assert.That(Assert.Throws<ArgumentException>(() => SymbolicRegressor.Fit(table, y, options))!.Message, Does.Contain("Target value 7"));
    }
}
