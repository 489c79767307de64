using SaGatSr.Autodiff;
using SaGatSr.Gat.Materials;
using SaGatSr.Gat.Model;

namespace SaGatSr.Gat.Training;

/// <summary>A network together with everything that turns structures into its inputs and its outputs into user units.</summary>
public sealed class TrainedModel(SaGatModel network, FeatureScaler featureScaler, ModelMetadata metadata,
    IReadOnlyList<FeatureImportance>? importance) : IDisposable
{
    public SaGatModel Network { get; } = network;

    public FeatureScaler FeatureScaler { get; } = featureScaler;

    public ModelMetadata Metadata { get; internal set; } = metadata;

    /// <summary>Features ranked by SAE importance (most important first), when computed.</summary>
    public IReadOnlyList<FeatureImportance>? Importance { get; internal set; } = importance;

    public SaGatConfig Config => Network.Config;

    public GraphOptions GraphOptions => new()
    {
        Cutoff = Config.Cutoff, MaxNeighbors = Config.MaxNeighbors, GaussianCount = Config.GaussianCount,
    };

    public TargetScaler TargetScaler => new(Metadata.TargetMean, Metadata.TargetStd);

    /// <summary>What the outputs predict, in order: the target, or each of several.</summary>
    public IReadOnlyList<string> OutputNames => Metadata.TargetNames ?? [Metadata.TargetName];

    public bool IsClassifier => Metadata.Task == TargetTask.Classification;

    /// <summary>How raw outputs become the user's numbers (each target's units, or a probability).</summary>
    public TargetEncoding Encoding => new(Metadata.TargetMeans is { } means
        ? means.Select((mean, k) => new TargetScaler(mean, Metadata.TargetStds![k])).ToArray()
        : [TargetScaler], IsClassifier, Metadata.PositiveWeight);

    /// <summary>Graphs and standardised features for structures (targets unknown: NaN).</summary>
    public IReadOnlyList<CrystalSample> Prepare(IReadOnlyList<Structure> structures) =>
        Standardise(structures, SamplePreparer.Featurize(structures, CreateFeaturizer(), GraphOptions), copy: false);

    /// <summary>The model's featurizer, checked to give the features it was trained on.</summary>
    public IAtomFeaturizer CreateFeaturizer()
    {
        var featurizer = SamplePreparer.CreateFeaturizer(Config.Featurizer);
        // a model saved by a version with another feature set would otherwise read misaligned columns
        if (!featurizer.Features.Features.Select(f => f.Name).SequenceEqual(Config.FeatureNames))
            throw new InvalidDataException($"the model was trained on {Config.FeatureCount} '{Config.Featurizer}' features, but this version's " +
                                           $"'{Config.Featurizer}' featurizer gives {featurizer.Features.Count} (see FEATURES.md): retrain the model");
        return featurizer;
    }

    /// <summary>Samples from graphs and raw features already computed (by <see cref="Config"/>'s featurizer and graph
    /// options), standardised on copies: members of an ensemble that share a featurizer featurise once.</summary>
    public IReadOnlyList<CrystalSample> Standardise(IReadOnlyList<Structure> structures, IReadOnlyList<(CrystalGraph Graph, float[] Features)> featurized) =>
        Standardise(structures, featurized, copy: true);

    /// <param name="copy">false when the raw features are this call's alone and may be standardised in place</param>
    private IReadOnlyList<CrystalSample> Standardise(IReadOnlyList<Structure> structures, IReadOnlyList<(CrystalGraph Graph, float[] Features)> featurized,
        bool copy)
    {
        var samples = new CrystalSample[structures.Count];
        for (int i = 0; i < samples.Length; i++)
        {
            var features = copy ? (float[])featurized[i].Features.Clone() : featurized[i].Features;
            FeatureScaler.TransformInPlace(features);
            samples[i] = new CrystalSample(structures[i].Id, featurized[i].Graph, features, double.NaN);
        }

        return samples;
    }

    /// <summary>Predictions in the target's units (a probability for a classifier; the first target's for several),
    /// computed in batches without recording gradients.</summary>
    public double[] Predict(IReadOnlyList<CrystalSample> samples, int batchSize = 64, FeatureImportance.Accumulator? importance = null) =>
        PredictOutputs(samples, batchSize, importance is null ? null : (coefficients, offsets, _) => importance.Add(coefficients, offsets))[0];

    public double[] Predict(IReadOnlyList<CrystalSample> samples, int batchSize, Action<float[], int[], int>? coefficientSink) =>
        PredictOutputs(samples, batchSize, coefficientSink)[0];

    /// <summary>Every output's predictions, [output][sample], in user terms.</summary>
    /// <param name="coefficientSink">receives each batch's SAE coefficients [atoms * features], its node offsets and the index of
    /// its first sample</param>
    public double[][] PredictOutputs(IReadOnlyList<CrystalSample> samples, int batchSize = 64, Action<float[], int[], int>? coefficientSink = null)
    {
        int outputs = Config.Outputs;
        var predictions = Enumerable.Range(0, outputs).Select(_ => new double[samples.Count]).ToArray();
        var encoding = Encoding;
        for (int start = 0; start < samples.Count; start += batchSize)
        {
            int count = Math.Min(batchSize, samples.Count - start);
            using var batch = Batches.Upload(Network.Backend, samples, start, count, GraphOptions, Config.FeatureCount);
            using var tape = Tape.NoGrad();
            var (prediction, weights) = Network.Forward(batch);
            var values = prediction.ToArray();
            for (int i = 0; i < count; i++)
                for (int k = 0; k < outputs; k++)
                    predictions[k][start + i] = encoding.Restore(k, values[i * outputs + k]);
            // An FCN encoder has no coefficients to hand on.
            if (weights is not null) coefficientSink?.Invoke(weights.ToArray(), batch.NodeOffsets, start);
        }

        return predictions;
    }

    /// <summary>SAE importance of every feature over the given samples, most important first.</summary>
    public IReadOnlyList<FeatureImportance> ComputeImportance(IReadOnlyList<CrystalSample> samples)
    {
        if (!Network.HasImportance)
            throw new InvalidOperationException(
                $"This model's encoder is '{Config.Encoder}', which ranks no features; feature importance needs an SAE model (--encoder sae).");
        var accumulator = new FeatureImportance.Accumulator(Config.FeatureCount);
        Predict(samples, importance: accumulator);
        return accumulator.Result(Config.FeatureNames, Config.FeatureDescriptions);
    }

    public void Dispose() => Network.Dispose();
}

internal static class Batches
{
    public static DeviceGraphBatch Upload(SaGatSr.Kernels.IComputeBackend backend, IReadOnlyList<CrystalSample> samples,
        int start, int count, GraphOptions options, int featureCount)
    {
        var items = new (CrystalGraph Graph, float[] AtomFeatures)[count];
        for (int i = 0; i < count; i++) items[i] = (samples[start + i].Graph, samples[start + i].AtomFeatures);
        return new DeviceGraphBatch(backend, GraphBatch.Create(items, featureCount), options, featureCount);
    }

    public static DeviceGraphBatch Upload(SaGatSr.Kernels.IComputeBackend backend, IReadOnlyList<CrystalSample> samples,
        IReadOnlyList<int> indices, GraphOptions options, int featureCount) =>
        new(backend, Prepare(samples, indices, options, featureCount), featureCount);

    /// <summary>The host half of <see cref="Upload(SaGatSr.Kernels.IComputeBackend, IReadOnlyList{CrystalSample}, IReadOnlyList{int}, GraphOptions, int)"/>.</summary>
    public static HostGraphBatch Prepare(IReadOnlyList<CrystalSample> samples, IReadOnlyList<int> indices, GraphOptions options, int featureCount)
    {
        var items = new (CrystalGraph Graph, float[] AtomFeatures)[indices.Count];
        for (int i = 0; i < indices.Count; i++) items[i] = (samples[indices[i]].Graph, samples[indices[i]].AtomFeatures);
        return HostGraphBatch.Create(GraphBatch.Create(items, featureCount), options);
    }
}
