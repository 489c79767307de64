using System.Globalization;
using System.Text;

namespace SaGatSr.Symbolic;

/// <summary>A fitted formula over named features, with its error on the data it was fitted to.</summary>
public sealed class Formula
{
    private readonly string[] featureNames;

    public Expr Expression { get; }
    public int Complexity => Expression.Size;
    public double Mae { get; }
    public double Rmse { get; }
    public double R2 { get; }
    /// <summary>Feature names in first-use order.</summary>
    public IReadOnlyList<string> UsedFeatures { get; }
    /// <summary>Constants of the expression in print order (for a SISSO model: intercept and term coefficients).</summary>
    public IReadOnlyList<double> Coefficients { get; }

    internal Formula(Expr expression, string[] featureNames, double[] prediction, double[] target)
    {
        Expression = expression;
        this.featureNames = featureNames;
        UsedFeatures = expression.Nodes().Where(n => n.Op == Kernels.Expressions.ExprOpCode.Column)
            .Select(n => featureNames[n.Feature]).Distinct().ToArray();
        Coefficients = expression.Nodes().Where(n => n.Op == Kernels.Expressions.ExprOpCode.Constant).Select(n => n.Value).ToArray();
        (Mae, Rmse, R2) = Metrics(prediction, target);
    }

    internal static (double Mae, double Rmse, double R2) Metrics(double[] prediction, double[] target)
    {
        double mean = target.Average(), abs = 0, sq = 0, total = 0;
        for (int i = 0; i < target.Length; i++)
        {
            double r = prediction[i] - target[i];
            abs += Math.Abs(r);
            sq += r * r;
            total += (target[i] - mean) * (target[i] - mean);
        }

        if (!double.IsFinite(sq)) return (double.NaN, double.NaN, double.NaN);
        return (abs / target.Length, Math.Sqrt(sq / target.Length), total > 0 ? 1 - sq / total : (sq == 0 ? 1 : double.NegativeInfinity));
    }

    private string Name(int feature) => featureNames[feature];

    public string ToText() => ExprPrinter.Text(Expression, Name);
    /// <summary>Text with round-trip constants: re-evaluated, it gives exactly the errors reported with it.</summary>
    public string ToPreciseText() => ExprPrinter.PreciseText(Expression, Name);

    /// <summary>
    /// The expression in postfix order: features by name, constants at full precision, operators by their names in
    /// <see cref="SrOptions.AllOperators"/> ("abs", "neg" for the unary forms): trivial to evaluate with a stack in any language.
    /// </summary>
    public IEnumerable<PostfixToken> ToPostfix()
    {
        var tokens = new List<PostfixToken>();
        void Walk(Expr e)
        {
            if (e.Left is not null) Walk(e.Left);
            if (e.Right is not null) Walk(e.Right);
            tokens.Add(e.Op switch
            {
                Kernels.Expressions.ExprOpCode.Column => new PostfixToken { Feature = Name(e.Feature) },
                Kernels.Expressions.ExprOpCode.Constant => new PostfixToken { Constant = e.Value },
                _ => new PostfixToken { Operator = Operators.Name(e.Op) },
            });
        }

        Walk(Expression);
        return tokens;
    }
    public string ToLatex() => ExprPrinter.Latex(Expression, Name);
    /// <summary>Expanded into a sum of monomials (see <see cref="CanonicalForm"/>): equivalent forms print alike.</summary>
    public string ToSimplifiedText() => CanonicalForm.Simplified(Expression, Name);

    /// <summary>A self-contained static C# method taking the used features as double parameters.</summary>
    public string ToCSharp(string methodName = "Predict")
    {
        var parameters = string.Join(", ", UsedFeatures.Select(f => "double " + ExprPrinter.CSharpName(f)));
        var sb = new StringBuilder();
        sb.AppendLine($"// {ToText()}  (complexity {Complexity}, RMSE {Rmse.ToString("G6", CultureInfo.InvariantCulture)}, R2 {R2.ToString("F6", CultureInfo.InvariantCulture)})");
        sb.AppendLine($"public static double {methodName}({parameters})");
        sb.AppendLine("{");
        sb.AppendLine("    static double Sq(double v) => v * v;");
        sb.AppendLine("    static double Cube(double v) => v * v * v;");
        sb.AppendLine("    static double Inv(double v) => 1.0 / v;");
        sb.AppendLine($"    return {ExprPrinter.CSharp(Expression, Name)};");
        sb.AppendLine("}");
        return sb.ToString();
    }

    /// <summary>Evaluates on any table that has the used features (matched by name), in float64.</summary>
    public double[] Evaluate(FeatureTable x)
    {
        var columns = new double[featureNames.Length][];
        var empty = new double[x.SampleCount];
        for (int f = 0; f < featureNames.Length; f++)
            columns[f] = UsedFeatures.Contains(featureNames[f]) ? x.Columns[x.IndexOf(featureNames[f])] : empty;
        return Expression.Evaluate(columns, x.SampleCount);
    }

    public override string ToString() => ToText();
}

/// <summary>A feature SIS put in the subspace for <paramref name="Dimension"/>-term models, with its |correlation| then.</summary>
public sealed record ScreenedFeature(int Dimension, Expr Feature, string Text, double Score);

public sealed class SrResult
{
    /// <summary>Non-dominated formulas, by increasing complexity (and so decreasing error).</summary>
    public required IReadOnlyList<Formula> ParetoFront { get; init; }
    /// <summary>Chosen by <see cref="ParetoSelection.PickBest"/>.</summary>
    public required Formula Best { get; init; }
    public required TimeSpan Elapsed { get; init; }
    /// <summary>Candidate expressions evaluated over all samples.</summary>
    public required long Evaluations { get; init; }
    public required string Engine { get; init; }
    public required string Device { get; init; }
    /// <summary>Wall time per stage: SISSO "space", "screen", "l0"; GP "evolve".</summary>
    public required IReadOnlyDictionary<string, double> StageSeconds { get; init; }
    /// <summary>SISSO: features in the space (the exhaustive space counts valid features, as SISSO does); GP: 0.</summary>
    public long SpaceSize { get; init; }
    /// <summary>SISSO: the screened subspaces in selection order; GP: empty.</summary>
    public IReadOnlyList<ScreenedFeature> Subspaces { get; init; } = [];
    /// <summary>Processes (MPI ranks) that shared the search.</summary>
    public int Ranks { get; init; } = 1;
}

/// <summary>Pareto front extraction and the choice of the best formula on it.</summary>
public static class ParetoSelection
{
    /// <summary>Keeps, per complexity, the lowest RMSE, then only formulas that beat every simpler one.</summary>
    public static List<Formula> Front(IEnumerable<Formula> candidates, int maxComplexity)
    {
        var front = new List<Formula>();
        foreach (var f in candidates.Where(f => double.IsFinite(f.Rmse) && f.Complexity <= maxComplexity)
                     .OrderBy(f => f.Complexity).ThenBy(f => f.Rmse))
            if (front.Count == 0 || f.Rmse < front[^1].Rmse * (1 - 1e-9) && f.Complexity > front[^1].Complexity)
                front.Add(f);
        return front;
    }

    /// <summary>
    /// PySR's rule: among formulas whose RMSE is within 1.5x of the front's best (floored at 1e-9 of the target's
    /// scale so round-off does not count), pick the largest score -d(log RMSE)/d(complexity) from the next simpler one.
    /// </summary>
    public static Formula PickBest(IReadOnlyList<Formula> front, double targetScale)
    {
        if (front.Count == 0) throw new InvalidOperationException("No valid formula was found (every candidate evaluated to NaN or infinity).");
        double floor = Math.Max(targetScale, double.Epsilon) * 1e-9;
        double Loss(Formula f) => Math.Max(f.Rmse, floor);
        double best = front.Min(Loss);
        Formula chosen = front[0];
        double bestScore = double.NegativeInfinity;
        for (int i = 0; i < front.Count; i++)
        {
            if (Loss(front[i]) > 1.5 * best) continue;
            double score = i == 0 ? 0 : -(Math.Log(Loss(front[i])) - Math.Log(Loss(front[i - 1]))) / (front[i].Complexity - front[i - 1].Complexity);
            if (score > bestScore) { bestScore = score; chosen = front[i]; }
        }

        return chosen;
    }
}

/// <summary>One postfix token: exactly one of the three is set.</summary>
public sealed record PostfixToken
{
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public string? Feature { get; init; }
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public double? Constant { get; init; }
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public string? Operator { get; init; }
}

public static class FormulaReport
{
    /// <summary>
    /// The Pareto front as JSON with full-precision errors and constants: per formula its complexity, MAE, RMSE, R^2,
    /// whether it is the chosen one, the precise text and the postfix program.
    /// </summary>
    public static void WriteJson(SrResult r, string target, string path)
    {
        var document = new
        {
            target,
            engine = r.Engine,
            ranks = r.Ranks,
            formulas = r.ParetoFront.Select(f => new
            {
                complexity = f.Complexity, mae = f.Mae, rmse = f.Rmse, r2 = f.R2, chosen = ReferenceEquals(f, r.Best),
                formula = f.ToPreciseText(), features = f.UsedFeatures, postfix = f.ToPostfix(),
            }),
        };
        File.WriteAllText(path, System.Text.Json.JsonSerializer.Serialize(document, new System.Text.Json.JsonSerializerOptions
        {
            WriteIndented = true, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
            PropertyNamingPolicy = System.Text.Json.JsonNamingPolicy.CamelCase,
            Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        }));
    }

    public static void WriteParetoCsv(SrResult r, string path)
    {
        using var writer = new StreamWriter(path);
        writer.WriteLine("complexity,mae,rmse,r2,best,formula");
        foreach (var f in r.ParetoFront)
            writer.WriteLine(string.Join(',',
                f.Complexity.ToString(CultureInfo.InvariantCulture),
                f.Mae.ToString("R", CultureInfo.InvariantCulture),
                f.Rmse.ToString("R", CultureInfo.InvariantCulture),
                f.R2.ToString("R", CultureInfo.InvariantCulture),
                ReferenceEquals(f, r.Best) ? "1" : "0",
                "\"" + f.ToPreciseText().Replace("\"", "\"\"") + "\""));
    }

    public static string Describe(SrResult r)
    {
        var sb = new StringBuilder();
        sb.AppendLine($"engine {r.Engine} on {r.Device}{(r.Ranks > 1 ? $" x {r.Ranks} MPI ranks" : "")}: {r.Evaluations:N0} candidate evaluations in {r.Elapsed.TotalSeconds:F2} s" +
                      (r.SpaceSize > 0 ? $", feature space of {r.SpaceSize:N0}" : ""));
        sb.AppendLine($"{"cx",4} {"MAE",12} {"RMSE",12} {"R2",10}  formula");
        foreach (var f in r.ParetoFront)
            sb.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"{f.Complexity,4} {f.Mae,12:G6} {f.Rmse,12:G6} {f.R2,10:F6}  {(ReferenceEquals(f, r.Best) ? "* " : "  ")}{f.ToText()}"));
        sb.AppendLine($"best: {r.Best.ToText()}");
        sb.AppendLine($"expanded: {r.Best.ToSimplifiedText()}");
        sb.AppendLine($"latex: {r.Best.ToLatex()}");
        return sb.ToString();
    }
}
