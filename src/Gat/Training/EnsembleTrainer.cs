using System.Collections.Concurrent;
using SaGatSr.Gat.Model;
using SaGatSr.Kernels;

namespace SaGatSr.Gat.Training;

/// <summary>A member's training progress, tagged with the member.</summary>
public sealed record EnsembleProgress(int Member, string Name, TrainingProgress Progress);

/// <param name="MemberResults">each member's training run</param>
/// <param name="MemberPredictions">[member][crystal] of the first output over the whole dataset, in its order</param>
/// <param name="Outputs">every output's predictions by split (the first is Train, Validation, Test)</param>
public sealed record EnsembleTrainingResult(EnsembleModel Model, DataSplit Split, IReadOnlyList<TrainingResult> MemberResults,
    double[][] MemberPredictions, SplitPredictions Train, SplitPredictions Validation, SplitPredictions Test,
    IReadOnlyList<OutputPredictions> Outputs) : IDisposable
{
    public void Dispose() => Model.Dispose();
}

/// <summary>One output's predictions on each part of the split.</summary>
public sealed record OutputPredictions(string Name, SplitPredictions Train, SplitPredictions Validation, SplitPredictions Test);

/// <summary>
/// Trains the members of an ensemble on one split and calibrates their spread on its validation crystals. On the CPU the
/// members train side by side, one core each (the slowest first); on a GPU, and under MPI (where each member trains data
/// parallel over the ranks), one after another. Each member keeps its own checkpoint in members/NAME/ (an ensemble of one
/// in the folder itself), so a crash costs at most the current epoch of each member and a rerun resumes them all.
/// </summary>
public static class EnsembleTrainer
{
    /// <param name="data">the dataset as each featurizer the members use gives it: same crystals, same order, same targets</param>
    public static EnsembleTrainingResult Train(IComputeBackend backend, IReadOnlyDictionary<string, TrainingData> data,
        SaGatConfig architecture, TrainingOptions options, IReadOnlyList<EnsembleMember> members,
        IProgress<EnsembleProgress>? progress = null, CancellationToken cancel = default)
    {
        options.Validate();
        if (members.Count == 0) throw new ArgumentException("an ensemble needs at least one member.");
        if (members.Select(m => m.Name).Distinct().Count() != members.Count)
            throw new ArgumentException($"ensemble member names must differ: {string.Join(", ", members.Select(m => m.Name))}.");
        foreach (var member in members)
            if (!data.ContainsKey(member.Featurizer))
                throw new ArgumentException($"member '{member.Name}' needs '{member.Featurizer}' features, which were not prepared.");
        var first = data[members[0].Featurizer];
        if (first.Inputs.Count < 3)
            throw new ArgumentException($"Training needs at least 3 crystals with targets; the dataset has {first.Inputs.Count}.");
        var split = options.Split ?? (options.SplitFile is { } splitFile
            ? DataSplit.FromFile(splitFile, first.Ids)
            : DataSplit.ByRatio(first.Inputs.Count, options.TrainRatio, options.ValidationRatio, options.Seed));

        var comm = options.DataParallel ?? SaGatSr.Mpi.Communicator.Self;
        bool sideBySide = comm.Size == 1 && members.Count > 1;
        var workerBackends = new ConcurrentBag<IDisposable>();
        var models = new TrainedModel?[members.Count];
        var results = new TrainingResult[members.Count];
        var predictions = new double[members.Count][][];
        try
        {
            void TrainMember(int m, IComputeBackend memberBackend)
            {
                var member = members[m];
                var memberData = data[member.Featurizer];
                string? folder = options.CheckpointDirectory is null ? null
                    : members.Count == 1 ? options.CheckpointDirectory : Path.Combine(options.CheckpointDirectory, "members", member.Name);
                var memberProgress = progress is null ? null : new Relay(p => progress.Report(new EnsembleProgress(m, member.Name, p)));
                // A member finished by an earlier run resumes from its last checkpoint: it only evaluates again.
                var result = Trainer.Train(memberBackend, memberData, architecture with { Encoder = member.Encoder, Seed = member.Seed },
                    options with { Split = split, Seed = member.Seed, CheckpointDirectory = folder }, memberProgress, cancel);
                results[m] = result;
                models[m] = result.Model;
                predictions[m] = PredictAll(models[m]!, memberData, comm);
            }

            if (!sideBySide)
                for (int m = 0; m < members.Count; m++) TrainMember(m, backend);
            else
            {
                // Longest first, so the short members fill in beside it (SAE: 1.45 s/epoch on one core, the others 0.8).
                var queue = new ConcurrentQueue<int>(Enumerable.Range(0, members.Count).OrderByDescending(m => members[m].Encoder == "sae" ? 1 : 0));
                var failures = new ConcurrentQueue<Exception>();
                using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancel);
                int workers = Math.Min(members.Count, Environment.ProcessorCount);
                var threads = Enumerable.Range(0, workers).Select(_ => new Thread(() =>
                {
                    var own = Devices.CreateSideBySide(backend);
                    if (own is not null) workerBackends.Add(own);
                    while (!stop.IsCancellationRequested && queue.TryDequeue(out int m))
                    {
                        try
                        {
                            // Without a backend of its own (a GPU) a member takes the shared one in turn.
                            if (own is not null) TrainMember(m, own);
                            else lock (queue) TrainMember(m, backend);
                        }
                        catch (Exception e)
                        {
                            failures.Enqueue(e);
                            stop.Cancel(); // the others stop after their epoch; their checkpoints stay for the rerun
                        }
                    }
                }) { IsBackground = true, Name = "ensemble member" }).ToArray();
                foreach (var thread in threads) thread.Start();
                foreach (var thread in threads) thread.Join();
                // The members stopped because one failed report a cancellation; the failure itself is the news.
                if (!failures.IsEmpty) throw failures.FirstOrDefault(e => e is not OperationCanceledException) ?? failures.First();
            }
        }
        catch
        {
            foreach (var model in models) model?.Dispose();
            foreach (var owned in workerBackends) owned.Dispose();
            throw;
        }

        // A classifier's members average probabilities; their spread of probability is reported as it is, since a 0/1
        // target has no error scale to calibrate it against.
        bool classify = first.IsClassification;
        var outputs = new OutputPredictions[first.OutputCount];
        var scales = new double[first.OutputCount];
        for (int k = 0; k < outputs.Length; k++)
        {
            var targets = Enumerable.Range(0, first.Inputs.Count).Select(i => first.TargetRow(i)[k]).ToArray();
            var memberOutputs = predictions.Select(p => p[k]).ToArray();
            var raw = EnsembleModel.Combine(memberOutputs, 1.0);
            scales[k] = members.Count == 1 ? double.NaN
                : classify ? 1.0
                : UncertaintyMetrics.CalibrationScale(Pick(targets, split.Validation), Pick(raw.Mean, split.Validation), Pick(raw.Std, split.Validation));
            var combined = EnsembleModel.Combine(memberOutputs, scales[k]);
            SplitPredictions Evaluate(int[] set) => new(set.Select(i => first.Ids[i]).ToArray(), Pick(targets, set), Pick(combined.Mean, set),
                members.Count > 1 ? Pick(combined.Std, set) : null);
            outputs[k] = new OutputPredictions(first.OutputNames[k], Evaluate(split.Train), Evaluate(split.Validation), Evaluate(split.Test));
        }

        var (train, validation, test) = (outputs[0].Train, outputs[0].Validation, outputs[0].Test);
        var descriptions = members.Select((member, m) => member with
        {
            BestEpoch = models[m]!.Metadata.BestEpoch,
            ValidationMae = RegressionMetrics.Compute(validation.Actual, Pick(predictions[m][0], split.Validation)).Mae,
            TestMae = RegressionMetrics.Compute(test.Actual, Pick(predictions[m][0], split.Test)).Mae,
        }).ToArray();
        double threshold = classify ? ClassificationMetrics.ChooseThreshold(validation.Actual, validation.Predicted) : 0.5;
        bool spread = members.Count > 1 && !classify;
        var metadata = new EnsembleMetadata
        {
            TargetName = first.TargetName, Created = DateTime.UtcNow.ToString("O"), Dataset = first.DatasetPath, Members = descriptions,
            SpreadScale = scales[0], OutputSpreadScales = scales.Length > 1 ? scales : null,
            Train = train.Metrics, Validation = validation.Metrics, Test = test.Metrics,
            ValidationUncertainty = spread ? validation.Uncertainty : null,
            TestUncertainty = spread ? test.Uncertainty : null,
            TrainIds = train.Ids, ValidationIds = validation.Ids, TestIds = test.Ids,
            DecisionThreshold = threshold,
            ValidationClassification = classify ? ClassificationMetrics.Compute(validation.Actual, validation.Predicted, threshold) : null,
            TestClassification = classify ? ClassificationMetrics.Compute(test.Actual, test.Predicted, threshold) : null,
        };
        // A classifier of one network is saved alone: its threshold travels in its own metadata.
        foreach (var model in models) model!.Metadata = model.Metadata with { DecisionThreshold = threshold };
        var ensemble = new EnsembleModel(models.Select(m => m!).ToArray(), descriptions, metadata, workerBackends.ToArray());
        return new EnsembleTrainingResult(ensemble, split, results, predictions.Select(p => p[0]).ToArray(), train, validation, test, outputs);
    }

    private static double[][] PredictAll(TrainedModel model, TrainingData data, SaGatSr.Mpi.Communicator comm)
    {
        var samples = new CrystalSample[data.Inputs.Count];
        for (int i = 0; i < samples.Length; i++)
        {
            var features = (float[])data.Inputs[i].Features.Clone();
            model.FeatureScaler.TransformInPlace(features);
            samples[i] = new CrystalSample(data.Ids[i], data.Inputs[i].Graph, features, data.TargetRow(i));
        }

        return DataParallel.PredictOutputs(model, samples, comm);
    }

    private static double[] Pick(IReadOnlyList<double> values, int[] rows) => rows.Select(i => values[i]).ToArray();

    /// <summary>Reports synchronously on the member's thread (Progress&lt;T&gt; would post to the pool, out of order).</summary>
    private sealed class Relay(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }
}
