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
    int? GaussianCount = null, float? Dropout = null, string? Messages = null, int Members = EnsembleMember.DefaultCount, string? Ensemble = null)
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

    /// <summary>
    /// The networks to train: --ensemble's kinds, else --members of the default kinds; one member is the network --encoder and
    /// --featurizer describe.
    /// </summary>
    public IReadOnlyList<EnsembleMember> ToMembers()
    {
        if (Ensemble is null && Members < 1) throw new ArgumentException($"--members must be at least 1, not {Members}.");
        var kinds = Ensemble is { } list
            ? list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(k => k.ToLowerInvariant()).ToArray()
            : EnsembleMember.DefaultKinds(Members);
        if (kinds.Length == 0) throw new ArgumentException("--ensemble lists no members.");
        if (kinds.Length == 1 && Ensemble is null)
        {
            string encoder = Encoder ?? DefaultArchitecture.Encoder;
            string kind = Featurizer == "cgcnn" ? "cgcnn" : encoder;
            return [new EnsembleMember(kind, kind, encoder, Featurizer, Seed)];
        }

        if ((Encoder ?? DefaultArchitecture.Encoder) != DefaultArchitecture.Encoder || Featurizer != DefaultArchitecture.Featurizer)
            throw new ArgumentException("--encoder and --featurizer choose the network of --members 1; an ensemble's members are chosen by " +
                                        $"kind with --ensemble ({string.Join(",", EnsembleMember.Kinds)}).");
        return EnsembleMember.Recipe(kinds, Seed);
    }

    public GraphOptions ToGraphOptions() => new()
    {
        Cutoff = Cutoff, MaxNeighbors = MaxNeighbors, GaussianCount = GaussianCount ?? DefaultGraph.GaussianCount,
    };
}

/// <summary>A dataset with one target chosen and every structure turned into a graph and the features of each featurizer asked for.</summary>
/// <param name="Data">the dataset as the first featurizer gives it</param>
/// <param name="ByFeaturizer">the dataset as each featurizer gives it, the graphs shared</param>
internal sealed record PreparedDataset(Dataset Dataset, int TargetColumn, TrainingData Data, Structure[] Structures,
    IReadOnlyDictionary<string, TrainingData> ByFeaturizer);

internal static class TrainCommand
{
    public const string ModelFileName = "model.sagat";

    public static int Run(TrainArguments arguments, CancellationToken cancel)
    {
        using var claim = Communicator.World.IsRoot ? OutputLock.Acquire(arguments.Output, Console.Error.WriteLine) : null;
        using var backend = DevicesCommand.Open(arguments.Device);
        var members = arguments.ToMembers();
        var prepared = Prepare(arguments, members.Select(m => m.Featurizer));
        using var result = Train(backend, prepared, arguments, cancel);
        return 0;
    }

    public static PreparedDataset Prepare(TrainArguments arguments, IEnumerable<string>? featurizers = null)
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
        // The --featurizer's data comes first: it is what explain ranks and describes.
        var names = new[] { arguments.Featurizer }.Concat(featurizers ?? []).Distinct().ToArray();
        var featurizer = SamplePreparer.CreateFeaturizer(names[0]);
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
        // The graphs do not depend on the featurizer: another member's featurizer computes only its features. A crystal one
        // of them cannot encode (CGCNN's table ends at Z = 100) leaves every member, named, so all share one split.
        var others = names.Skip(1).Select(SamplePreparer.CreateFeaturizer).ToArray();
        var otherRows = others.Select(_ => new (CrystalGraph, float[])[structures.Length]).ToArray();
        var refused = new string?[structures.Length];
        Parallel.For(0, structures.Length, i =>
        {
            for (int f = 0; f < others.Length; f++)
            {
                try
                {
                    otherRows[f][i] = (inputs[i].Graph, others[f].Featurize(structures[i], inputs[i].Graph));
                }
                catch (StructureFormatException e)
                {
                    refused[i] = $"{e.Message}; the ensemble's {names[f + 1]} member cannot read it";
                    return;
                }
            }
        });
        var kept = Enumerable.Range(0, structures.Length).Where(i => refused[i] is null).ToArray();
        if (kept.Length < structures.Length)
        {
            var reasons = refused.Where(r => r is not null).ToArray();
            Console.Error.WriteLine($"skipped {reasons.Length} crystals that not every member can encode (--members 1 keeps them)" +
                                    string.Concat(reasons.Take(20).Select(r => $"\n  {r}")) + (reasons.Length > 20 ? $"\n  ... and {reasons.Length - 20} more" : ""));
            structures = kept.Select(i => structures[i]).ToArray();
        }

        var ids = kept.Select(i => usable[i].Id).ToArray();
        var targets = kept.Select(i => usable[i].Targets[column]).ToArray();
        TrainingData DataOf(string name, IAtomFeaturizer by, IReadOnlyList<(CrystalGraph, float[])> rows) =>
            new(ids, kept.Select(i => rows[i]).ToArray(), targets, dataset.TargetNames[column], by.Features, name, graphOptions,
                Path.GetFullPath(arguments.Dataset));
        var byFeaturizer = new Dictionary<string, TrainingData> { [names[0]] = DataOf(names[0], featurizer, inputs) };
        for (int f = 0; f < others.Length; f++) byFeaturizer[names[f + 1]] = DataOf(names[f + 1], others[f], otherRows[f]);

        foreach (var data in byFeaturizer.Values) InputCheck.EnsureFinite(data);
        return new PreparedDataset(dataset, column, byFeaturizer[names[0]], structures, byFeaturizer);
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

    public static EnsembleTrainingResult Train(IComputeBackend backend, PreparedDataset prepared, TrainArguments arguments,
        CancellationToken cancel)
    {
        Directory.CreateDirectory(arguments.Output);
        var members = arguments.ToMembers();
        // Under mpirun the ranks split every batch; rank 0 writes the checkpoint, the model and the report.
        var options = arguments.ToTrainingOptions() with { DataParallel = Communicator.World };
        var watch = System.Diagnostics.Stopwatch.StartNew();
        string label = members.Count == 1 ? "training SA-GAT" : $"training {members.Count} networks ({string.Join(", ", members.Select(m => m.Name))})";
        var result = ConsoleProgress.Run(label, sink =>
        {
            var done = new double[members.Count];
            var status = new string[members.Count];
            return EnsembleTrainer.Train(backend, prepared.ByFeaturizer, arguments.ToArchitecture(), options, members,
                new MemberProgress(report =>
                {
                    var p = report.Progress;
                    if (p.Message is not null)
                    {
                        Console.Error.WriteLine(p.Message);
                        return;
                    }

                    // Members report from their own threads: one line at a time.
                    lock (done)
                    {
                        done[report.Member] = (p.Epoch - 1 + (p.Batch > 0 ? (double)p.Batch / p.Batches : 1.0)) / p.Epochs;
                        status[report.Member] = p.Batch > 0
                            ? $"epoch {p.Epoch}/{p.Epochs} batch {p.Batch}/{p.Batches} loss {p.TrainLoss:F4}"
                            : $"epoch {p.Epoch}/{p.Epochs} loss {p.TrainLoss:F4} val MAE {p.ValidationMae:G4} (best {p.BestValidationMae:G4}) lr {p.LearningRate:G3}";
                        string text = members.Count == 1 ? status[0]
                            : report.Name + ": " + status[report.Member];
                        sink.Report(done.Average(), text, important: p.Batch == 0 && (p.Epoch % 10 == 0 || p.Epoch == 1));
                    }
                }), cancel);
        });
        var modelPath = Path.Combine(arguments.Output, ModelFileName);
        if (!Communicator.World.IsRoot) return result;
        if (members.Count == 1) ModelFile.Save(modelPath, result.Model.Members[0]);
        else ModelFile.SaveEnsemble(modelPath, result.Model);
        WriteReport(arguments.Output, result, prepared, arguments.Disorder, watch.Elapsed);
        Console.WriteLine($"{(members.Count == 1 ? "" : $"{members.Count} networks, ")}{watch.Elapsed.TotalSeconds:F1} s" +
                          (Communicator.World.Size > 1 ? $" on {Communicator.World.Size} data-parallel ranks" : ""));
        for (int m = 0; m < members.Count; m++)
        {
            var member = result.Model.Metadata.Members[m];
            var run = result.MemberResults[m];
            Console.WriteLine($"{(members.Count == 1 ? "" : $"member {member.Name,-8} ")}best epoch {member.BestEpoch}" +
                              $"{(run.StoppedEarly ? " (early stop)" : "")}" +
                              (members.Count == 1 ? "" : $", validation MAE {member.ValidationMae:G4}, test MAE {member.TestMae:G4}"));
        }

        string what = members.Count == 1 ? "" : "ensemble ";
        Console.WriteLine($"{what}train      {result.Train.Metrics}");
        Console.WriteLine($"{what}validation {result.Validation.Metrics}");
        Console.WriteLine($"{what}test       {result.Test.Metrics}");
        if (result.Test.Uncertainty is { } u)
            Console.WriteLine($"uncertainty (test): the 90% interval holds {u.Coverage90:P1}, 68% holds {u.Coverage68:P1}; " +
                              $"Spearman(|error|, std) {u.SpearmanErrorSpread:F2}; the 10% most uncertain have {u.TopDecileErrorRatio:F1}x the error of the rest");
        double meanBaseline = result.Train.Actual.Average();
        var baseline = RegressionMetrics.Compute(result.Test.Actual, result.Test.Actual.Select(_ => meanBaseline).ToArray());
        Console.WriteLine($"test, predicting the training mean: MAE {baseline.Mae:G4}");
        Console.WriteLine($"model: {modelPath}");
        return result;
    }

    private sealed class MemberProgress(Action<EnsembleProgress> report) : IProgress<EnsembleProgress>
    {
        public void Report(EnsembleProgress value) => report(value);
    }

    private static void WriteReport(string folder, EnsembleTrainingResult result, PreparedDataset prepared, DisorderPolicy disorder, TimeSpan elapsed)
    {
        string targetName = prepared.Data.TargetName;
        var members = result.Model.Metadata.Members;
        bool spread = result.Test.Std is not null;
        var csv = new StringBuilder("id,split,actual,predicted" + (spread ? ",std" : "") +
                                    (members.Length > 1 ? string.Concat(members.Select(m => $",{m.Name}")) : "") + "\n");
        var row = prepared.Data.Ids.Select((id, i) => (id, i)).ToDictionary(p => p.id, p => p.i);
        foreach (var (name, set) in new[] { ("train", result.Train), ("val", result.Validation), ("test", result.Test) })
            for (int i = 0; i < set.Ids.Length; i++)
            {
                csv.Append(CultureInfo.InvariantCulture, $"{set.Ids[i]},{name},{set.Actual[i]:R},{set.Predicted[i]:R}");
                if (spread) csv.Append(CultureInfo.InvariantCulture, $",{set.Std![i]:R}");
                if (members.Length > 1)
                    foreach (var predictions in result.MemberPredictions) csv.Append(CultureInfo.InvariantCulture, $",{predictions[row[set.Ids[i]]]:R}");
                csv.Append('\n');
            }
        File.WriteAllText(Path.Combine(folder, "predictions.csv"), csv.ToString());

        // One history per member: at the top for a single network, as before; in members/NAME/ for an ensemble's.
        for (int m = 0; m < members.Length; m++)
        {
            var run = result.MemberResults[m];
            var historyFolder = members.Length == 1 ? folder : Path.Combine(folder, "members", members[m].Name);
            Directory.CreateDirectory(historyFolder);
            var history = new StringBuilder("epoch,train_loss,val_mae,lr,seconds\n");
            foreach (var e in run.History)
                history.Append(CultureInfo.InvariantCulture, $"{e.Epoch},{e.TrainLoss:R},{e.ValidationMae:R},{e.LearningRate:R},{e.Seconds:R}\n");
            File.WriteAllText(Path.Combine(historyFolder, "history.csv"), history.ToString());
            if (run.History.Count > 0)
                Plots.TrainingCurve(Path.Combine(historyFolder, "training_curve.png"),
                    run.History.Select(h => (h.Epoch, h.TrainLoss, h.ValidationMae)).ToArray(), $"{targetName} ({members[m].Name})");
        }

        double baseline = result.Train.Actual.Average();
        File.WriteAllText(Path.Combine(folder, "metrics.json"), JsonSerializer.Serialize(new
        {
            target = targetName,
            best_epoch = members[0].BestEpoch,
            stopped_early = result.MemberResults[0].StoppedEarly,
            seconds = elapsed.TotalSeconds,
            train = result.Train.Metrics,
            validation = result.Validation.Metrics,
            test = result.Test.Metrics,
            test_mean_predictor = RegressionMetrics.Compute(result.Test.Actual, result.Test.Actual.Select(_ => baseline).ToArray()),
            members = members.Select((m, i) => new
            {
                name = m.Name, encoder = m.Encoder, featurizer = m.Featurizer, seed = m.Seed, best_epoch = m.BestEpoch,
                stopped_early = result.MemberResults[i].StoppedEarly, validation_mae = m.ValidationMae, test_mae = m.TestMae,
            }),
            uncertainty = spread ? new
            {
                spread_scale = result.Model.Metadata.SpreadScale,
                validation = result.Validation.Uncertainty,
                test = result.Test.Uncertainty,
            } : null,
            disorder = new
            {
                policy = DisorderReport.Name(disorder),
                sites = prepared.Structures.Sum(s => s.DisorderedSites),
                structures = prepared.Structures.Count(s => s.DisorderedSites > 0),
            },
        }, ModelFile.Json));

        Plots.Parity(Path.Combine(folder, "parity.png"), members.Length == 1 ? $"SA-GAT: {targetName}" : $"SA-GAT ensemble of {members.Length}: {targetName}", targetName,
        [
            ("train", result.Train.Actual, result.Train.Predicted),
            ("val", result.Validation.Actual, result.Validation.Predicted),
            ($"test (MAE {result.Test.Metrics.Mae:G3})", result.Test.Actual, result.Test.Predicted),
        ]);
        if (spread)
        {
            var curves = new[] { ("validation (calibrated on)", result.Validation), ("test", result.Test) }
                .Select(c => (c.Item1, UncertaintyMetrics.ReliabilityCurve(c.Item2.Actual, c.Item2.Predicted, c.Item2.Std!))).ToArray();
            var test = result.Test;
            Plots.Calibration(Path.Combine(folder, "calibration.png"), $"Calibration: {targetName}", curves, test.Std!,
                test.Actual.Select((a, i) => Math.Abs(a - test.Predicted[i])).ToArray(), targetName);
        }
        if (result.Model.RankingMember?.Importance is { } importance)
            ImportanceCommand.WriteChart(Path.Combine(folder, "importance.png"), importance, 20);
    }
}
