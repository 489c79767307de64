using SaGatSr.Gat.Materials;
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
}
