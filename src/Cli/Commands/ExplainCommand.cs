using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using SaGatSr.Cli.Reports;
using SaGatSr.Gat.Materials;
using SaGatSr.Gat.Model;
using SaGatSr.Gat.Training;
using SaGatSr.Mpi;
using SaGatSr.Pipeline;
using SaGatSr.Symbolic;

namespace SaGatSr.Cli.Commands;

internal sealed record ExplainArguments(TrainArguments Training, SrArguments Sr, string Output, string? ModelPath, int? TopK,
    bool WithPrediction);

/// <summary>
/// SA-GAT-SR from the command line: prepares the data, trains (or reuses) the network, then hands everything after
/// training to <see cref="Explainer"/> and writes its report with plots. Each finished stage leaves its files, so a rerun
/// after a crash resumes: training from its checkpoint, and a finished model is reused rather than retrained.
/// </summary>
internal static class ExplainCommand
{
    /// <summary>The shipped perovskites: the demo trains on them and distils a formula in site terms.</summary>
    public static int RunDemo(string output, int epochs, string? device, CancellationToken cancel)
    {
        var dataset = Path.Combine(AppContext.BaseDirectory, "data", "perovskites", "perovskites.csv");
        if (!File.Exists(dataset))
            throw new FileNotFoundException($"{dataset}: the shipped demo dataset is missing from the build output.", dataset);
        // The library's defaults throughout, only fewer epochs (the cosine schedule decays over them) to stay near a minute.
        var defaults = new TrainingOptions();
        var architecture = new SaGatConfig();
        var graph = new GraphOptions();
        var training = new TrainArguments(dataset, "heat_ref", Path.Combine(output, "model"), device, epochs, defaults.BatchSize,
            defaults.LearningRate, architecture.Hidden, architecture.Heads, architecture.Layers, graph.Cutoff, graph.MaxNeighbors, "sae",
            SplitFile: null, defaults.TrainRatio, defaults.ValidationRatio, Seed: 42, Patience: epochs, defaults.Loss, Resume: true);
        var sr = new SrArguments("sisso", null, 30, 60, 1, 2, 3, device);
        return Run(new ExplainArguments(training, sr, output, null, null, WithPrediction: false), cancel);
    }

    public static int Run(ExplainArguments arguments, CancellationToken cancel)
    {
        if (arguments.Training.Encoder is not (null or "sae") && arguments.ModelPath is null)
            throw new ArgumentException($"explain screens features by SAE importance; --encoder {arguments.Training.Encoder} ranks none. Use --encoder sae.");
        var total = Stopwatch.StartNew();
        Directory.CreateDirectory(arguments.Output);
        using var claim = Communicator.World.IsRoot ? OutputLock.Acquire(arguments.Output, Console.Error.WriteLine) : null;
        using var trainingClaim = Communicator.World.IsRoot && Path.GetFullPath(arguments.Training.Output) != Path.GetFullPath(arguments.Output)
            ? OutputLock.Acquire(arguments.Training.Output, Console.Error.WriteLine) : null;
        using var backend = DevicesCommand.Open(arguments.Training.Device);
        var prepared = TrainCommand.Prepare(arguments.Training, arguments.Training.ToMembers().Select(m => m.Featurizer));
        var data = prepared.Data;

        var modelPath = arguments.ModelPath ?? Path.Combine(arguments.Training.Output, TrainCommand.ModelFileName);
        var trainWatch = Stopwatch.StartNew();
        EnsembleModel ensemble;
        if (File.Exists(modelPath) && (arguments.ModelPath is not null || arguments.Training.Resume))
        {
            Console.Error.WriteLine($"using the trained model {modelPath}");
            ensemble = ModelFile.LoadEnsemble(modelPath, backend);
        }
        else ensemble = TrainCommand.Train(backend, prepared, arguments.Training, cancel).Model;

        using (ensemble)
        {
            // The model's crystals and task must be the ones prepared here, or SR would explain other crystals than it learned.
            var trained = ensemble.Members[0].Metadata;
            if (trained.Where != arguments.Training.Where)
                throw new ArgumentException($"{modelPath} was trained on the crystals of --where \"{trained.Where ?? "(none)"}\"; give explain the same --where.");
            if (ensemble.IsClassifier != (arguments.Training.Task == TargetTask.Classification))
                throw new ArgumentException(ensemble.IsClassifier
                    ? $"{modelPath} is a classifier ({trained.PositiveClass ?? trained.TargetName}); give explain the same --task classify and --threshold."
                    : $"{modelPath} is a regressor; explain it without --task classify.");
            var model = ensemble.RankingMember ?? throw new ArgumentException(
                $"{modelPath} has no SAE network ({string.Join(", ", ensemble.Metadata.Members.Select(m => m.Name))}), and explain screens " +
                "features by SAE importance: train with an sae member.");
            if (!model.Config.FeatureNames.SequenceEqual(data.Features.Features.Select(f => f.Name)))
                throw new InvalidDataException($"{modelPath} was trained on other features than --featurizer {arguments.Training.Featurizer} gives.");
            // The network's prediction, E_p, is the ensemble's mean; the SAE member ranks the descriptors.
            var networkPredictions = ensemble.Members.Count > 1 || ensemble.IsClassifier ? ensemble.Predict(prepared.Structures).Mean : null;
            var classes = data.Targets.ToArray();
            if (ensemble.IsClassifier)
            {
                // SR distils the classifier's decision function, the logit of its probability: a smooth target with the
                // network's ranking, where the 0/1 classes themselves would ask a formula for a step.
                networkPredictions = networkPredictions!.Select(p => Math.Log(Math.Clamp(p, 1e-6, 1 - 1e-6) / (1 - Math.Clamp(p, 1e-6, 1 - 1e-6)))).ToArray();
                data = data with { Targets = networkPredictions, TargetName = $"logit_{data.TargetName}" };
            }
            double trainSeconds = trainWatch.Elapsed.TotalSeconds;
            var training = arguments.Training;
            var split = Explainer.SplitOf(model, data.Ids) ?? prepared.SplitFromFile(training.SplitFile) ?? (
                DataSplit.ByRatio(data.Ids.Count, training.TrainRatio, training.ValidationRatio, training.Seed));
            var options = new ExplainOptions
            {
                Screening = new ScreeningOptions { TopK = arguments.TopK },
                SymbolicRegression = arguments.Sr.ToOptions(),
                WithPrediction = arguments.WithPrediction,
            };
            var result = Explainer.Run(model, data, prepared.Structures, split, options,
                new Progress<string>(line => Console.Error.WriteLine(line)), cancel, Communicator.World, networkPredictions);
            if (!Communicator.World.IsRoot) return 0;

            var folder = arguments.Output;
            var srFolder = Path.Combine(folder, "sr");
            Directory.CreateDirectory(srFolder);
            SrCommand.WriteReport(srFolder, result.Sr, data.TargetName);
            ExplainReport.Write(folder, result, new Dictionary<string, object?>
            {
                ["command"] = Environment.GetCommandLineArgs(),
                ["created"] = DateTime.UtcNow.ToString("O"),
                ["dataset"] = data.DatasetPath,
                ["skipped"] = prepared.Dataset.Skipped.Select(s => new { s.Id, s.Reason }),
                ["disorder"] = new { policy = training.Disorder.ToString().ToLowerInvariant(), sites = prepared.Structures.Sum(s => s.DisorderedSites) },
                ["training"] = training,
                ["model"] = modelPath,
                ["symbolic_regression_options"] = arguments.Sr,
                ["with_prediction"] = arguments.WithPrediction,
                ["seconds"] = new { training = trainSeconds, symbolic_regression = result.SrSeconds, total = total.Elapsed.TotalSeconds },
                ["peak_memory_mib"] = PeakMemoryMiB(),
                ["device"] = training.Device ?? Environment.GetEnvironmentVariable("SAGATSR_DEVICE") ?? "auto",
                ["classification"] = ensemble.IsClassifier ? ClassifierReport(result, classes) : null,
            }, modelPath);
            WritePlots(folder, result);

            var metrics = result.Metrics;
            Console.WriteLine($"SAE screening kept {result.Kept.Count} of {result.Ranking.Count} descriptors: " +
                              string.Join(", ", result.Kept.Select(d => d.Name)));
            Console.WriteLine(FormulaReport.Describe(result.Sr));
            Console.WriteLine($"chosen formula: {data.TargetName} = {result.Sr.Best.ToText()}");
            foreach (var d in result.Formula.Descriptors) Console.WriteLine($"  {d.Name}: {d.Meaning}");
            if (ensemble.IsClassifier)
            {
                var report = ClassifierReport(result, classes);
                Console.WriteLine($"test ROC-AUC against the true classes: formula {report.FormulaTestRocAuc:F3}, SA-GAT {report.NetworkTestRocAuc:F3}; " +
                                  $"the formula's MAE from the network's logit {metrics["formula"].Test.Mae:G4}");
            }
            else
                Console.WriteLine($"test MAE: SA-GAT {metrics["network"].Test.Mae:G4}, formula {metrics["formula"].Test.Mae:G4}, " +
                                  $"training mean {metrics["mean"].Test.Mae:G4}");
            Console.WriteLine($"report: {folder} ({total.Elapsed.TotalSeconds:F1} s, peak memory {PeakMemoryMiB():F0} MiB)");
        }

        return 0;
    }

    /// <summary>How well the logit formula and the network separate the true classes of the test crystals.</summary>
    private sealed record ClassifierExplanation(double FormulaTestRocAuc, double NetworkTestRocAuc, double FormulaTrainRocAuc);

    private static ClassifierExplanation ClassifierReport(ExplainResult result, double[] classes)
    {
        double Auc(int[] rows, double[] score) => ClassificationMetrics.AreaUnderRoc(rows.Select(i => classes[i]).ToArray(), rows.Select(i => score[i]).ToArray());
        return new ClassifierExplanation(Auc(result.Split.Test, result.FormulaPredictions), Auc(result.Split.Test, result.NetworkPredictions),
            Auc(result.Split.Train, result.FormulaPredictions));
    }

    private static void WritePlots(string folder, ExplainResult result)
    {
        var data = result.Data;
        var top = result.Ranking.Take(20).ToArray();
        Plots.Importance(Path.Combine(folder, "importance.png"), $"Descriptor importance (SAE, top {top.Length} of {result.Ranking.Count})",
            top.Select(d => (d.Name, d.Importance, 0.0)).ToArray(), 1.0 / data.Features.Count);
        (string, double[], double[]) Set(string name, int[] rows, double[] predicted) =>
            (name, rows.Select(i => data.Targets[i]).ToArray(), rows.Select(i => predicted[i]).ToArray());
        foreach (var (file, title, predicted, key) in new[]
                 {
                     ("parity_network.png", "SA-GAT", result.NetworkPredictions, "network"),
                     ("parity_formula.png", "Formula", result.FormulaPredictions, "formula"),
                 })
            Plots.Parity(Path.Combine(folder, file), $"{title}: {data.TargetName}", data.TargetName,
                [Set("train", result.Split.Train, predicted), Set($"test (MAE {result.Metrics[key].Test.Mae:G3})", result.Split.Test, predicted)]);
        File.Copy(Path.Combine(folder, "sr", "pareto.png"), Path.Combine(folder, "pareto.png"), overwrite: true);
    }

    private static double PeakMemoryMiB() => Process.GetCurrentProcess().PeakWorkingSet64 / (1024.0 * 1024.0);
}
