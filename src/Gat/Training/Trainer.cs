using System.IO.Compression;
using System.Text.Json;
using SaGatSr.Autodiff;
using SaGatSr.Gat.Materials;
using SaGatSr.Gat.Model;
using SaGatSr.Kernels;

namespace SaGatSr.Gat.Training;

/// <summary>Prepared inputs of a training run: one graph, raw feature matrix and target per crystal.</summary>
/// <param name="Targets">the first output's target of each crystal (0/1 for a classification)</param>
/// <param name="TargetRows">every output's target of each crystal when the network learns several; null: <paramref name="Targets"/> alone</param>
/// <param name="TargetNames">the outputs' names when there are several, the first being <paramref name="TargetName"/></param>
/// <param name="Task"><see cref="TargetTask.Regression"/> or <see cref="TargetTask.Classification"/></param>
/// <param name="Where">the filter the crystals passed (<see cref="RowFilter"/>), recorded in the model</param>
/// <param name="PositiveClass">what class 1 means when it was derived from a numeric column (e.g. "dir_gap > 0")</param>
public sealed record TrainingData(IReadOnlyList<string> Ids, IReadOnlyList<(CrystalGraph Graph, float[] Features)> Inputs,
    IReadOnlyList<double> Targets, string TargetName, FeatureSet Features, string Featurizer, GraphOptions GraphOptions,
    string? DatasetPath = null, IReadOnlyList<double[]>? TargetRows = null, IReadOnlyList<string>? TargetNames = null,
    string Task = TargetTask.Regression, string? Where = null, string? PositiveClass = null)
{
    public int OutputCount => TargetNames?.Count ?? 1;

    public IReadOnlyList<string> OutputNames => TargetNames ?? [TargetName];

    public bool IsClassification => Task == TargetTask.Classification;

    public double[] TargetRow(int crystal) => TargetRows?[crystal] ?? [Targets[crystal]];
}

/// <param name="ValidationMae">what early stopping watches: the validation MAE for one target, else
/// <see cref="TargetEncoding.ValidationScore"/> (several targets, classification)</param>
/// <param name="Seconds">wall time of training (this run and any it resumed) at the end of the epoch, validation included</param>
public sealed record EpochRecord(int Epoch, double TrainLoss, double ValidationMae, float LearningRate, double Seconds = 0);

/// <param name="Std">an ensemble's calibrated uncertainty of each prediction; null for a single network</param>
public sealed record SplitPredictions(string[] Ids, double[] Actual, double[] Predicted, double[]? Std = null)
{
    public RegressionMetrics Metrics => RegressionMetrics.Compute(Actual, Predicted);

    public UncertaintyMetrics? Uncertainty => Std is null ? null : UncertaintyMetrics.Compute(Actual, Predicted, Std);
}

public sealed record TrainingResult(TrainedModel Model, DataSplit Split, IReadOnlyList<EpochRecord> History,
    SplitPredictions Train, SplitPredictions Validation, SplitPredictions Test, int BestEpoch, bool ResumedFromCheckpoint,
    bool StoppedEarly);

/// <summary>
/// Mini-batch training with Adam, ReduceLROnPlateau or a cosine schedule, an optional moving average of the weights, early
/// stopping on validation MAE, and per-epoch checkpoints.
/// </summary>
public static class Trainer
{
    public const string CheckpointFileName = "checkpoint.sagat";

    private sealed record CheckpointState(int Epoch, double BestValidationMae, int BestEpoch, int EpochsWithoutImprovement,
        int EpochsSinceLearningRateChange, float LearningRate, EpochRecord[] History, int[] Train, int[] Validation, int[] Test);

    public static TrainingResult Train(IComputeBackend backend, TrainingData data, SaGatConfig architecture,
        TrainingOptions options, IProgress<TrainingProgress>? progress = null, CancellationToken cancel = default)
    {
        options.Validate();
        if (data.Inputs.Count < 3)
            throw new ArgumentException($"Training needs at least 3 crystals with targets; the dataset has {data.Inputs.Count}.");
        var split = options.Split ?? (options.SplitFile is { } splitFile
            ? DataSplit.FromFile(splitFile, data.Ids)
            : DataSplit.ByRatio(data.Inputs.Count, options.TrainRatio, options.ValidationRatio, options.Seed));
        var config = architecture with
        {
            Featurizer = data.Featurizer,
            FeatureNames = data.Features.Features.Select(f => f.Name).ToArray(),
            FeatureDescriptions = data.Features.Features.Select(f => f.Description).ToArray(),
            Cutoff = data.GraphOptions.Cutoff,
            MaxNeighbors = data.GraphOptions.MaxNeighbors,
            GaussianCount = data.GraphOptions.GaussianCount,
            Outputs = data.OutputCount,
        };

        var featureScaler = FeatureScaler.Fit(split.Train.Select(i => data.Inputs[i].Features), config.FeatureCount);
        var encoding = TargetEncoding.Fit(data, split.Train, options.PositiveWeight);
        var samples = new CrystalSample[data.Inputs.Count];
        for (int i = 0; i < samples.Length; i++)
        {
            var features = (float[])data.Inputs[i].Features.Clone();
            featureScaler.TransformInPlace(features);
            samples[i] = new CrystalSample(data.Ids[i], data.Inputs[i].Graph, features, data.TargetRow(i));
        }

        var comm = options.DataParallel ?? SaGatSr.Mpi.Communicator.Self;
        var network = new SaGatModel(backend, config);
        var optimizer = new Adam(network.Parameters(), options.LearningRate, weightDecay: options.WeightDecay);
        using var average = options.EmaDecay > 0 ? new ExponentialMovingAverage(network.Parameters(), options.EmaDecay) : null;
        var state = new CheckpointState(0, double.PositiveInfinity, 0, 0, 0, options.LearningRate, [],
            split.Train, split.Validation, split.Test);
        byte[]? bestParameters = null;
        string? checkpointPath = options.CheckpointDirectory is null ? null : Path.Combine(options.CheckpointDirectory, CheckpointFileName);
        bool resumed = false;
        if (checkpointPath is not null && options.Resume && File.Exists(checkpointPath))
        {
            (state, bestParameters) = LoadCheckpoint(checkpointPath, network, optimizer, average, config, split);
            split = new DataSplit(state.Train, state.Validation, state.Test);
            resumed = true;
            progress?.Report(new TrainingProgress(state.Epoch, options.Epochs, 0, 0, double.NaN, double.NaN,
                state.BestValidationMae, state.LearningRate, $"resumed from {checkpointPath} after epoch {state.Epoch}"));
        }

        optimizer.LearningRate = state.LearningRate;
        var history = state.History.ToList();
        var graphOptions = data.GraphOptions;
        // Validation drives early stopping; with no validation set, the training loss does.
        var validationSet = split.Validation.Length > 0 ? split.Validation : split.Train;
        // Under the cosine schedule the validation error of the high-rate first half is noisy and the best epochs come
        // late: a lucky early epoch must not end the run there (batch 16 on the perovskites stopped at epoch 99 of 220).
        bool StopsAfter(int epoch, int withoutImprovement) =>
            (options.Schedule != "cosine" || epoch > options.Epochs / 2) && withoutImprovement >= options.Patience;
        // A run that had already stopped early only evaluates again when resumed.
        bool stoppedEarly = resumed && StopsAfter(state.Epoch, state.EpochsWithoutImprovement);
        var metadata = new ModelMetadata
        {
            TargetName = data.TargetName, TargetMean = encoding.Scalers[0].Mean, TargetStd = encoding.Scalers[0].Std,
            Created = DateTime.UtcNow.ToString("O"), Dataset = data.DatasetPath, Task = data.Task, Where = data.Where,
            PositiveClass = data.PositiveClass, PositiveWeight = encoding.PositiveWeight,
            TargetNames = data.OutputCount > 1 ? data.OutputNames.ToArray() : null,
            TargetMeans = data.OutputCount > 1 ? encoding.Scalers.Select(s => s.Mean).ToArray() : null,
            TargetStds = data.OutputCount > 1 ? encoding.Scalers.Select(s => s.Std).ToArray() : null,
        };
        var model = new TrainedModel(network, featureScaler, metadata, null);
        int stepsPerEpoch = (split.Train.Length + options.BatchSize - 1) / options.BatchSize;
        double secondsBefore = history.Count > 0 ? history[^1].Seconds : 0;
        var clock = System.Diagnostics.Stopwatch.StartNew();

        for (int epoch = state.Epoch + 1; epoch <= options.Epochs && !stoppedEarly; epoch++)
        {
            cancel.ThrowIfCancellationRequested();
            var order = EpochOrder(split.Train, options.Seed, epoch);
            int batches = stepsPerEpoch;
            if (options.Schedule == "cosine") optimizer.LearningRate = LearningRateAt(options, optimizer.StepCount, stepsPerEpoch);
            double lossSum = 0;
            var batchIndices = Enumerable.Range(0, batches)
                .Select(b => order.AsSpan(b * options.BatchSize, Math.Min(options.BatchSize, order.Length - b * options.BatchSize)).ToArray()).ToArray();
            int b = 0;
            foreach (double loss in TrainBatches(network, optimizer, samples, batchIndices, encoding, graphOptions, options))
            {
                if (!double.IsFinite(loss))
                    throw new TrainingDivergedException(
                        $"Loss became {loss} at epoch {epoch}, batch {b + 1}: training stopped and no model was written from this state. " +
                        "Try a lower --lr or check the targets for extreme values." +
                        (checkpointPath is null ? "" : $" The last good checkpoint is {checkpointPath}."));
                lossSum += loss;
                average?.Update();
                if (options.Schedule == "cosine") optimizer.LearningRate = LearningRateAt(options, optimizer.StepCount, stepsPerEpoch);
                progress?.Report(new TrainingProgress(epoch, options.Epochs, b + 1, batches, lossSum / (b + 1), double.NaN,
                    state.BestValidationMae, optimizer.LearningRate));
                b++;
            }

            // With a moving average, the averaged weights are the ones validated, kept as the best and saved.
            average?.Swap();
            double validationMae = encoding.ValidationScore(
                DataParallel.PredictOutputs(model, validationSet.Select(i => samples[i]).ToArray(), comm), samples, validationSet);
            if (!double.IsFinite(validationMae))
                throw new TrainingDivergedException($"Validation MAE became {validationMae} at epoch {epoch}: the model diverged.");

            int withoutImprovement = state.EpochsWithoutImprovement + 1, sinceChange = state.EpochsSinceLearningRateChange + 1;
            double best = state.BestValidationMae;
            int bestEpoch = state.BestEpoch;
            if (validationMae < best)
            {
                best = validationMae;
                bestEpoch = epoch;
                withoutImprovement = 0;
                sinceChange = 0;
                bestParameters = SaveParameters(network);
            }

            average?.Swap();
            if (options.Schedule == "plateau" && sinceChange >= options.LearningRatePatience && optimizer.LearningRate > options.MinLearningRate)
            {
                optimizer.LearningRate = Math.Max(options.MinLearningRate, optimizer.LearningRate * options.LearningRateFactor);
                sinceChange = 0;
            }

            history.Add(new EpochRecord(epoch, lossSum / batches, validationMae, optimizer.LearningRate,
                secondsBefore + clock.Elapsed.TotalSeconds));
            state = state with
            {
                Epoch = epoch, BestValidationMae = best, BestEpoch = bestEpoch, EpochsWithoutImprovement = withoutImprovement,
                EpochsSinceLearningRateChange = sinceChange, LearningRate = optimizer.LearningRate, History = history.ToArray(),
            };
            if (checkpointPath is not null && comm.IsRoot) SaveCheckpoint(checkpointPath, model, optimizer, average, state, bestParameters!);
            progress?.Report(new TrainingProgress(epoch, options.Epochs, 0, batches, lossSum / batches, validationMae, best,
                optimizer.LearningRate));
            if (StopsAfter(epoch, withoutImprovement))
            {
                stoppedEarly = true;
                break;
            }
        }

        if (bestParameters is not null) LoadParameters(network, bestParameters);
        SplitPredictions Evaluate(int[] set) => new(set.Select(i => samples[i].Id).ToArray(),
            set.Select(i => samples[i].Target).ToArray(), DataParallel.Predict(model, set.Select(i => samples[i]).ToArray(), comm));
        var train = Evaluate(split.Train);
        var validation = Evaluate(split.Validation);
        var test = Evaluate(split.Test);
        model.Metadata = metadata with
        {
            BestEpoch = state.BestEpoch, Train = train.Metrics, Validation = validation.Metrics, Test = test.Metrics,
            TrainIds = train.Ids, ValidationIds = validation.Ids, TestIds = test.Ids,
        };
        if (network.HasImportance) model.Importance = model.ComputeImportance(split.Train.Select(i => samples[i]).ToArray());
        return new TrainingResult(model, split, history, train, validation, test, state.BestEpoch, resumed, stoppedEarly);
    }

    /// <summary>The cosine schedule's learning rate for optimiser step <paramref name="step"/> (0-based).</summary>
    internal static float LearningRateAt(TrainingOptions options, int step, int stepsPerEpoch)
    {
        double warmup = options.Warmup * stepsPerEpoch, total = (double)options.Epochs * stepsPerEpoch;
        if (step < warmup) return (float)(options.LearningRate * (step + 1) / warmup);
        double progress = Math.Min(1.0, (step - warmup) / Math.Max(1.0, total - warmup));
        return (float)(options.MinLearningRate + 0.5 * (options.LearningRate - options.MinLearningRate) * (1 + Math.Cos(Math.PI * progress)));
    }

    /// <summary>
    /// The training crystals in the order epoch <paramref name="epoch"/> visits them: seeded by (seed, epoch) alone, so a
    /// resumed run shuffles exactly as an uninterrupted one, in any process (hence no randomised HashCode here).
    /// </summary>
    internal static int[] EpochOrder(int[] train, int seed, int epoch)
    {
        var order = (int[])train.Clone();
        new Random(unchecked(seed * 1_000_003 + epoch)).Shuffle(order);
        return order;
    }

    /// <summary>
    /// One optimiser step per batch, in order, yielding each loss (the caller stops at a non-finite one). The next batch's
    /// graphs and edge expansion (this rank's share of it under data parallelism) are built on the thread pool while the
    /// device trains on the current one.
    /// </summary>
    internal static IEnumerable<double> TrainBatches(SaGatModel network, Adam optimizer, CrystalSample[] samples, int[][] batches,
        TargetEncoding targets, GraphOptions graphOptions, TrainingOptions options)
    {
        if (batches.Length == 0) yield break;
        Task<HostGraphBatch?> Prepare(int b) => Task.Run(() => PrepareShare(network, samples, batches[b], graphOptions, options));
        var next = Prepare(0);
        for (int b = 0; b < batches.Length; b++)
        {
            var prepared = next.Result;
            if (b + 1 < batches.Length) next = Prepare(b + 1);
            yield return TrainStep(network, optimizer, samples, batches[b], prepared, targets, options);
        }
    }

    internal static double TrainStep(SaGatModel network, Adam optimizer, CrystalSample[] samples, int[] indices,
        TargetEncoding targets, GraphOptions graphOptions, TrainingOptions options) =>
        TrainStep(network, optimizer, samples, indices, PrepareShare(network, samples, indices, graphOptions, options), targets, options);

    /// <summary>This rank's share of a global batch (all of it on one rank); null when the share is empty.</summary>
    private static int[] Share(int[] indices, TrainingOptions options)
    {
        var comm = options.DataParallel ?? SaGatSr.Mpi.Communicator.Self;
        return comm.Size > 1 ? DataParallel.Slice(indices, comm) : indices;
    }

    private static HostGraphBatch? PrepareShare(SaGatModel network, CrystalSample[] samples, int[] indices, GraphOptions graphOptions,
        TrainingOptions options)
    {
        var mine = Share(indices, options);
        return mine.Length > 0 ? Batches.Prepare(samples, mine, graphOptions, network.Config.FeatureCount) : null;
    }

    /// <summary>
    /// One optimiser step on the global batch <paramref name="indices"/>; <paramref name="prepared"/> is the host batch of
    /// this rank's share. Under data parallelism the gradients of all ranks are combined before the step.
    /// </summary>
    private static double TrainStep(SaGatModel network, Adam optimizer, CrystalSample[] samples, int[] indices, HostGraphBatch? prepared,
        TargetEncoding targets, TrainingOptions options)
    {
        var comm = options.DataParallel ?? SaGatSr.Mpi.Communicator.Self;
        var mine = Share(indices, options);
        double value = prepared is not null ? ForwardBackward(network, samples, mine, prepared, targets, options, optimizer.StepCount) : 0;
        if (comm.Size > 1) value = DataParallel.CombineGradients(optimizer, value, mine.Length, indices.Length, comm);
        if (!double.IsFinite(value))
        {
            optimizer.ZeroGrad();
            return value;
        }

        if (options.ClipNorm > 0) optimizer.ClipGradNorm(options.ClipNorm);
        optimizer.Step();
        optimizer.ZeroGrad();
        return value;
    }

    /// <summary>The batch loss, with its gradient accumulated when it is finite.</summary>
    private static double ForwardBackward(SaGatModel network, CrystalSample[] samples, int[] indices, HostGraphBatch prepared,
        TargetEncoding targets, TrainingOptions options, int step)
    {
        using var batch = new DeviceGraphBatch(network.Backend, prepared, network.Config.FeatureCount);
        var (target, weights) = targets.Upload(network.Backend, samples, indices);
        using var ownedTarget = target;
        using var ownedWeights = weights;
        using var tape = new Tape();
        // Dropout masks seeded by the step, so a resumed run draws the same masks as an uninterrupted one.
        var dropout = network.Config.Dropout > 0 ? new Random(unchecked(options.Seed * 1_000_003 + step)) : null;
        var (prediction, importance) = network.Forward(batch, dropout);
        var loss = targets.Loss(prediction, target, weights, options.Loss);
        if (network.Config.SaeSparsity > 0 && importance is not null)
            loss = Ops.Add(loss, Ops.Scale(SaeEncoder.NormalisedEntropy(importance, batch.AtomCount, network.Config.FeatureCount),
                network.Config.SaeSparsity));
        double value = loss.Item();
        if (double.IsFinite(value)) tape.Backward(loss);
        return value;
    }

    private static byte[] SaveParameters(SaGatModel network)
    {
        using var stream = new MemoryStream();
        network.SaveParameters(stream);
        return stream.ToArray();
    }

    private static void LoadParameters(SaGatModel network, byte[] parameters)
    {
        using var stream = new MemoryStream(parameters);
        network.LoadParameters(stream);
    }

    private const string AverageEntry = "ema.bin";

    private static void SaveCheckpoint(string path, TrainedModel model, Adam optimizer, ExponentialMovingAverage? average,
        CheckpointState state, byte[] bestParameters) =>
        ModelFile.WriteAtomically(path, zip =>
        {
            ModelFile.WriteModel(zip, model);
            ModelFile.WriteText(zip, "progress.json", JsonSerializer.Serialize(state, ModelFile.Json));
            using (var stream = zip.CreateEntry("optimizer.bin", CompressionLevel.Fastest).Open()) optimizer.SaveState(stream);
            using (var stream = zip.CreateEntry("best_parameters.bin", CompressionLevel.Fastest).Open()) stream.Write(bestParameters);
            if (average is not null)
                using (var stream = zip.CreateEntry(AverageEntry, CompressionLevel.Fastest).Open()) average.SaveState(stream);
        });

    private static (CheckpointState, byte[]) LoadCheckpoint(string path, SaGatModel network, Adam optimizer,
        ExponentialMovingAverage? average, SaGatConfig config, DataSplit split)
    {
        using var zip = FileIntegrity.OpenVerified(path, "delete it or run with --restart to start afresh");
        var saved = ModelFile.ReadConfig(ModelFile.ReadText(zip, path, "config.json"))!;
        if (!saved.FeatureNames.SequenceEqual(config.FeatureNames) || saved.Hidden != config.Hidden || saved.Heads != config.Heads ||
            saved.Layers != config.Layers || saved.GaussianCount != config.GaussianCount || saved.SaeFeatureLogits != config.SaeFeatureLogits
            || saved.SaeTemperature != config.SaeTemperature || saved.SaeHeads != config.SaeHeads || saved.SaeNormalization != config.SaeNormalization
            || saved.Encoder != config.Encoder || saved.Messages != config.Messages || saved.Outputs != config.Outputs)
            throw new InvalidOperationException(
                $"{path} was written by a run with a different model or features; delete it or use another --out to start afresh.");
        var state = JsonSerializer.Deserialize<CheckpointState>(ModelFile.ReadText(zip, path, "progress.json"), ModelFile.Json)!;
        int total = split.Train.Length + split.Validation.Length + split.Test.Length;
        if (state.Train.Length + state.Validation.Length + state.Test.Length != total)
            throw new InvalidOperationException($"{path} was written for a dataset of another size; delete it or use another --out.");
        using (var stream = zip.GetEntry("parameters.bin")!.Open()) network.LoadParameters(stream);
        using (var stream = zip.GetEntry("optimizer.bin")!.Open()) optimizer.LoadState(stream);
        if (average is not null)
        {
            var entry = zip.GetEntry(AverageEntry) ?? throw new InvalidOperationException(
                $"{path} was written by a run without a weight average (--ema); delete it or use another --out to start afresh.");
            using var stream = entry.Open();
            average.LoadState(stream);
        }
        using var best = new MemoryStream();
        using (var stream = zip.GetEntry("best_parameters.bin")!.Open()) stream.CopyTo(best);
        return (state, best.ToArray());
    }
}
