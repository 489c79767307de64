using SaGatSr.Symbolic;

namespace SaGatSr.Tests.Symbolic;

public class ExhaustiveSpaceTests
{
    private static FeatureTable Uniform(int seed, int samples, int features, out Random random)
    {
        random = new Random(seed);
        var r = random;
        var columns = Enumerable.Range(0, features).Select(_ => Enumerable.Range(0, samples).Select(_ => 0.5 + 2.5 * r.NextDouble()).ToArray()).ToArray();
        return new FeatureTable(Enumerable.Range(1, features).Select(f => $"x{f}").ToArray(), columns);
    }

    private static readonly string[] AllSissoOperators = ["+", "-", "*", "/", "exp", "log", "^-1", "^2", "^3", "sqrt", "cbrt", "|a-b|"];

    /// <summary>
    /// The counts SISSO 3.5 (rouyang2017/SISSO) prints for 4 primary features in [0.5, 3] at fcomplexity 3 ("Total number of
    /// features in the space Phi01", "Total number of newly generated features"): the same rules give the same space.
    /// </summary>
    [TestCase(new[] { "+", "-", "*", "/" }, 36, 3834)]
    [TestCase(null, 70, 16548)]
    public void SpaceHasSissosSize(string[]? operators, long rung1, long rung2)
    {
        var table = Uniform(2, 50, 4, out var random);
        var y = table.Columns[0].Select(v => v + random.NextDouble()).ToArray();
        var result = SymbolicRegressor.Fit(table, y, new SrOptions
        {
            Exhaustive = true, Rungs = 2, MaxFeatureOperators = 3, MaxTerms = 1, SubspaceSize = 5, Operators = operators ?? AllSissoOperators,
        });
        Assert.That(result.SpaceSize, Is.EqualTo(4 + rung1 + rung2));
    }

    [Test]
    public void FindsTheProductOfDifferencesAsOneFeature()
    {
        // Neither difference correlates with y alone, so a space that extends only the best rung-1 features misses it.
        var table = Uniform(7, 80, 20, out _);
        var c = table.Columns;
        var y = Enumerable.Range(0, 80).Select(s => 3 * (c[0][s] - c[1][s]) * (c[2][s] - c[3][s]) + 1).ToArray();
        var result = SymbolicRegressor.Fit(table, y, new SrOptions
        {
            Exhaustive = true, Rungs = 2, MaxTerms = 1, SubspaceSize = 10, Operators = ["+", "-", "*", "/"],
        });

        SissoRecoveryTests.AssertRecovered(result.Best, table, new()
        {
            ["1"] = 1, ["x1*x3"] = 3, ["x1*x4"] = -3, ["x2*x3"] = -3, ["x2*x4"] = 3,
        });
        Assert.That(result.Best.Expression.Nodes().Count(e => e.Op == SaGatSr.Kernels.Expressions.ExprOpCode.Mul), Is.EqualTo(2), result.Best.ToText());
    }

    [Test]
    public void NarrowScreeningKeepsTheHeadOfAWideOne()
    {
        // A subspace of 3 compacts its pool thousands of times; it must hold what a pool of 150 ranks first.
        var table = Uniform(5, 40, 6, out var random);
        var y = table.Columns[1].Zip(table.Columns[4], (a, b) => a / b + 0.3 * random.NextDouble()).ToArray();
        SrResult Run(int subspace) => SymbolicRegressor.Fit(table, y, new SrOptions
        {
            Exhaustive = true, Rungs = 2, MaxTerms = 1, SubspaceSize = subspace, Operators = AllSissoOperators,
        });
        var narrow = Run(3).Subspaces.Select(s => s.Text).ToList();
        var wide = Run(150).Subspaces.Select(s => s.Text).ToList();
        Assert.That(narrow, Is.EqualTo(wide.Take(3)));
        Assert.That(wide, Is.Unique);
    }

    [Test]
    public void FeatureOperatorLimitBoundsEveryScreenedFeature()
    {
        var table = Uniform(9, 40, 5, out var random);
        var y = table.Columns[0].Select((v, s) => v * table.Columns[1][s] + random.NextDouble()).ToArray();
        var result = SymbolicRegressor.Fit(table, y, new SrOptions
        {
            Exhaustive = true, Rungs = 2, MaxFeatureOperators = 2, MaxTerms = 2, SubspaceSize = 30, Operators = AllSissoOperators,
        });
        Assert.That(result.Subspaces, Has.Count.EqualTo(60));
        Assert.That(result.Subspaces.Max(s => s.Feature.Nodes().Count(e => !e.IsLeaf)), Is.EqualTo(2));
        var full = SymbolicRegressor.Fit(table, y, new SrOptions
        {
            Exhaustive = true, Rungs = 2, MaxTerms = 1, SubspaceSize = 5, Operators = AllSissoOperators,
        });
        Assert.That(result.SpaceSize, Is.LessThan(full.SpaceSize));
    }
}
