using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace SaGatSr.Bench;

/// <summary>
/// `compare sisso-mpi`: the exhaustive SISSO space side by side with the SISSO Fortran code (rouyang2017/SISSO, built by the
/// user outside this project; pass its binary with --sisso), both under mpirun at the same number of ranks, one core per
/// rank. Same tables, operators, fcomplexity, subspace size and dimension; reports wall times, features scored per second
/// per core, whether the SIS subspaces are identical name by name, and both final models.
/// </summary>
public static partial class Comparisons
{
    private static void RegisterSissoMpi()
    {
        Register("sisso-mpi", "exhaustive SISSO space vs the SISSO Fortran code at 1 and 2 MPI ranks; --sisso PATH --ranks 1,2 --cases planted,product,wide,rung3",
            SissoSideBySide);
    }

    private sealed record SissoCase(string Name, string Description, int Samples, int Features, string[] Operators, int FeatureOperators,
        int Dimensions, int SubspaceSize, double Noise, Func<double[], double> Target);

    private static readonly string[] SissoAllOperators = ["+", "-", "*", "/", "exp", "log", "^-1", "^2", "^3", "sqrt", "cbrt", "|a-b|"];

    private static readonly SissoCase[] SissoCases =
    [
        new("planted", "y = 2.5 x1/x2 - 1.2 x3^2 + 0.3, 500 x 20, 12 operators, rung 2 (fcomplexity 3), 2 dimensions, nf_sis 20",
            500, 20, SissoAllOperators, 3, 2, 20, 0, x => 2.5 * x[0] / x[1] - 1.2 * x[2] * x[2] + 0.3),
        new("product", "y = 3 (x1-x2)(x3-x4) + 1, 500 x 20, 12 operators, rung 2 (fcomplexity 3), 1 dimension, nf_sis 20",
            500, 20, SissoAllOperators, 3, 1, 20, 0, x => 3 * (x[0] - x[1]) * (x[2] - x[3]) + 1),
        new("wide", "y = 2.5 x1/x2 - 1.2 x3^2 + 0.3 with 1% noise, 500 x 80, + - * / ^2 sqrt, fcomplexity 2, 2 dimensions, nf_sis 20",
            500, 80, ["+", "-", "*", "/", "^2", "sqrt"], 2, 2, 20, 0.01, x => 2.5 * x[0] / x[1] - 1.2 * x[2] * x[2] + 0.3),
        new("rung3", "y = (x1-x2)(x3+x4)/(x1 x4) + 1, 300 x 4, + - * /, rung 3 (fcomplexity 7), 1 dimension, nf_sis 20",
            300, 4, ["+", "-", "*", "/"], 7, 1, 20, 0, x => (x[0] - x[1]) * (x[2] + x[3]) / (x[0] * x[3]) + 1),
    ];

    /// <summary>SISSO 3.5 derives the number of rungs from fcomplexity: a rung-r feature holds up to 2^r - 1 operators.</summary>
    private static int SissoRungs(int featureOperators) => featureOperators switch { 0 => 0, 1 => 1, <= 3 => 2, <= 7 => 3, _ => 4 };

    private static int SissoSideBySide(string[] args)
    {
        string? sisso = Option(args, "--sisso", "") is { Length: > 0 } path ? Path.GetFullPath(path) : null;
        var ranks = Option(args, "--ranks", "1,2").Split(',').Select(int.Parse).ToArray();
        var names = Option(args, "--cases", "planted,product,wide,rung3").Split(',');
        string work = Path.Combine(Path.GetTempPath(), "sagatsr-sisso-mpi");
        string cli = Path.Combine(RepositoryPaths.Root, "src", "Cli", "bin", "Release", "net10.0", "sagatsr.dll");
        if (!File.Exists(cli)) throw new FileNotFoundException($"{cli}: build the solution in Release first.");
        if (sisso is not null && !File.Exists(sisso)) throw new FileNotFoundException($"{sisso}: no SISSO binary there.");
        Console.WriteLine($"machine: {Environment.ProcessorCount} cores, {RuntimeDescription()}; one core per rank (mpirun --bind-to core)");
        if (sisso is null) Console.WriteLine("(no --sisso given: only this engine runs)");

        foreach (var c in SissoCases.Where(c => names.Contains(c.Name)))
        {
            Console.WriteLine($"\n## {c.Name}: {c.Description}");
            string folder = Path.Combine(work, c.Name);
            Directory.CreateDirectory(folder);
            WriteSissoCase(c, folder);
            foreach (int r in ranks)
            {
                var ours = RunOurs(c, folder, cli, r);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"SaGatSr  {r} rank(s): {ours.Seconds,7:F2} s (search {ours.Search:F2} s), {ours.Scored:N0} candidates scored, {ours.Scored / ours.Seconds / r / 1e6:F2} M/s per core, space {ours.Space:N0}, RMSE {ours.Rmse:G6}"));
                Console.WriteLine($"         model: {ours.Model}");
                if (sisso is null) continue;
                var theirs = RunSisso(c, folder, sisso, r);
                long scored = theirs.Space * c.Dimensions;
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"SISSO    {r} rank(s): {theirs.Seconds,7:F2} s, {scored:N0} features built and scored, {scored / theirs.Seconds / r / 1e6:F3} M/s per core, space {theirs.Space:N0}, RMSE {theirs.Rmse:G6}"));
                Console.WriteLine($"         model: {theirs.Model}");
                bool sameSubspace = ours.Subspace.SequenceEqual(theirs.Subspace);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"         speed-up {theirs.Seconds / ours.Seconds:F1}x; SIS subspaces identical: {(sameSubspace ? "yes" : "NO")} ({ours.Subspace.Count} vs {theirs.Subspace.Count} features); " +
                    $"same space size: {(ours.Space == theirs.Space ? "yes" : "no")}; RMSE ratio {ours.Rmse / theirs.Rmse:G6}"));
                if (!sameSubspace)
                    foreach (var (a, b) in ours.Subspace.Zip(theirs.Subspace).Where(p => p.First != p.Second).Take(5))
                        Console.WriteLine($"           first differences: {a} vs {b}");
            }
        }

        return 0;
    }

    private static string RuntimeDescription() => System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture + ", " +
                                                 System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription;

    /// <summary>table.csv for sagatsr; train.dat and SISSO.in for the Fortran code (same values, full precision).</summary>
    private static void WriteSissoCase(SissoCase c, string folder)
    {
        var random = new Random(12);
        var csv = new StringBuilder("y," + string.Join(',', Enumerable.Range(1, c.Features).Select(f => $"x{f}")) + "\n");
        var dat = new StringBuilder("materials y " + string.Join(' ', Enumerable.Range(1, c.Features).Select(f => $"x{f}")) + "\n");
        for (int s = 0; s < c.Samples; s++)
        {
            var x = Enumerable.Range(0, c.Features).Select(_ => 0.5 + 2.5 * random.NextDouble()).ToArray();
            double y = c.Target(x);
            y *= 1 + c.Noise * Gaussian(random);
            var values = new[] { y }.Concat(x).Select(v => v.ToString("R", CultureInfo.InvariantCulture)).ToArray();
            csv.Append(string.Join(',', values)).Append('\n');
            dat.Append($"s{s + 1} ").Append(string.Join(' ', values)).Append('\n');
        }

        File.WriteAllText(Path.Combine(folder, "table.csv"), csv.ToString());
        File.WriteAllText(Path.Combine(folder, "train.dat"), dat.ToString());
        string ops = string.Concat(c.Operators.Select(o => o == "|a-b|" ? "(|-|)" : $"({o})"));
        File.WriteAllText(Path.Combine(folder, "SISSO.in"), $"""
            ptype=1
            ntask=1
            desc_dim={c.Dimensions}
            nsample={c.Samples}
            restart=0
            nsf={c.Features}
            ops='{ops}'
            fcomplexity={c.FeatureOperators}
            fmax_min=1e-3
            fmax_max=1e5
            nf_sis={c.SubspaceSize}
            method_so='L0'
            fit_intercept=.true.
            metric='RMSE'
            nmodel=10

            """);
    }

    private static double Gaussian(Random random) => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());

    /// <summary>Wall seconds of the whole mpirun; Search: the search alone (sagatsr: without process start and table reading).</summary>
    private sealed record SideResult(double Seconds, long Scored, long Space, double Rmse, string Model, List<string> Subspace, double Search = double.NaN);

    private static (double Seconds, string Output) Mpirun(int ranks, string folder, params string[] command)
    {
        var start = new ProcessStartInfo("mpirun") { WorkingDirectory = folder, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "-np", ranks.ToString(CultureInfo.InvariantCulture), "--bind-to", "core", "--allow-run-as-root" }.Concat(command))
            start.ArgumentList.Add(a);
        var watch = Stopwatch.StartNew();
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        double seconds = watch.Elapsed.TotalSeconds;
        if (process.ExitCode != 0) throw new InvalidOperationException($"{string.Join(' ', command)} failed:\n{output.Result}\n{errors.Result}");
        return (seconds, output.Result + errors.Result);
    }

    private static SideResult RunOurs(SissoCase c, string folder, string cli, int ranks)
    {
        string output = Path.Combine(folder, $"sagatsr-{ranks}");
        var (seconds, log) = Mpirun(ranks, folder, "dotnet", cli, "sr", "table.csv", "--target", "y", "--out", output, "--exhaustive",
            "--rungs", SissoRungs(c.FeatureOperators).ToString(CultureInfo.InvariantCulture), "--feature-operators", c.FeatureOperators.ToString(CultureInfo.InvariantCulture),
            "--max-terms", c.Dimensions.ToString(CultureInfo.InvariantCulture), "--subspace-size", c.SubspaceSize.ToString(CultureInfo.InvariantCulture),
            "--operators", string.Join(',', c.Operators), "--time-limit", "3600");
        var engine = log.Split('\n').First(l => l.Contains("engine sisso", StringComparison.Ordinal));
        engine = engine[engine.IndexOf("engine sisso", StringComparison.Ordinal)..];
        long Number(string after) => long.Parse(new string(engine[(engine.IndexOf(after, StringComparison.Ordinal) + after.Length)..]
            .TrimStart().TakeWhile(ch => char.IsDigit(ch) || ch == ',').ToArray()).Replace(",", ""), CultureInfo.InvariantCulture);
        long scored = Number(": ");
        int at = engine.IndexOf(" in ", StringComparison.Ordinal) + 4;
        double search = double.Parse(engine[at..engine.IndexOf(" s", at, StringComparison.Ordinal)], CultureInfo.InvariantCulture);
        long space = Number("feature space of");
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "formulas.json")));
        var last = json.RootElement.GetProperty("formulas").EnumerateArray().Last();
        var subspace = File.ReadAllLines(Path.Combine(output, "subspaces.csv")).Skip(1).Select(l => l[(l.LastIndexOf(",\"", StringComparison.Ordinal) + 2)..^1]).ToList();
        return new SideResult(seconds, scored, space, last.GetProperty("rmse").GetDouble(), last.GetProperty("formula").GetString()!, subspace, search);
    }

    private static SideResult RunSisso(SissoCase c, string folder, string sisso, int ranks)
    {
        string run = Path.Combine(folder, $"sisso-{ranks}");
        if (Directory.Exists(run)) Directory.Delete(run, recursive: true);
        Directory.CreateDirectory(run);
        File.Copy(Path.Combine(folder, "train.dat"), Path.Combine(run, "train.dat"));
        File.Copy(Path.Combine(folder, "SISSO.in"), Path.Combine(run, "SISSO.in"));
        var (seconds, _) = Mpirun(ranks, run, sisso);
        var report = File.ReadAllLines(Path.Combine(run, "SISSO.out"));
        long space = report.Where(l => l.Contains("Total number of features in the space", StringComparison.Ordinal))
            .Select(l => long.Parse(l.Split(':')[^1].Trim(), CultureInfo.InvariantCulture)).Last();
        int block = Array.FindLastIndex(report, l => l.Contains("D descriptor/model", StringComparison.Ordinal));
        var descriptors = report.Skip(block).TakeWhile(l => !l.Contains("RMSE and MaxAE", StringComparison.Ordinal))
            .Where(l => l.TrimStart().StartsWith("d0", StringComparison.Ordinal)).Select(l => l.Split('=')[1].Split("feature_ID")[0].Trim());
        var coefficients = report.Skip(block).First(l => l.Contains("coeff.(ci)", StringComparison.Ordinal)).Split(':')[1].Trim();
        var intercept = report.Skip(block).First(l => l.TrimStart().StartsWith("c0:", StringComparison.Ordinal)).Split(':')[1].Trim();
        double rmse = double.Parse(report.Skip(block).First(l => l.Contains("RMSE and MaxAE", StringComparison.Ordinal)).Split(':')[1]
            .Split(' ', StringSplitOptions.RemoveEmptyEntries)[0], CultureInfo.InvariantCulture);
        var subspace = File.ReadAllLines(Path.Combine(run, "SIS_subspaces", "Uspace.expressions")).Select(l => l.Trim().Split(' ')[0]).ToList();
        return new SideResult(seconds, 0, space, rmse, $"c0 {intercept}, c {coefficients}, d = {string.Join("; ", descriptors)}", subspace);
    }
}
