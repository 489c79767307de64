using SaGatSr.Kernels.Expressions;
using SaGatSr.Symbolic;

namespace SaGatSr.Tests.Symbolic;

public class FormulaOutputTests
{
    private static (SrResult Result, FeatureTable Table, double[] Y) Fitted()
    {
        var (table, y) = SissoRecoveryTests.Synthetic(3, 50, [("a", 0.5, 3), ("b_1", 0.5, 3)], 3, r => 2 * r["a"] / r["b_1"] + 1);
        return (SymbolicRegressor.Fit(table, y, new SrOptions { Rungs = 1, MaxTerms = 2, SubspaceSize = 10 }), table, y);
    }

    [Test]
    public void PrintsTextLatexAndCSharpWithFeatureNames()
    {
        var (result, table, y) = Fitted();
        var best = result.Best;
        Assert.That(best.ToText(), Does.Contain("a / b_1"));
        Assert.That(best.ToLatex(), Does.Contain("\\frac{a}{\\mathrm{b\\_1}}"));
        Assert.That(best.ToCSharp("Gap"), Does.Contain("public static double Gap(double @a, double @b_1)"));
        Assert.That(best.UsedFeatures, Is.EquivalentTo(new[] { "a", "b_1" }));
        Assert.That(best.ToSimplifiedText(), Is.EqualTo("1 + 2*a*b_1^-1"));
        Assert.That(best.Coefficients, Is.EqualTo(new[] { 1.0, 2.0 }).Within(1e-9));
        Assert.That(best.Complexity, Is.EqualTo(best.Expression.Size));
        var prediction = best.Evaluate(table);
        for (int i = 0; i < y.Length; i++) Assert.That(prediction[i], Is.EqualTo(y[i]).Within(1e-8));
    }

    [Test]
    public void ParetoCsvHasOneRowPerFrontMemberAndMarksTheBest()
    {
        var (result, _, _) = Fitted();
        var path = Path.Combine(TestContext.CurrentContext.WorkDirectory, "pareto-test.csv");
        FormulaReport.WriteParetoCsv(result, path);
        var lines = File.ReadAllLines(path);
        Assert.That(lines[0], Is.EqualTo("complexity,mae,rmse,r2,best,formula"));
        Assert.That(lines.Length, Is.EqualTo(result.ParetoFront.Count + 1));
        Assert.That(lines.Count(l => l.Split(',')[4] == "1"), Is.EqualTo(1));
        Assert.That(FormulaReport.Describe(result), Does.Contain("best: " + result.Best.ToText()));
        File.Delete(path);
    }

    [Test]
    public void CanonicalFormIdentifiesAlgebraicallyEqualTrees()
    {
        Expr a = Expr.Var(0), b = Expr.Var(1), c = Expr.Var(2);
        var quotient = Expr.Binary(ExprOpCode.Div, Expr.Binary(ExprOpCode.Mul, Expr.Const(2), a), b);
        var product = Expr.Binary(ExprOpCode.Mul, a, Expr.Binary(ExprOpCode.Mul, Expr.Const(2), Expr.Unary(ExprOpCode.Inverse, b)));
        Assert.That(CanonicalForm.Terms(product), Is.EquivalentTo(CanonicalForm.Terms(quotient)));
        var squared = Expr.Unary(ExprOpCode.Square, Expr.Binary(ExprOpCode.Add, a, c));
        var expanded = Expr.Binary(ExprOpCode.Add, Expr.Binary(ExprOpCode.Mul, a, a),
            Expr.Binary(ExprOpCode.Add, Expr.Binary(ExprOpCode.Mul, Expr.Const(2), Expr.Binary(ExprOpCode.Mul, a, c)), Expr.Unary(ExprOpCode.Square, c)));
        Assert.That(CanonicalForm.Structure(squared), Is.EqualTo(CanonicalForm.Structure(expanded)));
        Assert.That(CanonicalForm.Structure(Expr.Unary(ExprOpCode.Exp, a)), Is.Not.EqualTo(CanonicalForm.Structure(Expr.Unary(ExprOpCode.Log, a))));
    }
}

public class FormulaJsonTests
{
    /// <summary>What a user does with formulas.json: evaluate each postfix program with a stack, compare to its RMSE.</summary>
    private static double[] EvaluatePostfix(System.Text.Json.JsonElement postfix, FeatureTable table)
    {
        var result = new double[table.SampleCount];
        for (int s = 0; s < table.SampleCount; s++)
        {
            var stack = new Stack<double>();
            foreach (var token in postfix.EnumerateArray())
            {
                if (token.TryGetProperty("feature", out var feature)) stack.Push(table.Columns[table.IndexOf(feature.GetString()!)][s]);
                else if (token.TryGetProperty("constant", out var constant)) stack.Push(constant.GetDouble());
                else
                {
                    string op = token.GetProperty("operator").GetString()!;
                    double b = stack.Pop();
                    stack.Push(op switch
                    {
                        "+" => stack.Pop() + b, "-" => stack.Pop() - b, "*" => stack.Pop() * b, "/" => stack.Pop() / b,
                        "|a-b|" => Math.Abs(stack.Pop() - b), "exp" => Math.Exp(b), "log" => Math.Log(b), "sqrt" => Math.Sqrt(b),
                        "cbrt" => Math.Cbrt(b), "^-1" => 1 / b, "^2" => b * b, "^3" => b * b * b, "abs" => Math.Abs(b), "neg" => -b,
                        _ => throw new InvalidDataException($"operator {op}"),
                    });
                }
            }

            result[s] = stack.Single();
        }

        return result;
    }

    [TestCase("sisso")]
    [TestCase("gp")]
    public void ReEvaluatedFormulasGiveTheirReportedErrors(string engine)
    {
        var (table, y) = SissoRecoveryTests.Synthetic(12, 60, [("a", 0.5, 3), ("b", 0.5, 3)], 3, r => Math.Exp(0.3 * r["a"]) / r["b"] + 0.1 * r["a"]);
        var result = SymbolicRegressor.Fit(table, y, new SrOptions
        {
            Engine = engine, Rungs = 2, MaxTerms = 2, SubspaceSize = 10, Islands = 2, PopulationSize = 60, Generations = 10,
        });
        var path = Path.Combine(TestPaths.NewTemporaryFolder(), "formulas.json");
        FormulaReport.WriteJson(result, "y", path);
        using var json = System.Text.Json.JsonDocument.Parse(File.ReadAllText(path));
        var formulas = json.RootElement.GetProperty("formulas").EnumerateArray().ToList();
        Assert.That(formulas, Has.Count.EqualTo(result.ParetoFront.Count));
        Assert.That(formulas.Count(f => f.GetProperty("chosen").GetBoolean()), Is.EqualTo(1));
        foreach (var formula in formulas)
        {
            var prediction = EvaluatePostfix(formula.GetProperty("postfix"), table);
            double rmse = Math.Sqrt(prediction.Zip(y, (p, t) => (p - t) * (p - t)).Average());
            double reported = formula.GetProperty("rmse").GetDouble();
            Assert.That(rmse, Is.EqualTo(reported).Within(1e-12 * (1 + reported)), formula.GetProperty("formula").GetString());
        }

        foreach (var f in result.ParetoFront)
        {
            var printed = System.Text.RegularExpressions.Regex.Matches(f.ToPreciseText(), @"(?<![\w^])\d+(\.\d+)?(E-?\d+)?")
                .Select(m => double.Parse(m.Value, System.Globalization.CultureInfo.InvariantCulture)).ToList();
            foreach (var c in f.Coefficients) Assert.That(printed, Does.Contain(Math.Abs(c)), f.ToPreciseText());
        }
    }
}
