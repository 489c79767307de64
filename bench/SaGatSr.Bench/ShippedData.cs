using SaGatSr.Gat.Materials;
using SaGatSr.Gat.Model;
using SaGatSr.Gat.Training;

namespace SaGatSr.Bench;

/// <summary>The shipped JARVIS band-gap sample (or another dataset), loaded and featurized once per comparison as training data.</summary>
internal static class ShippedData
{
    /// <param name="path">a dataset folder or file; default: the shipped sample</param>
    /// <param name="target">the target column by name; default: the first</param>
    public static TrainingData Load(string? path = null, string target = "")
    {
        var dataset = Dataset.Load(path ?? RepositoryPaths.ShippedDataset);
        int column = target == "" ? 0 : dataset.TargetNames.ToList().FindIndex(n => n.Equals(target, StringComparison.OrdinalIgnoreCase));
        if (column < 0) throw new ArgumentException($"no target '{target}'; the dataset has {string.Join(", ", dataset.TargetNames)}");
        var entries = dataset.Entries.Where(e => double.IsFinite(e.Targets[column])).ToArray();
        var featurizer = new SaeFeaturizer();
        var graphOptions = new GraphOptions();
        var inputs = SamplePreparer.Featurize(entries.Select(e => e.Structure).ToArray(), featurizer, graphOptions);
        return new TrainingData(entries.Select(e => e.Id).ToArray(), inputs, entries.Select(e => e.Targets[column]).ToArray(),
            dataset.TargetNames[column], featurizer.Features, "sae", graphOptions, path);
    }

    /// <summary>The crystals as training sees them: features standardised over the whole set.</summary>
    public static CrystalSample[] StandardisedSamples(TrainingData data)
    {
        var scaler = FeatureScaler.Fit(data.Inputs.Select(i => i.Features), data.Features.Count);
        return data.Inputs.Select((input, i) =>
        {
            var features = (float[])input.Features.Clone();
            scaler.TransformInPlace(features);
            return new CrystalSample(data.Ids[i], input.Graph, features, data.Targets[i]);
        }).ToArray();
    }

    /// <summary>The default network over the data's features.</summary>
    public static SaGatConfig DefaultConfig(TrainingData data) => new()
    {
        FeatureNames = data.Features.Features.Select(f => f.Name).ToArray(),
        FeatureDescriptions = data.Features.Features.Select(f => f.Description).ToArray(),
        GaussianCount = data.GraphOptions.GaussianCount,
    };
}
