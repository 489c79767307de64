using SaGatSr.Kernels.Expressions;
using SaGatSr.Symbolic;

namespace SaGatSr.Tests.Symbolic;

public class SissoRecoveryTests
{
    /// <summary>Columns named as given, uniform in [lo, hi], plus noise features; the target computed in float64.</summary>
    internal static (FeatureTable Table, double[] Y) Synthetic(int seed, int samples, (string Name, double Lo, double Hi)[] inputs, int noise,
        Func<Dictionary<string, double>, double> formula)
    {
        var random = new Random(seed);
        var names = inputs.Select(i => i.Name).Concat(Enumerable.Range(0, noise).Select(k => $"noise{k}")).ToArray();
        var columns = names.Select(_ => new double[samples]).ToArray();
        var y = new double[samples];
        for (int s = 0; s < samples; s++)
        {
            var row = new Dictionary<string, double>();
            for (int f = 0; f < names.Length; f++)
            {
                var (lo, hi) = f < inputs.Length ? (inputs[f].Lo, inputs[f].Hi) : (-1.0, 3.0);
                columns[f][s] = lo + (hi - lo) * random.NextDouble();
                row[names[f]] = columns[f][s];
            }

            y[s] = formula(row);
        }

        // Shuffle the column order so the planted features are not simply the first ones.
        var order = Enumerable.Range(0, names.Length).OrderBy(_ => random.Next()).ToArray();
        return (new FeatureTable(order.Select(i => names[i]).ToArray(), order.Select(i => columns[i]).ToArray()), y);
    }

    internal static void AssertRecovered(Formula formula, FeatureTable table, Dictionary<string, double> expected)
    {
        var terms = CanonicalForm.Terms(formula.Expression, i => table.Names[i])
            .Where(t => Math.Abs(t.Value) > 1e-7).ToDictionary(t => t.Key, t => t.Value);
        Assert.That(terms.Keys, Is.EquivalentTo(expected.Keys), $"recovered {formula.ToText()}");
        foreach (var (key, value) in expected)
            Assert.That(terms[key], Is.EqualTo(value).Within(1e-3), $"coefficient of {key} in {formula.ToText()}");
    }

    [Test]
    public void RecoversPlantedFormulaAmongTwentyNoiseFeatures()
    {
        var (table, y) = Synthetic(11, 120, [("a", 0.5, 3), ("b", 0.5, 3), ("c", -2, 2)], 20,
            r => 2.5 * r["a"] / r["b"] - 1.2 * r["c"] * r["c"] + 0.3);
        var result = SymbolicRegressor.Fit(table, y, new SrOptions { Rungs = 1, MaxTerms = 3, SubspaceSize = 40 });

        AssertRecovered(result.Best, table, new() { ["1"] = 0.3, ["a*b^-1"] = 2.5, ["c^2"] = -1.2 });
        Assert.That(result.Best.R2, Is.GreaterThan(1 - 1e-9));
        Assert.That(result.ParetoFront.Select(f => f.Complexity), Is.Ordered.Ascending);
        Assert.That(result.ParetoFront.Select(f => f.Rmse), Is.Ordered.Descending);
    }

    [Test]
    public void SameOptionsGiveTheSameResult()
    {
        var (table, y) = Synthetic(5, 60, [("a", 0.5, 3), ("b", 0.5, 3)], 6, r => Math.Sqrt(r["a"]) * r["b"] + 1);
        var options = new SrOptions { Rungs = 2, MaxTerms = 2, SubspaceSize = 20 };
        var first = SymbolicRegressor.Fit(table, y, options);
        var second = SymbolicRegressor.Fit(table, y, options);
        Assert.That(second.ParetoFront.Select(f => f.ToText()), Is.EqualTo(first.ParetoFront.Select(f => f.ToText())));
    }

    // Feynman Symbolic Regression Database (Udrescu & Tegmark 2020) equations, with noise features added.
    [TestCase("I.14.4 U = k x^2 / 2", 2)]
    [TestCase("I.39.1 E = 3/2 p V", 1)]
    [TestCase("II.3.24 h = P / (4 pi r^2)", 2)]
    [TestCase("I.12.1 F = mu N", 1)]
    public void RecoversFeynmanEquation(string equation, int rungs)
    {
        var id = equation.Split(' ')[0];
        var (table, y, expected) = id switch
        {
            "I.14.4" => Pack(Synthetic(21, 80, [("k", 1, 5), ("x", 1, 5)], 5, r => 0.5 * r["k"] * r["x"] * r["x"]),
                new() { ["k*x^2"] = 0.5 }),
            "I.39.1" => Pack(Synthetic(22, 80, [("p", 1, 5), ("V", 1, 5)], 5, r => 1.5 * r["p"] * r["V"]),
                new() { ["V*p"] = 1.5 }),
            "II.3.24" => Pack(Synthetic(23, 80, [("P", 1, 5), ("r", 1, 5)], 5, r => r["P"] / (4 * Math.PI * r["r"] * r["r"])),
                new() { ["P*r^-2"] = 1 / (4 * Math.PI) }),
            _ => Pack(Synthetic(24, 80, [("mu", 1, 5), ("N", 1, 5)], 5, r => r["mu"] * r["N"]),
                new() { ["N*mu"] = 1.0 }),
        };
        var result = SymbolicRegressor.Fit(table, y, new SrOptions { Rungs = rungs, MaxTerms = 2, SubspaceSize = 30, MaxFeatureComplexity = 5 });
        AssertRecovered(result.Best, table, expected);
    }

    private static (FeatureTable, double[], Dictionary<string, double>) Pack((FeatureTable Table, double[] Y) data, Dictionary<string, double> expected) =>
        (data.Table, data.Y, expected);

    [TestCaseSource(typeof(TestDevices), nameof(TestDevices.Accelerated))]
    public void IlgpuDeviceScreensToTheSameFormula(string device)
    {
        var (table, y) = Synthetic(12, 60, [("a", 0.5, 3), ("b", 0.5, 3), ("c", -2, 2)], 4,
            r => 2.5 * r["a"] / r["b"] - 1.2 * r["c"] * r["c"] + 0.3);
        var result = SymbolicRegressor.Fit(table, y, new SrOptions { Rungs = 1, MaxTerms = 2, SubspaceSize = 20, Device = device,
            Operators = ["+", "-", "*", "/", "^2"] });
        AssertRecovered(result.Best, table, new() { ["1"] = 0.3, ["a*b^-1"] = 2.5, ["c^2"] = -1.2 });
        Assert.That(result.Device, Does.StartWith(TestDevices.IsEmulated(device) ? "ilgpu-ilgpucpu" : $"ilgpu-{device}"));
    }
}
