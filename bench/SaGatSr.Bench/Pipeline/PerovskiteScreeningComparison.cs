using System.Diagnostics;
using System.Globalization;
using SaGatSr.Gat;
using SaGatSr.Gat.Materials;
using SaGatSr.Gat.Training;
using SaGatSr.Pipeline;

namespace SaGatSr.Bench;

/// <summary>
/// `sagatsr screen` measured (issue 19): is an ideal cubic cell a faithful stand-in for the relaxed one (the shipped
/// perovskites' compositions screened as if new, against their DFT values and the network on the relaxed cells), which
/// lattice rule reproduces the relaxed cells, where each stage's time goes, and end-to-end throughput with peak memory
/// for 10^5 and 10^6 candidates, each count in its own process so its peak is its own.
/// </summary>
public static partial class Comparisons
{
    private static readonly string[] ShippedCations = ("Ag,Al,As,Au,B,Ba,Be,Bi,Ca,Cd,Co,Cr,Cs,Cu,Fe,Ga,Ge,Hf,Hg,In,Ir,K,La,Li,Mg,Mn,Mo,Na," +
                                                       "Nb,Ni,Os,Pb,Pd,Pt,Rb,Re,Rh,Ru,Sb,Sc,Si,Sn,Sr,Ta,Te,Ti,Tl,V,W,Y,Zn,Zr").Split(',');

    private static readonly string[] ShippedAnions = ["O3", "O2N", "O2F", "OFN", "ON2", "N3", "O2S"];

    private static void RegisterPerovskiteScreening()
    {
        Register("screen",
            "screening new perovskites: ideal cubic cells against the relaxed ones (Spearman, MAE, by tolerance factor and tilt), " +
            "lattice rules, stage times, throughput and peak memory per count --model model.sagat [--data perovskites.csv] " +
            "[--target heat_ref] [--counts 100000,1000000]", RunPerovskiteScreening);
        Register("screen-run", "one screening run in this process (used by `compare screen`): --model M --count N [--folder DIR]",
            RunScreeningThroughput);
    }

    private static int RunPerovskiteScreening(string[] args)
    {
        string model = OptionValue(args, "--model", "");
        if (model == "") throw new ArgumentException("--model model.sagat is required (sagatsr train ../shared/data/perovskites/perovskites.csv --target heat_ref)");
        string data = OptionValue(args, "--data", Path.Combine(RepositoryPaths.Root, "data", "perovskites", "perovskites.csv"));
        string target = OptionValue(args, "--target", "heat_ref");
        Console.WriteLine($"machine: {Environment.ProcessorCount} cores, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
        using var predictor = SaGatPredictor.Load(model, "cpu");
        Faithfulness(predictor, data, target, maxStateTier: 1, LatticeRule.BondValence, detailed: true);
        Faithfulness(predictor, data, target, maxStateTier: 1, LatticeRule.Shannon, detailed: false);
        Faithfulness(predictor, data, target, maxStateTier: 3, LatticeRule.BondValence, detailed: true);
        StageTimes(predictor);
        foreach (long count in OptionValue(args, "--counts", "100000,1000000").Split(',').Select(long.Parse))
            ThroughputInChildProcess(model, count);
        return 0;
    }

    private static void Faithfulness(SaGatPredictor predictor, string data, string target, int maxStateTier, LatticeRule rule, bool detailed)
    {
        var dataset = Dataset.Load(data);
        int column = dataset.TargetNames.ToList().IndexOf(target);
        var byId = dataset.Entries.ToDictionary(e => e.Id);
        var candidates = CandidateSource.FromFile(data);
        var all = candidates.Read(0, candidates.Count).ToArray();
        var clock = Stopwatch.StartNew();
        var (kept, dropped) = Screening.Evaluate(predictor, null, all, new CandidateScreeningOptions { BatchSize = 256, MaxStateTier = maxStateTier, Lattice = rule });
        Console.WriteLine($"\n## Faithfulness: the {all.Length} shipped compositions as ideal cubic cells, oxidation states of tier <= {maxStateTier}, {rule} lattice ({clock.Elapsed.TotalSeconds:F1} s)");
        Console.WriteLine($"dropped {dropped.Count}: " + string.Join("; ", dropped.GroupBy(d => d.Kind).Select(g => $"{g.Key} {g.Count()}")));
        foreach (var d in dropped.Take(6)) Console.WriteLine($"  {d.Formula}: {d.Reason}");

        var relaxed = kept.Select(k => byId[k.Id].Structure).ToArray();
        var relaxedPrediction = predictor.PredictWithUncertainty(relaxed, 256);
        var dft = kept.Select(k => byId[k.Id].Targets[column]).ToArray();
        var ideal = kept.Select(k => k.Prediction).ToArray();
        var tilt = relaxed.Select(s => CrystalDescriptors.Compute(s, CrystalGraph.Build(s), SiteRoles.Assign(s)).OctahedralTilt).ToArray();
        var test = predictor.Model.Metadata.TestIds?.ToHashSet() ?? [];

        void Report(string label, Func<int, bool> include)
        {
            var rows = Enumerable.Range(0, kept.Count).Where(include).ToArray();
            if (rows.Length < 3)
            {
                Console.WriteLine($"{label,-34} n={rows.Length,5}  (too few)");
                return;
            }

            double[] d = rows.Select(i => dft[i]).ToArray(), p = rows.Select(i => ideal[i]).ToArray(), r = rows.Select(i => relaxedPrediction.Mean[i]).ToArray();
            string spread = predictor.HasUncertainty
                ? FormattableString.Invariant($"  mean std ideal {rows.Average(i => kept[i].Std):F3} relaxed {rows.Average(i => relaxedPrediction.Std[i]):F3}")
                : "";
            Console.WriteLine(FormattableString.Invariant(
                $"{label,-34} n={rows.Length,5}  ideal: Spearman {UncertaintyMetrics.Spearman(p, d):F3} MAE {Mae(p, d):F3}   relaxed: Spearman {UncertaintyMetrics.Spearman(r, d):F3} MAE {Mae(r, d):F3}   ideal vs relaxed prediction: Spearman {UncertaintyMetrics.Spearman(p, r):F3}{spread}"));
        }

        Report("test crystals of the model's split", i => test.Contains(kept[i].Id));
        Report("all", _ => true);
        if (!detailed) return;
        Console.WriteLine("by tolerance factor t (all):");
        foreach (var (low, high) in new[] { (0.0, 0.85), (0.85, 0.95), (0.95, 1.05), (1.05, 1.15), (1.15, 9.0) })
            Report($"  t in [{low:F2}, {high:F2})", i => kept[i].ToleranceFactor >= low && kept[i].ToleranceFactor < high);
        Console.WriteLine("by octahedral tilt of the relaxed cell (all):");
        foreach (var (low, high) in new[] { (0.0, 2.0), (2.0, 10.0), (10.0, 20.0), (20.0, 180.0) })
            Report($"  tilt in [{low:F0}, {high:F0}) deg", i => tilt[i] >= low && tilt[i] < high);
        if (predictor.HasUncertainty)
        {
            var error = Enumerable.Range(0, kept.Count).Select(i => Math.Abs(ideal[i] - dft[i])).ToArray();
            double coverage = Enumerable.Range(0, kept.Count).Count(i => error[i] <= ScreenedCandidate.Z90 * kept[i].Std) / (double)kept.Count;
            Console.WriteLine(FormattableString.Invariant(
                $"uncertainty flags errors: Spearman(std, |ideal - DFT|) {UncertaintyMetrics.Spearman(kept.Select(k => k.Std).ToArray(), error):F3}; 90% interval covers DFT for {coverage:P1}"));
        }
        else Console.WriteLine("uncertainty: the model is a single network (no std), so nothing is flagged");

        // A tilted cell shrinks while its octahedra keep their size, so the rules are judged on the B-X bond (a/2 when ideal).
        Console.WriteLine("lattice rules: ideal B-X (a/2) against the relaxed cell's mean B-X bond (its B's 6 nearest neighbours)");
        var byIndex = all.ToDictionary(c => c.Index);
        var relaxedBond = relaxed.Select(s =>
        {
            var graph = CrystalGraph.Build(s);
            int b = Array.IndexOf(SiteRoles.Assign(s, graph).Roles, SiteRole.B);
            return b < 0 ? double.NaN : Enumerable.Range(graph.TargetOffsets[b], 6).Average(e => graph.EdgeDistance[e]);
        }).ToArray();
        foreach (var lattice in new[] { LatticeRule.BondValence, LatticeRule.Shannon })
        {
            var errors = kept.Select((k, i) => IdealPerovskite.LatticeParameter(byIndex[k.Index], k.BState, lattice) / 2 - relaxedBond[i])
                .Where(double.IsFinite).ToArray();
            Console.WriteLine(FormattableString.Invariant(
                $"  {lattice,-12} n={errors.Length}  MAE {errors.Average(Math.Abs):F3} Å  mean signed {errors.Average():+0.000;-0.000} Å  |error| > 0.1 Å: {errors.Count(e => Math.Abs(e) > 0.1)}"));
        }
    }

    /// <summary>Where one chunk's time goes: enumeration and charge balance, cells with roles and factors, the network.</summary>
    private static void StageTimes(SaGatPredictor predictor)
    {
        var source = CandidateSource.FromLists(ShippedCations, ShippedCations, ShippedAnions);
        var balanced = source.Read(0, source.Count).Where(c => IdealPerovskite.TryBalance(c, out _, out _)).Take(4096).ToArray();
        double enumerate = MedianMilliseconds(() => source.Read(0, source.Count).Count(c => IdealPerovskite.TryBalance(c, out _, out _)), 3);
        double cells = MedianMilliseconds(() => Parallel.ForEach(balanced, c =>
        {
            IdealPerovskite.TryBalance(c, out var states, out _);
            var structure = IdealPerovskite.Build(c, IdealPerovskite.LatticeParameter(c, states.B));
            var graph = CrystalGraph.Build(structure, predictor.Model.GraphOptions);
            CrystalDescriptors.Compute(structure, graph, SiteRoles.Assign(structure, graph));
        }), 3);
        var structures = balanced.Select(c =>
        {
            IdealPerovskite.TryBalance(c, out var states, out _);
            return IdealPerovskite.Build(c, IdealPerovskite.LatticeParameter(c, states.B));
        }).ToArray();
        double featurise = MedianMilliseconds(() => predictor.Model.Prepare(structures), 3);
        double predict = MedianMilliseconds(() => predictor.PredictWithUncertainty(structures, 256), 3);
        double whole = MedianMilliseconds(() => Screening.Evaluate(predictor, null, balanced), 3);
        Console.WriteLine($"\n## Stage times (ms), {Environment.ProcessorCount} cores");
        Console.WriteLine(FormattableString.Invariant($"enumerate + charge balance of {source.Count:N0} list candidates: {enumerate:F0} ms ({source.Count / enumerate * 60000:N0}/min)"));
        Console.WriteLine(FormattableString.Invariant($"per {balanced.Length} balanced candidates: cells + roles + t, mu {cells:F0}; network featurisation {featurise:F0}; featurise + predict {predict:F0}; Evaluate end to end {whole:F0} ({balanced.Length / whole * 60000:N0}/min)"));
    }

    private static void ThroughputInChildProcess(string model, long count)
    {
        string self = typeof(Comparisons).Assembly.Location;
        var start = new ProcessStartInfo(Environment.ProcessPath!) { RedirectStandardOutput = true, UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath!) == "dotnet") start.ArgumentList.Add(self);
        foreach (string a in new[] { "compare", "screen-run", "--model", model, "--count", count.ToString(CultureInfo.InvariantCulture) })
            start.ArgumentList.Add(a);
        using var child = Process.Start(start)!;
        Console.Write(child.StandardOutput.ReadToEnd());
        child.WaitForExit();
    }

    /// <summary>
    /// Two workloads: every A × B × X of the shipped elements and anion sets, repeated to <c>--count</c> (most are dropped
    /// by charge balance: the realistic case), and a candidates file of <c>--count</c> rows, every one charge-balanced
    /// (every candidate predicted: the worst case).
    /// </summary>
    private static int RunScreeningThroughput(string[] args)
    {
        string model = OptionValue(args, "--model", "");
        long count = long.Parse(OptionValue(args, "--count", "100000"), CultureInfo.InvariantCulture);
        string folder = OptionValue(args, "--folder", Path.Combine(Path.GetTempPath(), $"sagatsr-screen-bench-{Environment.ProcessId}"));
        Directory.CreateDirectory(folder);
        using var predictor = SaGatPredictor.Load(model, "cpu");
        var lists = CandidateSource.FromLists(ShippedCations, ShippedCations, ShippedAnions);
        var balanced = lists.Read(0, lists.Count).Where(c => IdealPerovskite.TryBalance(c, out _, out _)).Select(c => c.Formula).ToArray();
        string file = Path.Combine(folder, "candidates.csv");
        using (var writer = new StreamWriter(file))
        {
            writer.Write("id,formula\n");
            for (long i = 0; i < count; i++) writer.Write($"c{i},{balanced[i % balanced.Length]}\n");
        }

        foreach (var (label, source) in new[] { ("lists (A x B x X)", (CandidateSource)new Repeated(lists, count)), ("file, all balanced", CandidateSource.FromFile(file)) })
        {
            var summary = Screening.Run(predictor, null, source, Path.Combine(folder, "ranked.csv"), Path.Combine(folder, "dropped.csv"),
                new CandidateScreeningOptions { LowerIsBetter = true, TemporaryFolder = folder });
            double minutes = summary.Elapsed.TotalMinutes;
            Console.WriteLine(FormattableString.Invariant(
                $"{count,9:N0} candidates, {label,-20}: {summary.Elapsed.TotalSeconds,7:F1} s  {count / minutes,10:N0} candidates/min  {summary.Kept / minutes,10:N0} predicted/min  ({summary.Kept:N0} predicted)  peak working set so far {Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0:F0} MiB"));
        }

        Directory.Delete(folder, recursive: true);
        return 0;
    }

    /// <summary>A source's candidates cycled to <paramref name="count"/>, with fresh indices: a long stream from a short list.</summary>
    private sealed class Repeated(CandidateSource inner, long count) : CandidateSource
    {
        public override long Count => count;

        public override IEnumerable<PerovskiteCandidate> Read(long start, long end)
        {
            for (long i = start; i < Math.Min(end, count);)
                foreach (var c in inner.Read(i % inner.Count, Math.Min(inner.Count, i % inner.Count + (end - i))))
                    yield return c with { Index = i++ };
        }
    }

    private static double Mae(double[] predicted, double[] actual) => predicted.Zip(actual, (p, a) => Math.Abs(p - a)).Average();
}
