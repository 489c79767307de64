using System.Globalization;
using System.Text;
using System.Text.Json;
using SaGatSr.Cli.Reports;
using SaGatSr.Gat.Materials;
using SaGatSr.Gat.Model;
using SaGatSr.Gat.Training;
using SaGatSr.Kernels;
using SaGatSr.Mpi;

namespace SaGatSr.Cli.Commands;

internal sealed record TrainArguments(string Dataset, string? Target, string Output, string? Device, int Epochs, int BatchSize,
    float LearningRate, int Hidden, int Heads, int Layers, double Cutoff, int MaxNeighbors, string Featurizer, string? SplitFile,
    double TrainRatio, double ValidationRatio, int Seed, int Patience, string Loss, bool Resume,
    DisorderPolicy Disorder = StructureReader.DefaultDisorderPolicy, string StructureColumn = Dataset.DefaultStructureColumn,
    string? Encoder = null, string? Schedule = null, double? WarmupEpochs = null, float? EmaDecay = null, float? WeightDecay = null,
    int? GaussianCount = null, float? Dropout = null, string? Messages = null)
{
    // Null settings take the library's defaults (TrainingOptions, SaGatConfig, GraphOptions), so callers name only what they change.
    private static readonly TrainingOptions DefaultTraining = new();
    private static readonly SaGatConfig DefaultArchitecture = new();
    private static readonly GraphOptions DefaultGraph = new();

    public TrainingOptions ToTrainingOptions() => new()
    {
        Epochs = Epochs, BatchSize = BatchSize, LearningRate = LearningRate, SplitFile = SplitFile, TrainRatio = TrainRatio,
        ValidationRatio = ValidationRatio, Seed = Seed, Patience = Patience, Loss = Loss, CheckpointDirectory = Output,
        Resume = Resume, Schedule = Schedule ?? DefaultTraining.Schedule, WarmupEpochs = WarmupEpochs,
        EmaDecay = EmaDecay ?? DefaultTraining.EmaDecay, WeightDecay = WeightDecay ?? DefaultTraining.WeightDecay,
    };

    public SaGatConfig ToArchitecture() => new()
    {
        Hidden = Hidden, Heads = Heads, Layers = Layers, Seed = Seed, Encoder = Encoder ?? DefaultArchitecture.Encoder,
        Dropout = Dropout ?? DefaultArchitecture.Dropout, Messages = Messages ?? DefaultArchitecture.Messages,
    };

    public GraphOptions ToGraphOptions() => new()
    {
        Cutoff = Cutoff, MaxNeighbors = MaxNeighbors, GaussianCount = GaussianCount ?? DefaultGraph.GaussianCount,
    };
}

/// <summary>A dataset with one target chosen and every structure turned into a graph and features.</summary>
internal sealed record PreparedDataset(Dataset Dataset, int TargetColumn, TrainingData Data, Structure[] Structures);

internal static class TrainCommand
{
    public const string ModelFileName = "model.sagat";

    public static int Run(TrainArguments arguments, CancellationToken cancel)
    {
        using var claim = Communicator.World.IsRoot ? OutputLock.Acquire(arguments.Output, Console.Error.WriteLine) : null;
        using var backend = DevicesCommand.Open(arguments.Device);
        var prepared = Prepare(arguments);
        using var result = Train(backend, prepared, arguments, cancel);
        return 0;
    }

    public static PreparedDataset Prepare(TrainArguments arguments)
    {
        var dataset = ConsoleProgress.Run("loading structures", sink =>
            Dataset.Load(arguments.Dataset, progress: new Progress<(int done, int total)>(p =>
                sink.Report((double)p.done / p.total, $"{p.done}/{p.total}")), structureColumn: arguments.StructureColumn, disorder: arguments.Disorder));
        if (dataset.Skipped.Count > 0) Console.Error.WriteLine(dataset.SkippedSummary());
        if (dataset.Warnings.Count > 0) Console.Error.WriteLine(dataset.WarningSummary());
        DisorderReport.Print(dataset.Entries.Select(e => e.Structure).ToList(), arguments.Disorder);
        int column = ChooseTarget(dataset, arguments.Target, arguments.Dataset);
        var usable = dataset.Entries.Where(e => double.IsFinite(e.Targets[column])).ToArray();
        if (usable.Length < dataset.Entries.Count)
        {
            var gaps = dataset.TargetGaps.Where(g => g.Target == column).ToList();
            Console.Error.WriteLine($"skipped {dataset.Entries.Count - usable.Length} crystals with no value for target '{dataset.TargetNames[column]}'" +
                                    string.Concat(gaps.Take(20).Select(g => $"\n  {g.Id}: {g.Reason}")) +
                                    (gaps.Count > 20 ? $"\n  ... and {gaps.Count - 20} more" : ""));
        }
        var structures = usable.Select(e => e.Structure).ToArray();
        var featurizer = SamplePreparer.CreateFeaturizer(arguments.Featurizer);
        var graphOptions = arguments.ToGraphOptions();
        var memory = MemoryEstimate.ForTraining(structures, featurizer.Features.Count, graphOptions);
        Console.Error.WriteLine(memory);
        memory.EnsureFits();
        var inputs = ConsoleProgress.Run("building graphs and features", sink =>
            SamplePreparer.Featurize(structures, featurizer, graphOptions, new Progress<(int Done, int Total)>(p =>
                sink.Report((double)p.Done / p.Total, $"{p.Done}/{p.Total}"))));
        Console.Error.WriteLine($"dataset: {usable.Length} crystals, {structures.Sum(s => s.AtomCount)} atoms, " +
                                $"{inputs.Sum(i => i.Graph.EdgeCount)} edges, {featurizer.Features.Count} features per atom; " +
                                $"target '{dataset.TargetNames[column]}'");
        var data = new TrainingData(usable.Select(e => e.Id).ToArray(), inputs, usable.Select(e => e.Targets[column]).ToArray(),
            dataset.TargetNames[column], featurizer.Features, arguments.Featurizer, graphOptions, Path.GetFullPath(arguments.Dataset));
        InputCheck.EnsureFinite(data);
        return new PreparedDataset(dataset, column, data, structures);
    }

    private static int ChooseTarget(Dataset dataset, string? target, string path)
    {
        if (target is null) return 0;
        int byName = dataset.TargetNames.ToList().FindIndex(n => string.Equals(n, target, StringComparison.OrdinalIgnoreCase));
        if (byName >= 0) return byName;
        if (int.TryParse(target, out int index) && index >= 1 && index <= dataset.TargetNames.Count) return index - 1;
        throw new ArgumentException($"{path}: no target column '{target}'; the columns are " +
                                    string.Join(", ", dataset.TargetNames.Select((n, i) => $"{i + 1} ({n})")) + ".");
    }

    public static TrainedModel Train(IComputeBackend backend, PreparedDataset prepared, TrainArguments arguments,
        CancellationToken cancel)
    {
        Directory.CreateDirectory(arguments.Output);
        // Under mpirun the ranks split every batch; rank 0 writes the checkpoint, the model and the report.
        var options = arguments.ToTrainingOptions() with { DataParallel = Communicator.World };
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var result = ConsoleProgress.Run("training SA-GAT", sink =>
            Trainer.Train(backend, prepared.Data, arguments.ToArchitecture(), options, new Progress<TrainingProgress>(p =>
            {
                if (p.Message is not null)
                {
                    Console.Error.WriteLine(p.Message);
                    return;
                }

                double fraction = (p.Epoch - 1 + (p.Batch > 0 ? (double)p.Batch / p.Batches : 1.0)) / p.Epochs;
                string status = p.Batch > 0
                    ? $"epoch {p.Epoch}/{p.Epochs} batch {p.Batch}/{p.Batches} loss {p.TrainLoss:F4}"
                    : $"epoch {p.Epoch}/{p.Epochs} loss {p.TrainLoss:F4} val MAE {p.ValidationMae:G4} (best {p.BestValidationMae:G4}) lr {p.LearningRate:G3}";
                sink.Report(fraction, status, important: p.Batch == 0 && (p.Epoch % 10 == 0 || p.Epoch == 1));
            }), cancel));
        var modelPath = Path.Combine(arguments.Output, ModelFileName);
        if (!Communicator.World.IsRoot) return result.Model;
        ModelFile.Save(modelPath, result.Model);
        WriteReport(arguments.Output, result, prepared, arguments.Disorder, watch.Elapsed);
        Console.WriteLine($"best epoch {result.BestEpoch}{(result.StoppedEarly ? " (early stop)" : "")}, {watch.Elapsed.TotalSeconds:F1} s" +
                          (Communicator.World.Size > 1 ? $" on {Communicator.World.Size} data-parallel ranks" : ""));
        Console.WriteLine($"train      {result.Train.Metrics}");
        Console.WriteLine($"validation {result.Validation.Metrics}");
        Console.WriteLine($"test       {result.Test.Metrics}");
        double meanBaseline = result.Train.Actual.Average();
        var baseline = RegressionMetrics.Compute(result.Test.Actual, result.Test.Actual.Select(_ => meanBaseline).ToArray());
        Console.WriteLine($"test, predicting the training mean: MAE {baseline.Mae:G4}");
        Console.WriteLine($"model: {modelPath}");
        return result.Model;
    }

    private static void WriteReport(string folder, TrainingResult result, PreparedDataset prepared, DisorderPolicy disorder, TimeSpan elapsed)
    {
        string targetName = prepared.Data.TargetName;
        var csv = new StringBuilder("id,split,actual,predicted\n");
        foreach (var (name, set) in new[] { ("train", result.Train), ("val", result.Validation), ("test", result.Test) })
            for (int i = 0; i < set.Ids.Length; i++)
                csv.Append(CultureInfo.InvariantCulture, $"{set.Ids[i]},{name},{set.Actual[i]:R},{set.Predicted[i]:R}\n");
        File.WriteAllText(Path.Combine(folder, "predictions.csv"), csv.ToString());

        var history = new StringBuilder("epoch,train_loss,val_mae,lr\n");
        foreach (var e in result.History)
            history.Append(CultureInfo.InvariantCulture, $"{e.Epoch},{e.TrainLoss:R},{e.ValidationMae:R},{e.LearningRate:R}\n");
        File.WriteAllText(Path.Combine(folder, "history.csv"), history.ToString());

        double baseline = result.Train.Actual.Average();
        File.WriteAllText(Path.Combine(folder, "metrics.json"), JsonSerializer.Serialize(new
        {
            target = targetName,
            best_epoch = result.BestEpoch,
            stopped_early = result.StoppedEarly,
            seconds = elapsed.TotalSeconds,
            train = result.Train.Metrics,
            validation = result.Validation.Metrics,
            test = result.Test.Metrics,
            test_mean_predictor = RegressionMetrics.Compute(result.Test.Actual, result.Test.Actual.Select(_ => baseline).ToArray()),
            disorder = new
            {
                policy = DisorderReport.Name(disorder),
                sites = prepared.Structures.Sum(s => s.DisorderedSites),
                structures = prepared.Structures.Count(s => s.DisorderedSites > 0),
            },
        }, ModelFile.Json));

        Plots.Parity(Path.Combine(folder, "parity.png"), $"SA-GAT: {targetName}", targetName,
        [
            ("train", result.Train.Actual, result.Train.Predicted),
            ("val", result.Validation.Actual, result.Validation.Predicted),
            ($"test (MAE {result.Test.Metrics.Mae:G3})", result.Test.Actual, result.Test.Predicted),
        ]);
        if (result.History.Count > 0)
            Plots.TrainingCurve(Path.Combine(folder, "training_curve.png"),
                result.History.Select(h => (h.Epoch, h.TrainLoss, h.ValidationMae)).ToArray(), targetName);
        if (result.Model.Importance is { } importance)
            ImportanceCommand.WriteChart(Path.Combine(folder, "importance.png"), importance, 20);
    }
}
