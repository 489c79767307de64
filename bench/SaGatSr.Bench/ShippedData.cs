using SaGatSr.Gat.Materials;
using SaGatSr.Gat.Training;

namespace SaGatSr.Bench;

/// <summary>The shipped JARVIS band-gap sample (or another dataset), loaded and featurized once per comparison as training data.</summary>
internal static class ShippedData
{
    /// <param name="path">a dataset folder or file; default: the shipped sample</param>
    public static TrainingData Load(string? path = null)
    {
        var dataset = Dataset.Load(path ?? RepositoryPaths.ShippedDataset);
        var featurizer = new SaeFeaturizer();
        var graphOptions = new GraphOptions();
        var inputs = SamplePreparer.Featurize(dataset.Entries.Select(e => e.Structure).ToArray(), featurizer, graphOptions);
        return new TrainingData(dataset.Entries.Select(e => e.Id).ToArray(), inputs, dataset.Entries.Select(e => e.Targets[0]).ToArray(),
            dataset.TargetNames[0], featurizer.Features, "sae", graphOptions);
    }
}
