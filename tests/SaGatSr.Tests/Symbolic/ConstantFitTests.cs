using SaGatSr.Kernels.Expressions;
using SaGatSr.Symbolic;

namespace SaGatSr.Tests.Symbolic;

public class ConstantFitTests
{
    [Test]
    public void RefitMakesPerturbedConstantsExact()
    {
        // 0.3 + 2.5 a / (b + 0.37), with every constant off as a search leaves them.
        var random = new Random(8);
        double[] a = Enumerable.Range(0, 40).Select(_ => 0.5 + 2.5 * random.NextDouble()).ToArray();
        double[] b = Enumerable.Range(0, 40).Select(_ => 0.5 + 2.5 * random.NextDouble()).ToArray();
        var y = a.Zip(b, (u, v) => 0.3 + 2.5 * u / (v + 0.37)).ToArray();
        Expr Model(double c0, double c1, double c2) => Expr.Binary(ExprOpCode.Add, Expr.Const(c0),
            Expr.Binary(ExprOpCode.Mul, Expr.Const(c1), Expr.Binary(ExprOpCode.Div, Expr.Var(0), Expr.Binary(ExprOpCode.Add, Expr.Var(1), Expr.Const(c2)))));

        var refined = ConstantFit.Refine(Model(0.31, 2.50005, 0.36), [a, b], y);
        var constants = refined.Nodes().Where(e => e.Op == ExprOpCode.Constant).Select(e => e.Value).ToArray();
        Assert.That(constants, Is.EqualTo(new[] { 0.3, 2.5, 0.37 }).Within(1e-10));
    }

    [Test]
    public void RefitKeepsAFormulaItCannotImprove()
    {
        var x = new[] { 1.0, 2, 3, 4 };
        var model = Expr.Binary(ExprOpCode.Mul, Expr.Const(2), Expr.Var(0));
        var refined = ConstantFit.Refine(model, [x], x.Select(v => 2 * v).ToArray());
        Assert.That(refined.ToString(), Is.EqualTo(model.ToString()));
        Assert.That(refined.Left!.Value, Is.EqualTo(2.0));
        var noConstants = Expr.Var(0);
        Assert.That(ConstantFit.Refine(noConstants, [x], x), Is.SameAs(noConstants));
    }

    [Test]
    public void GpReturnsLeastSquaresConstants()
    {
        var (table, y) = SissoRecoveryTests.Synthetic(31, 80, [("a", 0.5, 3), ("b", 0.5, 3)], 3, r => 2.5 * r["a"] / (r["b"] + 0.37) + 0.3);
        var result = SymbolicRegressor.Fit(table, y, new SrOptions
        {
            Engine = "gp", Seed = 2, Islands = 2, PopulationSize = 150, Generations = 80, MaxComplexity = 20, Operators = ["+", "-", "*", "/"],
        });
        // The shape a / (b + c) is found with c near 0.37; only the refit brings the error down to round-off.
        double spread = Math.Sqrt(y.Select(v => (v - y.Average()) * (v - y.Average())).Average());
        Assert.That(result.Best.Rmse, Is.LessThan(1e-10 * spread), result.Best.ToText());
    }
}
