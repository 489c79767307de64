using System.Text;
using SaGatSr.Cli.Reports;
using SaGatSr.Mpi;
using SaGatSr.Symbolic;

namespace SaGatSr.Cli.Commands;

internal sealed record SrArguments(string Engine, string? Operators, int MaxComplexity, double TimeLimitSeconds, int Seed,
    int Rungs, int MaxTerms, string? Device, string? Units = null, bool Exhaustive = false, int SubspaceSize = 0,
    int RungParents = 60, int MaxFeatureComplexity = 9, int FeatureOperators = 0)
{
    public SrOptions ToOptions()
    {
        var options = new SrOptions
        {
            Engine = Engine, MaxComplexity = MaxComplexity, TimeLimit = TimeSpan.FromSeconds(TimeLimitSeconds), Seed = Seed,
            Rungs = Rungs, MaxTerms = MaxTerms, Exhaustive = Exhaustive, SubspaceSize = SubspaceSize, RungParentLimit = RungParents,
            MaxFeatureComplexity = MaxFeatureComplexity, MaxFeatureOperators = FeatureOperators,
        };
        if (Operators is not null)
            options.Operators = SrOptions.ParseOperators(Operators);
        if (Device is not null) options.Device = Device;
        if (Units is not null) options.Units = SrCommand.ParseUnits(Units);
        return options;
    }
}

internal static class SrCommand
{
    /// <summary>"a=m;b=s;c=m s^-1" to a feature -> unit map; each unit is checked by the engine's unit parser.</summary>
    internal static Dictionary<string, string> ParseUnits(string text)
    {
        var units = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in text.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            int equals = pair.IndexOf('=');
            if (equals <= 0) throw new ArgumentException($"--units: '{pair}' is not feature=unit.");
            var (name, unit) = (pair[..equals].Trim(), pair[(equals + 1)..].Trim());
            Unit.Parse(unit);
            units[name] = unit;
        }

        return units;
    }

    public static int Run(string tablePath, string target, string output, SrArguments arguments, CancellationToken cancel)
    {
        var options = arguments.ToOptions();
        var table = FeatureTable.ReadCsv(tablePath, target, out var y);
        Console.Error.WriteLine($"table: {table.SampleCount} rows, {table.Names.Length} features, target '{target}'");
        var result = Search(table, y, options, cancel);
        if (!Communicator.World.IsRoot) return 0;
        Directory.CreateDirectory(output);
        WriteReport(output, result, target);
        Console.WriteLine(FormulaReport.Describe(result));
        Console.WriteLine($"report: {output}");
        return 0;
    }

    public static SrResult Search(FeatureTable table, double[] y, SrOptions options, CancellationToken cancel) =>
        ConsoleProgress.Run($"symbolic regression ({options.Engine})", sink =>
            SymbolicRegressor.Fit(table, y, options, new Progress<SrProgress>(p =>
                sink.Report(p.Fraction, $"{p.Stage}: {p.Message}")), cancel, Communicator.World));

    /// <summary>formulas.txt, formulas.tex, formulas.json (full precision), best_formula.cs, pareto.csv, pareto.png and (SISSO) subspaces.txt.</summary>
    public static void WriteReport(string folder, SrResult result, string target)
    {
        var text = new StringBuilder();
        var latex = new StringBuilder("% Pareto front: complexity, MAE, RMSE, R^2, formula\n");
        foreach (var formula in result.ParetoFront)
        {
            string mark = ReferenceEquals(formula, result.Best) ? "  <- chosen" : "";
            text.AppendLine($"[{formula.Complexity,3}] MAE {formula.Mae:G4} RMSE {formula.Rmse:G4} R2 {formula.R2:F4}  {target} = {formula.ToText()}{mark}");
            text.AppendLine($"      expanded: {formula.ToSimplifiedText()}");
            latex.AppendLine($"% complexity {formula.Complexity}, MAE {formula.Mae:G4}, RMSE {formula.Rmse:G4}, R2 {formula.R2:F4}{mark}");
            latex.AppendLine($"\\[ \\mathrm{{{target.Replace("_", "\\_")}}} = {formula.ToLatex()} \\]");
        }

        File.WriteAllText(Path.Combine(folder, "formulas.txt"), text.ToString());
        File.WriteAllText(Path.Combine(folder, "formulas.tex"), latex.ToString());
        File.WriteAllText(Path.Combine(folder, "best_formula.cs"), result.Best.ToCSharp());
        FormulaReport.WriteParetoCsv(result, Path.Combine(folder, "pareto.csv"));
        FormulaReport.WriteJson(result, target, Path.Combine(folder, "formulas.json"));
        if (result.Subspaces.Count > 0)
            File.WriteAllLines(Path.Combine(folder, "subspaces.txt"), result.Subspaces.Select(s =>
                string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{s.Dimension} {s.Score:F6} {s.Text}")));
        int chosen = result.ParetoFront.ToList().IndexOf(result.Best);
        Plots.Pareto(Path.Combine(folder, "pareto.png"), $"Pareto front: {target}",
            result.ParetoFront.Select(f => (f.Complexity, f.Rmse)).ToArray(), chosen, "RMSE (the front is Pareto-optimal in RMSE)");
    }
}
