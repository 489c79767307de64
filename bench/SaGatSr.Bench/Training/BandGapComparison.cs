using System.Globalization;
using System.Text.Json;
using SaGatSr.Gat.Materials;
using SaGatSr.Gat.Training;
using SaGatSr.Pipeline;

namespace SaGatSr.Bench;

/// <summary>
/// Band gaps as users model them (issue 22), from the runs `bench/band-gap.sh` leaves: the metal/non-metal classifier, the
/// gap regressed on the non-metals alone, and the two joined on every test crystal with the rule chosen on validation;
/// beside the original CGCNN's files on the same splits when given (material_id,actual,probability / prediction).
/// </summary>
public static partial class Comparisons
{
    private static void RegisterBandGap() => Register("band-gap",
        "metal/non-metal classifier, gap on non-metals, two-stage gap on all crystals, per split, from train runs --runs DIR " +
        "(DIR/cls-sS, DIR/gap-sS with all.csv) [--splits 1,2,3] [--data perovskites.csv] [--cgcnn DIR (cls_splitS_test.csv, gap_splitS_test.csv, gap_all_splitS_test.csv)]",
        RunBandGap);

    private static int RunBandGap(string[] args)
    {
        string runs = OptionValue(args, "--runs", "");
        if (runs == "") throw new ArgumentException("--runs DIR is required (bench/band-gap.sh writes it)");
        string? cgcnn = OptionValue(args, "--cgcnn", "") is { Length: > 0 } c ? c : null;
        string data = OptionValue(args, "--data", Path.Combine(RepositoryPaths.Root, "data", "perovskites", "perovskites.csv"));
        var splits = OptionValue(args, "--splits", "1,2,3").Split(',').Select(int.Parse).ToArray();
        var dataset = Dataset.Load(data);
        int gapColumn = dataset.TargetNames.ToList().IndexOf("dir_gap");
        var gap = dataset.Entries.ToDictionary(e => e.Id, e => e.Targets[gapColumn]);

        Console.WriteLine("| split | test non-metals / crystals | ROC-AUC | balanced acc. | recall | precision | threshold (val) | val ROC-AUC | s training | CGCNN ROC-AUC | CGCNN recall | CGCNN precision |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|---|---|---|---|");
        var classifierRows = new List<double[]>();
        foreach (int s in splits)
        {
            var rows = ReadRun(Path.Combine(runs, $"cls-s{s}", "predictions.csv"), "probability");
            var metrics = JsonDocument.Parse(File.ReadAllText(Path.Combine(runs, $"cls-s{s}", "metrics.json"))).RootElement;
            double threshold = metrics.GetProperty("classification").GetProperty("threshold").GetDouble();
            var test = rows.Where(r => r.Split == "test").ToArray();
            var validation = rows.Where(r => r.Split == "val").ToArray();
            var m = ClassificationMetrics.Compute(test.Select(r => r.Actual).ToArray(), test.Select(r => r.Value).ToArray(), threshold);
            double validationAuc = ClassificationMetrics.AreaUnderRoc(validation.Select(r => r.Actual).ToArray(), validation.Select(r => r.Value).ToArray());
            string peer = "| – | – | –";
            double[] row = [m.RocAuc, m.BalancedAccuracy, m.Recall, m.Precision, double.NaN, double.NaN];
            if (cgcnn is not null && File.Exists(Path.Combine(cgcnn, $"cls_split{s}_test.csv")))
            {
                var peerRows = ReadPeer(Path.Combine(cgcnn, $"cls_split{s}_test.csv"));
                var p = ClassificationMetrics.Compute(peerRows.Select(r => r.Actual).ToArray(), peerRows.Select(r => r.Value).ToArray(), 0.5);
                peer = FormattableString.Invariant($"| {p.RocAuc:F3} | {p.Recall:F3} | {p.Precision:F3}");
                row[4] = p.RocAuc;
                row[5] = p.Recall;
            }

            classifierRows.Add(row);
            Console.WriteLine(FormattableString.Invariant(
                $"| {s} | {m.Positives} / {m.Count} | {m.RocAuc:F3} | {m.BalancedAccuracy:F3} | {m.Recall:F3} | {m.Precision:F3} | {threshold:F3} | {validationAuc:F3} | {TrainingSeconds(Path.Combine(runs, $"cls-s{s}")):F0} {peer} |"));
        }

        Console.WriteLine(FormattableString.Invariant(
            $"| mean | | {classifierRows.Average(r => r[0]):F3} | {classifierRows.Average(r => r[1]):F3} | {classifierRows.Average(r => r[2]):F3} | {classifierRows.Average(r => r[3]):F3} | | | | {FiniteMean(classifierRows.Select(r => r[4])):F3} | {FiniteMean(classifierRows.Select(r => r[5])):F3} | |"));

        Console.WriteLine("\n| split | test non-metals | gap MAE (eV) | RMSE | mean predictor MAE | s training | CGCNN MAE (30 epochs) | CGCNN MAE (300 epochs) |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|");
        var gapRows = new List<double[]>();
        foreach (int s in splits)
        {
            var rows = ReadRun(Path.Combine(runs, $"gap-s{s}", "predictions.csv"), "predicted");
            var test = rows.Where(r => r.Split == "test").ToArray();
            double trainMean = rows.Where(r => r.Split == "train").Average(r => r.Actual);
            var m = RegressionMetrics.Compute(test.Select(r => r.Actual).ToArray(), test.Select(r => r.Value).ToArray());
            double meanMae = test.Average(r => Math.Abs(r.Actual - trainMean));
            double PeerMae(string file) => cgcnn is not null && File.Exists(Path.Combine(cgcnn, file))
                ? ReadPeer(Path.Combine(cgcnn, file)).Average(r => Math.Abs(r.Actual - r.Value)) : double.NaN;
            double peer30 = PeerMae($"gap_split{s}_test.csv"), peer300 = PeerMae($"gap_split{s}_e300_test.csv");
            gapRows.Add([m.Mae, meanMae, peer30, peer300]);
            Console.WriteLine(FormattableString.Invariant(
                $"| {s} | {m.Count} | {m.Mae:F3} | {m.Rmse:F3} | {meanMae:F3} | {TrainingSeconds(Path.Combine(runs, $"gap-s{s}")):F0} | {peer30:F3} | {peer300:F3} |"));
        }

        Console.WriteLine(FormattableString.Invariant(
            $"| mean | | {gapRows.Average(r => r[0]):F3} | | {gapRows.Average(r => r[1]):F3} | | {FiniteMean(gapRows.Select(r => r[2])):F3} | {FiniteMean(gapRows.Select(r => r[3])):F3} |"));

        Console.WriteLine("\nOn every crystal: the two-stage rules, one network regressing dir_gap on all crystals (DIR/reg-sS, --loss mse), and 0; " +
                          "validation MAE / test MAE (eV).");
        Console.WriteLine("\n| split | two-stage expected (p x gap) | two-stage gate | one regression on all | predicting 0 | best on validation | CGCNN two-stage (P x gap), test |");
        Console.WriteLine("|---|---|---|---|---|---|---|");
        foreach (int s in splits)
        {
            var classes = ReadRun(Path.Combine(runs, $"cls-s{s}", "predictions.csv"), "probability");
            var metrics = JsonDocument.Parse(File.ReadAllText(Path.Combine(runs, $"cls-s{s}", "metrics.json"))).RootElement;
            double threshold = metrics.GetProperty("classification").GetProperty("threshold").GetDouble();
            var conditional = ReadPredictions(Path.Combine(runs, $"gap-s{s}", "all.csv"));
            (double[] Actual, double[] Probability, double[] Gap) Part(string split)
            {
                var part = classes.Where(r => r.Split == split).ToArray();
                return (part.Select(r => gap[r.Id]).ToArray(), part.Select(r => r.Value).ToArray(), part.Select(r => conditional[r.Id]).ToArray());
            }

            var validation = Part("val");
            var test = Part("test");
            double Mae(double[] predicted, double[] actual) => predicted.Select((p, i) => Math.Abs(p - actual[i])).Average();
            var candidates = new List<(string Name, double Validation, double Test)>();
            foreach (var rule in new[] { TwoStageRule.Expected, TwoStageRule.Gate })
                candidates.Add((rule.ToString().ToLowerInvariant(), Mae(TwoStage.Combine(validation.Probability, validation.Gap, threshold, rule), validation.Actual),
                    Mae(TwoStage.Combine(test.Probability, test.Gap, threshold, rule), test.Actual)));
            string direct = Path.Combine(runs, $"reg-s{s}", "predictions.csv");
            if (File.Exists(direct))
            {
                var regressed = ReadRun(direct, "predicted").ToDictionary(r => r.Id, r => Math.Max(0, r.Value));
                double DirectMae(string split) => classes.Where(r => r.Split == split).Average(r => Math.Abs(regressed[r.Id] - gap[r.Id]));
                candidates.Add(("regression", DirectMae("val"), DirectMae("test")));
            }

            candidates.Add(("zero", validation.Actual.Average(), test.Actual.Average()));
            string peer = "–";
            if (cgcnn is not null && File.Exists(Path.Combine(cgcnn, $"cls_split{s}_test.csv")) && File.Exists(Path.Combine(cgcnn, $"gap_all_split{s}_test.csv")))
            {
                var probability = ReadPeer(Path.Combine(cgcnn, $"cls_split{s}_test.csv")).ToDictionary(r => r.Id, r => r.Value);
                var peerGap = ReadPeer(Path.Combine(cgcnn, $"gap_all_split{s}_test.csv"));
                peer = peerGap.Average(r => Math.Abs(probability[r.Id] * Math.Max(0, r.Value) - gap[r.Id])).ToString("F3", CultureInfo.InvariantCulture);
            }

            string Cell(string name) => candidates.FirstOrDefault(c => c.Name == name) is { Name: not null } c
                ? FormattableString.Invariant($"{c.Validation:F3} / {c.Test:F3}") : "–";
            var best = candidates.MinBy(c => c.Validation);
            Console.WriteLine(FormattableString.Invariant(
                $"| {s} | {Cell("expected")} | {Cell("gate")} | {Cell("regression")} | {Cell("zero")} | {best.Name} (test {best.Test:F3}) | {peer} |"));
        }

        return 0;
    }

    /// <summary>The mean of the splits a peer has run (NaN for none).</summary>
    private static double FiniteMean(IEnumerable<double> values) => values.Where(double.IsFinite).DefaultIfEmpty(double.NaN).Average();

    /// <summary>Seconds of training of a run: its slowest member's, resumed runs included (metrics.json counts only the last command).</summary>
    private static double TrainingSeconds(string run)
    {
        var histories = Directory.Exists(Path.Combine(run, "members"))
            ? Directory.GetDirectories(Path.Combine(run, "members")).Select(m => Path.Combine(m, "history.csv"))
            : [Path.Combine(run, "history.csv")];
        return histories.Max(h => double.Parse(File.ReadLines(h).Last().Split(',')[^1], CultureInfo.InvariantCulture));
    }

    /// <summary>A train run's predictions.csv: id, split, actual and the named value column.</summary>
    private static (string Id, string Split, double Actual, double Value)[] ReadRun(string path, string valueColumn)
    {
        var lines = File.ReadAllLines(path);
        var header = lines[0].Split(',');
        int actual = Array.IndexOf(header, "actual"), value = Array.IndexOf(header, valueColumn);
        if (actual < 0 || value < 0) throw new InvalidDataException($"{path}: expected columns actual and {valueColumn} in '{lines[0]}'");
        return lines.Skip(1).Select(l => l.Split(',')).Select(f => (f[0], f[1], double.Parse(f[actual], CultureInfo.InvariantCulture),
            double.Parse(f[value], CultureInfo.InvariantCulture))).ToArray();
    }

    /// <summary>`sagatsr predict` output: id and the first prediction column.</summary>
    private static Dictionary<string, double> ReadPredictions(string path) => File.ReadLines(path).Skip(1).Select(l => l.Split(','))
        .ToDictionary(f => f[0], f => double.Parse(f[2], CultureInfo.InvariantCulture));

    /// <summary>The peer's per-crystal files: material_id, actual, then its probability or prediction.</summary>
    private static (string Id, double Actual, double Value)[] ReadPeer(string path) => File.ReadLines(path).Skip(1).Select(l => l.Split(','))
        .Select(f => (f[0], double.Parse(f[1], CultureInfo.InvariantCulture), double.Parse(f[2], CultureInfo.InvariantCulture))).ToArray();
}
