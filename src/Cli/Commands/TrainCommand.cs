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
    int? GaussianCount = null, float? Dropout = null, string? Messages = null, int Members = EnsembleMember.DefaultCount, string? Ensemble = null,
    string Task = TargetTask.Regression, double? Threshold = null, string? Where = null, string ClassWeight = "balanced",
    bool IdealCells = false)
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
        PositiveWeight = ClassWeight.ToLowerInvariant() switch
        {
            "balanced" => null,
            "none" => 1.0,
            _ => double.TryParse(ClassWeight, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double w) ? w
                : throw new ArgumentException($"--class-weight must be balanced, none or a positive number, not '{ClassWeight}'."),
        },
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
    IReadOnlyDictionary<string, TrainingData> ByFeaturizer)
{
    /// <summary>A --split-file's split of these crystals; ids of the dataset this run leaves out (--where, no target) are skipped.</summary>
    public DataSplit? SplitFromFile(string? path) => path is null ? null
        : DataSplit.FromFile(path, Data.Ids, Dataset.Entries.Select(e => e.Id).Except(Data.Ids).ToHashSet());
}

/// <summary>The columns a run learns and how: chosen by --target, --task, --threshold and --where.</summary>
internal sealed record TargetChoice(int[] Columns, string[] Names, bool Classify, double? Threshold, RowFilter? Filter)
{
    public string? PositiveClass => Classify && Threshold is { } t ? FormattableString.Invariant($"{Names[0]} > {t}") : null;

    /// <summary>A crystal's targets for the network (class 0/1 for a classifier).</summary>
    public double[] Of(double[] values) => Columns.Select(c => !Classify ? values[c]
        : Threshold is { } t ? (values[c] > t ? 1.0 : 0.0) : values[c]).ToArray();

    public static TargetChoice Read(Dataset dataset, TrainArguments arguments)
    {
        var names = arguments.Target is null ? new string?[] { null } : arguments.Target.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var columns = names.Select(n => TrainCommand.ChooseTarget(dataset, n, arguments.Dataset)).ToArray();
        if (columns.Distinct().Count() != columns.Length) throw new ArgumentException($"--target names a column twice: {arguments.Target}.");
        bool classify = arguments.Task == TargetTask.Classification;
        if (classify && columns.Length > 1)
            throw new ArgumentException($"--task classify learns one class column; --target names {columns.Length} ({arguments.Target}).");
        if (!classify && arguments.Threshold is not null)
            throw new ArgumentException("--threshold turns a numeric column into classes: it needs --task classify.");
        var filter = arguments.Where is null ? null : RowFilter.Parse(arguments.Where, dataset.TargetNames, arguments.Dataset);
        return new TargetChoice(columns, columns.Select(c => dataset.TargetNames[c]).ToArray(), classify, arguments.Threshold, filter);
    }

    /// <summary>A class column without --threshold must hold 0 and 1 only; the first other value is named with its crystal.</summary>
    public void CheckClasses(IReadOnlyList<DatasetEntry> entries, string path)
    {
        if (!Classify || Threshold is not null) return;
        foreach (var entry in entries)
        {
            double value = entry.Targets[Columns[0]];
            if (value is not (0.0 or 1.0))
                throw new ArgumentException($"{entry.Location ?? path}: crystal {entry.Id} has {Names[0]} = {value.ToString(CultureInfo.InvariantCulture)}: " +
                                            $"--task classify needs a column of 0 and 1, or --threshold to call values above it class 1 (e.g. --threshold 0).");
        }
    }
}

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
        var choice = TargetChoice.Read(dataset, arguments);
        int column = choice.Columns[0];
        IReadOnlyList<DatasetEntry> entries = dataset.Entries;
        if (choice.Filter is { } filter)
        {
            entries = entries.Where(e => filter.Accepts(e.Targets)).ToArray();
            if (entries.Count == 0)
            {
                var ranges = filter.Columns.Select(c =>
                {
                    var values = dataset.Entries.Select(e => e.Targets[c]).Where(double.IsFinite).ToArray();
                    return values.Length == 0 ? $"'{dataset.TargetNames[c]}' has no values"
                        : FormattableString.Invariant($"'{dataset.TargetNames[c]}' ranges from {values.Min():G4} to {values.Max():G4}");
                });
                throw new ArgumentException($"{arguments.Dataset}: --where \"{filter.Text}\" leaves none of its {dataset.Entries.Count} crystals " +
                                            $"({string.Join("; ", ranges)}).");
            }

            Console.Error.WriteLine($"--where \"{filter.Text}\": {entries.Count} of {dataset.Entries.Count} crystals");
        }

        var usable = entries.Where(e => choice.Columns.All(c => double.IsFinite(e.Targets[c]))).ToArray();
        if (usable.Length < entries.Count)
        {
            var considered = entries.Select(e => e.Id).ToHashSet();
            var gaps = dataset.TargetGaps.Where(g => choice.Columns.Contains(g.Target) && considered.Contains(g.Id)).ToList();
            Console.Error.WriteLine($"skipped {entries.Count - usable.Length} crystals with no value for target '{string.Join("', '", choice.Names)}'" +
                                    string.Concat(gaps.Take(20).Select(g => $"\n  {g.Id}: {g.Reason}")) +
                                    (gaps.Count > 20 ? $"\n  ... and {gaps.Count - 20} more" : ""));
        }

        if (usable.Length == 0) throw new ArgumentException($"{arguments.Dataset}: no crystal has a value for '{string.Join("', '", choice.Names)}'.");
        choice.CheckClasses(usable, arguments.Dataset);
        var structures = usable.Select(e => e.Structure).ToArray();
        if (arguments.IdealCells) (usable, structures) = IdealCells(usable, arguments.Dataset);
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
                                $"{(choice.Classify ? "class" : "target")} '{string.Join("', '", choice.Names)}'" +
                                (choice.PositiveClass is { } positive ? $" (class 1: {positive})" : "") +
                                (choice.Classify ? $"; {usable.Count(e => choice.Of(e.Targets)[0] == 1)} of class 1" : ""));
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
        var targetRows = kept.Select(i => choice.Of(usable[i].Targets)).ToArray();
        var targets = targetRows.Select(row => row[0]).ToArray();
        TrainingData DataOf(string name, IAtomFeaturizer by, IReadOnlyList<(CrystalGraph, float[])> rows) =>
            new(ids, kept.Select(i => rows[i]).ToArray(), targets, choice.Names[0], by.Features, name, graphOptions,
                Path.GetFullPath(arguments.Dataset), choice.Columns.Length > 1 ? targetRows : null, choice.Columns.Length > 1 ? choice.Names : null,
                choice.Classify ? TargetTask.Classification : TargetTask.Regression, choice.Filter?.Text, choice.PositiveClass);
        var byFeaturizer = new Dictionary<string, TrainingData> { [names[0]] = DataOf(names[0], featurizer, inputs) };
        for (int f = 0; f < others.Length; f++) byFeaturizer[names[f + 1]] = DataOf(names[f + 1], others[f], otherRows[f]);

        foreach (var data in byFeaturizer.Values) InputCheck.EnsureFinite(data);
        return new PreparedDataset(dataset, column, byFeaturizer[names[0]], structures, byFeaturizer);
    }

    /// <summary>
    /// Each crystal replaced by the ideal cubic cell `screen` builds for its composition (the dataset's formula column,
    /// any known cation state), so that a screening model learns what an ideal cell says about the relaxed crystal's value.
    /// Compositions without a charge-balanced assignment are left out and counted.
    /// </summary>
    private static (DatasetEntry[] Kept, Structure[] Cells) IdealCells(DatasetEntry[] entries, string path)
    {
        var source = SaGatSr.Pipeline.CandidateSource.FromFile(path);
        var byId = source.Read(0, source.Count).ToDictionary(c => c.Id);
        var kept = new List<DatasetEntry>();
        var cells = new List<Structure>();
        var dropped = new List<string>();
        foreach (var entry in entries)
        {
            if (!byId.TryGetValue(entry.Id, out var candidate))
                dropped.Add($"{entry.Id}: no ABX3 formula in {path}");
            else if (!SaGatSr.Pipeline.IdealPerovskite.TryBalance(candidate, out var states, out string reason, maxTier: 3))
                dropped.Add($"{entry.Id} ({candidate.Formula}): {reason}");
            else
            {
                kept.Add(entry);
                cells.Add(SaGatSr.Pipeline.IdealPerovskite.Build(candidate, SaGatSr.Pipeline.IdealPerovskite.LatticeParameter(candidate, states.B)));
            }
        }

        if (kept.Count == 0) throw new ArgumentException($"{path}: --ideal-cells found no composition with a charge-balanced ideal cell.");
        Console.Error.WriteLine($"--ideal-cells: {kept.Count} crystals as ideal cubic cells; {dropped.Count} left out" +
                                string.Concat(dropped.Take(5).Select(d => $"\n  {d}")) + (dropped.Count > 5 ? $"\n  ... and {dropped.Count - 5} more" : ""));
        return (kept.ToArray(), cells.ToArray());
    }

    internal static int ChooseTarget(Dataset dataset, string? target, string path)
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
        var options = arguments.ToTrainingOptions() with { DataParallel = Communicator.World, Split = prepared.SplitFromFile(arguments.SplitFile) };
        var watch = System.Diagnostics.Stopwatch.StartNew();
        string validationName = prepared.Data.IsClassification ? "val log-loss" : prepared.Data.OutputCount > 1 ? "val MAE/std" : "val MAE";
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
                            : $"epoch {p.Epoch}/{p.Epochs} loss {p.TrainLoss:F4} {validationName} {p.ValidationMae:G4} (best {p.BestValidationMae:G4}) lr {p.LearningRate:G3}";
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
                              (members.Count == 1 ? "" : result.Model.IsClassifier
                                  ? $", test ROC-AUC {ClassificationMetrics.AreaUnderRoc(result.Test.Actual, result.Split.Test.Select(i => result.MemberPredictions[m][i]).ToArray()):F3}"
                                  : $", validation MAE {member.ValidationMae:G4}, test MAE {member.TestMae:G4}"));
        }

        string what = members.Count == 1 ? "" : "ensemble ";
        if (result.Model.IsClassifier)
        {
            var metadata = result.Model.Metadata;
            Console.WriteLine($"{what}train      {ClassificationMetrics.Compute(result.Train.Actual, result.Train.Predicted, metadata.DecisionThreshold)}");
            Console.WriteLine($"{what}validation {metadata.ValidationClassification}");
            Console.WriteLine($"{what}test       {metadata.TestClassification}");
            Console.WriteLine($"(the threshold was chosen on validation for the best balanced accuracy; predicting the common class " +
                              $"everywhere has balanced accuracy 0.5 and ROC-AUC 0.5)");
            Console.WriteLine($"model: {modelPath}");
            return result;
        }

        if (result.Outputs.Count > 1)
            foreach (var output in result.Outputs)
            {
                double mean = output.Train.Actual.Average();
                Console.WriteLine($"{what}test {output.Name,-12} {output.Test.Metrics}  (mean predictor MAE " +
                                  $"{output.Test.Actual.Average(a => Math.Abs(a - mean)):G4})");
            }

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
        bool classify = result.Model.IsClassifier;
        bool spread = result.Test.Std is not null;
        var outputs = result.Outputs;
        var csv = new StringBuilder("id,split");
        foreach (var output in outputs)
        {
            string prefix = outputs.Count > 1 ? output.Name + "_" : "";
            csv.Append($",{prefix}actual,{prefix}{(classify ? "probability" : "predicted")}" + (spread ? $",{prefix}std" : ""));
        }
        csv.Append((members.Length > 1 ? string.Concat(members.Select(m => $",{m.Name}")) : "") + "\n");
        var row = prepared.Data.Ids.Select((id, i) => (id, i)).ToDictionary(p => p.id, p => p.i);
        foreach (var name in new[] { "train", "val", "test" })
        {
            var sets = outputs.Select(o => name switch { "train" => o.Train, "val" => o.Validation, _ => o.Test }).ToArray();
            for (int i = 0; i < sets[0].Ids.Length; i++)
            {
                csv.Append(CultureInfo.InvariantCulture, $"{sets[0].Ids[i]},{name}");
                foreach (var set in sets)
                {
                    csv.Append(CultureInfo.InvariantCulture, $",{set.Actual[i]:R},{set.Predicted[i]:R}");
                    if (spread) csv.Append(CultureInfo.InvariantCulture, $",{set.Std![i]:R}");
                }

                if (members.Length > 1)
                    foreach (var predictions in result.MemberPredictions) csv.Append(CultureInfo.InvariantCulture, $",{predictions[row[sets[0].Ids[i]]]:R}");
                csv.Append('\n');
            }
        }
        File.WriteAllText(Path.Combine(folder, "predictions.csv"), csv.ToString());

        // One history per member: at the top for a single network, as before; in members/NAME/ for an ensemble's.
        string validationLabel = classify ? "val_log_loss" : outputs.Count > 1 ? "val_mae_over_std" : "val_mae";
        for (int m = 0; m < members.Length; m++)
        {
            var run = result.MemberResults[m];
            var historyFolder = members.Length == 1 ? folder : Path.Combine(folder, "members", members[m].Name);
            Directory.CreateDirectory(historyFolder);
            var history = new StringBuilder($"epoch,train_loss,{validationLabel},lr,seconds\n");
            foreach (var e in run.History)
                history.Append(CultureInfo.InvariantCulture, $"{e.Epoch},{e.TrainLoss:R},{e.ValidationMae:R},{e.LearningRate:R},{e.Seconds:R}\n");
            File.WriteAllText(Path.Combine(historyFolder, "history.csv"), history.ToString());
            if (run.History.Count > 0)
                Plots.TrainingCurve(Path.Combine(historyFolder, "training_curve.png"),
                    run.History.Select(h => (h.Epoch, h.TrainLoss, h.ValidationMae)).ToArray(), $"{targetName} ({members[m].Name})");
        }

        var metadata = result.Model.Metadata;
        double baseline = result.Train.Actual.Average();
        object? classification = classify ? new
        {
            positive_class = result.Model.Members[0].Metadata.PositiveClass ?? $"{targetName} = 1",
            threshold = metadata.DecisionThreshold,
            train = ClassificationMetrics.Compute(result.Train.Actual, result.Train.Predicted, metadata.DecisionThreshold),
            validation = metadata.ValidationClassification,
            test = metadata.TestClassification,
        } : null;
        File.WriteAllText(Path.Combine(folder, "metrics.json"), JsonSerializer.Serialize(new
        {
            target = targetName,
            task = classify ? TargetTask.Classification : TargetTask.Regression,
            where = result.Model.Members[0].Metadata.Where,
            best_epoch = members[0].BestEpoch,
            stopped_early = result.MemberResults[0].StoppedEarly,
            seconds = elapsed.TotalSeconds,
            classification,
            train = classify ? null : result.Train.Metrics,
            validation = classify ? null : result.Validation.Metrics,
            test = classify ? null : result.Test.Metrics,
            test_mean_predictor = classify ? null : RegressionMetrics.Compute(result.Test.Actual, result.Test.Actual.Select(_ => baseline).ToArray()),
            targets = outputs.Count > 1 ? outputs.Select(o => new
            {
                name = o.Name, train = o.Train.Metrics, validation = o.Validation.Metrics, test = o.Test.Metrics,
                test_mean_predictor = RegressionMetrics.Compute(o.Test.Actual, o.Test.Actual.Select(_ => o.Train.Actual.Average()).ToArray()),
                uncertainty = o.Test.Std is null ? null : o.Test.Uncertainty,
            }) : null,
            members = members.Select((m, i) => new
            {
                name = m.Name, encoder = m.Encoder, featurizer = m.Featurizer, seed = m.Seed, best_epoch = m.BestEpoch,
                stopped_early = result.MemberResults[i].StoppedEarly, validation_mae = m.ValidationMae, test_mae = m.TestMae,
            }),
            uncertainty = spread && !classify ? new
            {
                spread_scale = metadata.SpreadScale,
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

        if (classify)
        {
            var test = result.Test;
            var testMetrics = metadata.TestClassification!;
            int negatives = test.Actual.Count(a => !ClassificationMetrics.IsPositive(a));
            int falsePositives = test.Actual.Where((a, i) => !ClassificationMetrics.IsPositive(a) && test.Predicted[i] >= metadata.DecisionThreshold).Count();
            Plots.Roc(Path.Combine(folder, "roc.png"), $"{(members.Length == 1 ? "SA-GAT" : $"SA-GAT ensemble of {members.Length}")}: {targetName}",
            [
                ("validation", ClassificationMetrics.RocCurve(result.Validation.Actual, result.Validation.Predicted)),
                ($"test (AUC {testMetrics.RocAuc:F3})", ClassificationMetrics.RocCurve(test.Actual, test.Predicted)),
            ], negatives > 0 ? (falsePositives / (double)negatives, testMetrics.Recall) : null);
        }
        else
            foreach (var output in outputs)
                Plots.Parity(Path.Combine(folder, outputs.Count == 1 ? "parity.png" : $"parity_{output.Name}.png"),
                    members.Length == 1 ? $"SA-GAT: {output.Name}" : $"SA-GAT ensemble of {members.Length}: {output.Name}", output.Name,
                [
                    ("train", output.Train.Actual, output.Train.Predicted),
                    ("val", output.Validation.Actual, output.Validation.Predicted),
                    ($"test (MAE {output.Test.Metrics.Mae:G3})", output.Test.Actual, output.Test.Predicted),
                ]);
        if (spread && !classify)
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
