using SaGatSr.Symbolic;

namespace SaGatSr.Tests.Symbolic;

public class GpTests
{
    private static SrOptions Options(int seed) => new()
    {
        Engine = "gp", Seed = seed, Islands = 2, PopulationSize = 120, Generations = 60, MaxComplexity = 20,
        Operators = ["+", "-", "*", "/", "^2"],
    };

    [Test]
    public void FindsAnExactShapeAndReportsAParetoFront()
    {
        var (table, y) = SissoRecoveryTests.Synthetic(31, 80, [("a", 0.5, 3), ("b", 0.5, 3)], 3, r => 1.5 * r["a"] * r["b"] - 0.7);
        var result = SymbolicRegressor.Fit(table, y, Options(1));

        SissoRecoveryTests.AssertRecovered(result.Best, table, new() { ["1"] = -0.7, ["a*b"] = 1.5 });
        Assert.That(result.ParetoFront.Select(f => f.Complexity), Is.Ordered.Ascending);
        Assert.That(result.Evaluations, Is.GreaterThan(120 * 2 * 10));
    }

    [Test]
    public void RecoversFeynmanI_14_4()
    {
        // U = k x^2 / 2 (Feynman database I.14.4) among noise features.
        var (table, y) = SissoRecoveryTests.Synthetic(35, 80, [("k", 1, 5), ("x", 1, 5)], 4, r => 0.5 * r["k"] * r["x"] * r["x"]);
        var result = SymbolicRegressor.Fit(table, y, Options(3));
        SissoRecoveryTests.AssertRecovered(result.Best, table, new() { ["k*x^2"] = 0.5 });
    }

    [Test]
    public void SameSeedGivesTheSameFront()
    {
        var (table, y) = SissoRecoveryTests.Synthetic(32, 50, [("a", 0.5, 3), ("b", 0.5, 3)], 2, r => r["a"] / r["b"] + r["a"]);
        var options = Options(7);
        options.Generations = 15;
        var first = SymbolicRegressor.Fit(table, y, options);
        var second = SymbolicRegressor.Fit(table, y, options);
        Assert.That(second.ParetoFront.Select(f => f.ToText()), Is.EqualTo(first.ParetoFront.Select(f => f.ToText())));
        Assert.That(second.Evaluations, Is.EqualTo(first.Evaluations));
    }

    [Test]
    public void CancellationStopsTheSearch()
    {
        var (table, y) = SissoRecoveryTests.Synthetic(33, 30, [("a", 0.5, 3)], 1, r => r["a"]);
        using var cancel = new CancellationTokenSource();
        cancel.Cancel();
        Assert.Catch<OperationCanceledException>(() => SymbolicRegressor.Fit(table, y, Options(1), null, cancel.Token));
    }

    [TestCase("gp")]
    [TestCase("sisso")]
    public void ReportsMonotonicProgress(string engine)
    {
        var (table, y) = SissoRecoveryTests.Synthetic(34, 30, [("a", 0.5, 3)], 1, r => r["a"] * r["a"]);
        var reports = new List<SrProgress>();
        var options = Options(1);
        options.Engine = engine;
        options.Generations = 10;
        SymbolicRegressor.Fit(table, y, options, new SynchronousProgress(reports.Add));
        Assert.That(reports, Is.Not.Empty);
        Assert.That(reports.Select(r => r.Fraction), Is.Ordered.Ascending);
        Assert.That(reports[^1].Fraction, Is.EqualTo(1.0));
    }

    private sealed class SynchronousProgress(Action<SrProgress> report) : IProgress<SrProgress>
    {
        public void Report(SrProgress value) => report(value);
    }
}
