using SaGatSr.Kernels.Expressions;
using SaGatSr.Symbolic;

namespace SaGatSr.Tests.Symbolic;

public class UnitTests
{
    [Test]
    public void UnitArithmeticFollowsDimensionalAnalysis()
    {
        var metre = Unit.Parse("m");
        var speed = Unit.Parse("m s^-1");
        Assert.That(Unit.Apply(ExprOpCode.Div, metre, Unit.Parse("s")), Is.EqualTo(speed));
        Assert.That(Unit.Apply(ExprOpCode.Add, metre, speed), Is.Null);
        Assert.That(Unit.Apply(ExprOpCode.Sub, speed, Unit.Parse("s^-1 m")), Is.EqualTo(speed));
        Assert.That(Unit.Apply(ExprOpCode.Log, metre), Is.Null);
        Assert.That(Unit.Apply(ExprOpCode.Exp, Unit.Apply(ExprOpCode.Div, metre, metre)!), Is.EqualTo(Unit.Dimensionless));
        Assert.That(Unit.Apply(ExprOpCode.Sqrt, Unit.Parse("m^2"))!.ToString(), Is.EqualTo("m"));
        Assert.Throws<FormatException>(() => Unit.Parse("m^x"));
    }

    [Test]
    public void SissoDoesNotAddQuantitiesOfDifferentUnits()
    {
        var (table, yUnitless) = SissoRecoveryTests.Synthetic(41, 60, [("a", 0.5, 3), ("c", 0.5, 3)], 2, r => r["a"] + r["c"]);
        var options = new SrOptions { Rungs = 1, MaxTerms = 1, SubspaceSize = 10, Operators = ["+", "-", "*", "/"] };
        // a + c is a 1-term feature without units, but a 2-term model is needed once a is in metres and c in seconds.
        var free = SymbolicRegressor.Fit(table, yUnitless, options);
        Assert.That(free.Best.R2, Is.GreaterThan(1 - 1e-9), free.Best.ToText());

        options.Units = new Dictionary<string, string> { ["a"] = "m", ["c"] = "s" };
        var constrained = SymbolicRegressor.Fit(table, yUnitless, options);
        Assert.That(constrained.ParetoFront.Max(f => f.R2), Is.LessThan(1 - 1e-6), constrained.Best.ToText());
        options.MaxTerms = 2;
        Assert.That(SymbolicRegressor.Fit(table, yUnitless, options).Best.R2, Is.GreaterThan(1 - 1e-9));

        options.Units = new Dictionary<string, string> { ["nope"] = "m" };
        Assert.That(Assert.Throws<ArgumentException>(() => SymbolicRegressor.Fit(table, yUnitless, options))!.Message, Does.Contain("'nope'"));
    }
}
