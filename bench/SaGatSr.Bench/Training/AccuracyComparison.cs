using System.Globalization;
using System.Text.Json;
using SaGatSr.Cli.Reports;
using SaGatSr.Gat.Materials;
using SaGatSr.Gat.Model;
using SaGatSr.Gat.Training;
using SaGatSr.Kernels;

namespace SaGatSr.Bench;

/// <summary>
/// Accuracy side by side: the same network with the SAE, with CGCNN's one-hot encoding, and with a plain fully connected
/// embedding of the SAE's features, and the training-mean predictor, on every target and seeded split asked for. Every
/// run is appended to a JSON-lines log as it finishes, so a long study loses nothing when interrupted. With --search only
/// validation errors are printed or logged: settings are chosen on them, never on test.
/// </summary>
public static partial class Comparisons
{
    private sealed record AccuracyVariant(string Name, string Featurizer, string Encoder, string Description);

    private static readonly AccuracyVariant[] AccuracyVariants =
    [
        new("sae", "sae", "sae", "SA-GAT with the SAE over the site-aware descriptors (195)"),
        new("cgcnn", "cgcnn", "fcn", "the same network with CGCNN's 92-dim one-hot atom encoding through a linear embedding, as CGCNN embeds it"),
        new("fcn", "sae", "fcn", "the same network with one fully connected layer over the same standardised descriptors"),
    ];

    private sealed record AccuracyRun(string Target, int Seed, string Variant, double ValidationMae, double? TestMae, double? TestR2,
        double TrainMae, int Epochs, int BestEpoch, double SecondsPerEpoch, double SecondsToBest, double Seconds,
        double? MeanPredictorMae, double? MeanPredictorR2, string[]? TestIds, double[]? TestActual, double[]? TestPredicted);

    private static void RegisterAccuracy() => Register("accuracy",
        "SAE vs CGCNN one-hot vs FCN embedding vs the mean, over targets and seeded splits [--data folder] [--targets a,b] " +
        "[--seeds 1,2,3] [--variants sae,cgcnn,fcn] [--search] [--log runs.jsonl] [--parity fig.png] [--sae-logits true|false] [--sae-temperature 0.3] [training options as in sagatsr train]",
        RunAccuracy);

    private static int RunAccuracy(string[] args)
    {
        string dataPath = OptionValue(args, "--data", RepositoryPaths.ShippedDataset);
        var seeds = OptionValue(args, "--seeds", "1,2,3").Split(',').Select(int.Parse).ToArray();
        var variants = OptionValue(args, "--variants", "sae,cgcnn,fcn").Split(',').Select(name =>
            AccuracyVariants.FirstOrDefault(v => v.Name == name) ??
            throw new ArgumentException($"--variants: unknown '{name}'; known: {string.Join(", ", AccuracyVariants.Select(v => v.Name))}")).ToArray();
        bool search = args.Contains("--search");
        string? logPath = OptionValue(args, "--log", "") is { Length: > 0 } log ? log : null;
        string? parityPath = OptionValue(args, "--parity", "") is { Length: > 0 } parity ? parity : null;
        string tag = OptionValue(args, "--tag", "");
        var (architecture, options, graphOptions) = AccuracySettings(args);

        var watch = System.Diagnostics.Stopwatch.StartNew();
        var dataset = Dataset.Load(dataPath);
        if (dataset.Skipped.Count > 0) Console.WriteLine(dataset.SkippedSummary(5));
        var targets = OptionValue(args, "--targets", string.Join(",", dataset.TargetNames)).Split(',');
        var structures = dataset.Entries.Select(e => e.Structure).ToArray();
        var featurized = variants.Select(v => v.Featurizer).Distinct().ToDictionary(name => name, name =>
        {
            var featurizer = SamplePreparer.CreateFeaturizer(name);
            return (featurizer.Features, Inputs: SamplePreparer.Featurize(structures, featurizer, graphOptions));
        });
        Console.WriteLine($"{dataPath}: {structures.Length} crystals, {structures.Sum(s => s.AtomCount)} atoms, loaded and featurized in " +
                          $"{watch.Elapsed.TotalSeconds:F1} s; {Environment.ProcessorCount} logical CPUs; split {options.TrainRatio:0.##}/" +
                          $"{options.ValidationRatio:0.##}/{1 - options.TrainRatio - options.ValidationRatio:0.##}");
        Console.WriteLine($"network: hidden {architecture.Hidden}, {architecture.Heads} heads, {architecture.Layers} layers ({architecture.Messages} messages), head dropout {architecture.Dropout:G3}; cutoff {graphOptions.Cutoff} A, " +
                          $"{graphOptions.MaxNeighbors} neighbours, {graphOptions.GaussianCount} Gaussians; SAE per-feature logits {(architecture.SaeFeatureLogits ? "on" : "off")}, " +
                          $"temperature {architecture.SaeTemperature:G3}, {architecture.SaeHeads} head(s)");
        Console.WriteLine($"training: batch {options.BatchSize}, lr {options.LearningRate:G3} ({options.Schedule}" +
                          $"{(options.Schedule == "cosine" ? $", warm-up {options.Warmup:G3} epochs" : "")}), {options.Loss} loss, " +
                          $"weight decay {options.WeightDecay:G3}, EMA {(options.EmaDecay > 0 ? options.EmaDecay.ToString("G4", CultureInfo.InvariantCulture) : "off")}, " +
                          $"clip {options.ClipNorm:G3}, up to {options.Epochs} epochs, patience {options.Patience}{(tag == "" ? "" : $"; tag {tag}")}");
        foreach (var variant in variants) Console.WriteLine($"  {variant.Name,-6} {variant.Description}");
        Console.WriteLine(search
            ? $"{"target",-10} {"seed",4} {"variant",-7} {"val MAE",8} {"train MAE",9} {"best",5} {"epochs",6} {"s/epoch",8} {"s to best",9}"
            : $"{"target",-10} {"seed",4} {"variant",-7} {"test MAE",9} {"test R2",8} {"val MAE",8} {"train MAE",9} {"best",5} {"epochs",6} {"s/epoch",8} {"s to best",9}");

        using var backend = Devices.Create(OptionValue(args, "--device", "cpu"));
        var runs = new List<AccuracyRun>();
        foreach (var target in targets)
        {
            int column = dataset.TargetNames.ToList().IndexOf(target);
            if (column < 0) throw new ArgumentException($"--targets: no target '{target}' in {dataPath}; it has {string.Join(", ", dataset.TargetNames)}.");
            foreach (int seed in seeds)
            {
                foreach (var variant in variants)
                {
                    var (features, inputs) = featurized[variant.Featurizer];
                    var data = new TrainingData(dataset.Entries.Select(e => e.Id).ToArray(), inputs,
                        dataset.Entries.Select(e => e.Targets[column]).ToArray(), target, features, variant.Featurizer, graphOptions, dataPath);
                    // A line every 10 epochs, so a long run shows where it is.
                    var progress = new EpochProgress(p =>
                    {
                        if (p.Batch == 0 && p.Epoch % 10 == 0)
                            Console.Error.WriteLine($"    {target} seed {seed} {variant.Name}: epoch {p.Epoch} val MAE {p.ValidationMae:F4} (best {p.BestValidationMae:F4}) lr {p.LearningRate:G3}");
                    });
                    var result = Trainer.Train(backend, data, architecture with { Seed = seed, Encoder = variant.Encoder },
                        options with { Seed = seed }, progress);
                    result.Model.Dispose();
                    var history = result.History;
                    var epochSeconds = history.Select((h, i) => h.Seconds - (i > 0 ? history[i - 1].Seconds : 0)).Order().ToArray();
                    double trainMean = result.Train.Actual.Average();
                    var mean = RegressionMetrics.Compute(result.Test.Actual, result.Test.Actual.Select(_ => trainMean).ToArray());
                    var run = new AccuracyRun(target, seed, variant.Name, result.Validation.Metrics.Mae,
                        search ? null : result.Test.Metrics.Mae, search ? null : result.Test.Metrics.R2, result.Train.Metrics.Mae,
                        history.Count, result.BestEpoch, epochSeconds[epochSeconds.Length / 2], history[result.BestEpoch - 1].Seconds,
                        history[^1].Seconds, search ? null : mean.Mae, search ? null : mean.R2, search ? null : result.Test.Ids,
                        search ? null : result.Test.Actual, search ? null : result.Test.Predicted);
                    runs.Add(run);
                    Console.WriteLine(search
                        ? $"{target,-10} {seed,4} {variant.Name,-7} {run.ValidationMae,8:F4} {run.TrainMae,9:F4} {run.BestEpoch,5} {run.Epochs,6} " +
                          $"{run.SecondsPerEpoch,8:F2} {run.SecondsToBest,9:F0}"
                        : $"{target,-10} {seed,4} {variant.Name,-7} {run.TestMae,9:F4} {run.TestR2,8:F3} {run.ValidationMae,8:F4} {run.TrainMae,9:F4} " +
                          $"{run.BestEpoch,5} {run.Epochs,6} {run.SecondsPerEpoch,8:F2} {run.SecondsToBest,9:F0}");
                    if (logPath is not null)
                        File.AppendAllText(logPath, JsonSerializer.Serialize(new
                        {
                            tag, data = dataPath, time = DateTime.UtcNow.ToString("O"), run, architecture = architecture with { FeatureNames = [], FeatureDescriptions = [] },
                            options, graph = new { graphOptions.Cutoff, graphOptions.MaxNeighbors, graphOptions.GaussianCount },
                            history = search ? null : history.Select(h => new[] { h.Epoch, h.TrainLoss, h.ValidationMae, h.LearningRate, h.Seconds }),
                            validationHistory = history.Select(h => Math.Round(h.ValidationMae, 5)),
                        }) + "\n");
                }

                if (!search)
                {
                    var first = runs.First(r => r.Target == target && r.Seed == seed);
                    Console.WriteLine($"{target,-10} {seed,4} {"mean",-7} {first.MeanPredictorMae,9:F4} {first.MeanPredictorR2,8:F3}");
                }
            }
        }

        Console.WriteLine();
        Console.WriteLine($"means over seeds {string.Join(",", seeds)}:");
        foreach (var target in targets)
        foreach (var variant in variants)
        {
            var set = runs.Where(r => r.Target == target && r.Variant == variant.Name).ToArray();
            string spread(Func<AccuracyRun, double> value) => $"{set.Average(value):F4} (sd {StandardDeviation(set.Select(value)):F4})";
            Console.WriteLine($"{target,-10} {variant.Name,-7} " + (search ? "" : $"test MAE {spread(r => r.TestMae!.Value)}  test R2 {set.Average(r => r.TestR2!.Value):F3}  ") +
                              $"val MAE {spread(r => r.ValidationMae)}  train MAE {set.Average(r => r.TrainMae):F4}  s/epoch {Median(set.Select(r => r.SecondsPerEpoch)):F2}  " +
                              $"s to best {set.Average(r => r.SecondsToBest):F0}  best epoch {set.Average(r => r.BestEpoch):F0}");
        }

        if (!search)
            foreach (var target in targets)
            {
                var set = runs.Where(r => r.Target == target).DistinctBy(r => r.Seed).ToArray();
                Console.WriteLine($"{target,-10} {"mean",-7} test MAE {set.Average(r => r.MeanPredictorMae!.Value):F4}  test R2 {set.Average(r => r.MeanPredictorR2!.Value):F3}");
            }

        if (parityPath is not null && !search)
        {
            // One panel per variant, in the paper's order (FCN, CGCNN, SAE): the test crystals of every seeded split.
            var target = targets[0];
            var panels = variants.OrderBy(v => v.Name switch { "fcn" => 0, "cgcnn" => 1, _ => 2 }).Select(v =>
            {
                var set = runs.Where(r => r.Target == target && r.Variant == v.Name).ToArray();
                var actual = set.SelectMany(r => r.TestActual!).ToArray();
                var predicted = set.SelectMany(r => r.TestPredicted!).ToArray();
                var metrics = RegressionMetrics.Compute(actual, predicted);
                string label = v.Name switch { "fcn" => "FCN embedding", "cgcnn" => "CGCNN one-hot", _ => "SAE" };
                return ($"{label}: MAE {metrics.Mae:F3}, R2 {metrics.R2:F3}", actual, predicted);
            }).ToArray();
            Plots.ParityPanels(parityPath, target, panels);
            Console.WriteLine($"parity figure: {parityPath} (test crystals of seeds {string.Join(",", seeds)}, target {target})");
        }

        return 0;
    }

    private sealed class EpochProgress(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }

    /// <summary>Library defaults, overridden by the same option names `sagatsr train` takes.</summary>
    private static (SaGatConfig, TrainingOptions, GraphOptions) AccuracySettings(string[] args)
    {
        var config = new SaGatConfig();
        var options = new TrainingOptions();
        var graph = new GraphOptions();
        string Get(string name, object fallback) => OptionValue(args, name, Convert.ToString(fallback, CultureInfo.InvariantCulture)!);
        int Int(string name, int fallback) => int.Parse(Get(name, fallback), CultureInfo.InvariantCulture);
        double Double(string name, double fallback) => double.Parse(Get(name, fallback), CultureInfo.InvariantCulture);
        config = config with
        {
            Hidden = Int("--hidden", config.Hidden), Heads = Int("--heads", config.Heads), Layers = Int("--layers", config.Layers),
            Dropout = (float)Double("--dropout", config.Dropout), Messages = Get("--messages", config.Messages),
            SaeFeatureLogits = bool.Parse(Get("--sae-logits", config.SaeFeatureLogits)),
            SaeTemperature = (float)Double("--sae-temperature", config.SaeTemperature),
            SaeHeads = Int("--sae-heads", config.SaeHeads),
        };
        options = options with
        {
            Epochs = Int("--epochs", options.Epochs), BatchSize = Int("--batch-size", options.BatchSize),
            LearningRate = (float)Double("--lr", options.LearningRate), WeightDecay = (float)Double("--weight-decay", options.WeightDecay),
            ClipNorm = Double("--clip", options.ClipNorm), Loss = Get("--loss", options.Loss), Patience = Int("--patience", options.Patience),
            Schedule = Get("--schedule", options.Schedule), WarmupEpochs = OptionValue(args, "--warmup", "") is { Length: > 0 } warmup ? double.Parse(warmup, CultureInfo.InvariantCulture) : null,
            EmaDecay = (float)Double("--ema", options.EmaDecay), MinLearningRate = (float)Double("--min-lr", options.MinLearningRate),
            LearningRatePatience = Int("--lr-patience", options.LearningRatePatience),
            TrainRatio = Double("--train-ratio", options.TrainRatio), ValidationRatio = Double("--val-ratio", options.ValidationRatio),
        };
        graph.Cutoff = Double("--cutoff", graph.Cutoff);
        graph.MaxNeighbors = Int("--max-neighbors", graph.MaxNeighbors);
        graph.GaussianCount = Int("--gaussians", graph.GaussianCount);
        return (config, options, graph);
    }

    private static double StandardDeviation(IEnumerable<double> values)
    {
        var array = values.ToArray();
        if (array.Length < 2) return 0;
        double mean = array.Average();
        return Math.Sqrt(array.Sum(v => (v - mean) * (v - mean)) / (array.Length - 1));
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length == 0 ? double.NaN : sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }
}
