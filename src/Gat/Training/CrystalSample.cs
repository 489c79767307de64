using SaGatSr.Gat.Materials;

namespace SaGatSr.Gat.Training;

/// <summary>A structure turned into model input once: its graph, its (standardised) per-atom features and its targets
/// (one per network output; NaN where unknown).</summary>
public sealed record CrystalSample(string Id, CrystalGraph Graph, float[] AtomFeatures, double[] Targets)
{
    public CrystalSample(string id, CrystalGraph graph, float[] atomFeatures, double target) : this(id, graph, atomFeatures, [target])
    {
    }

    /// <summary>The first output's target.</summary>
    public double Target => Targets[0];
}
/// <summary>Turns structures into graphs and feature matrices, in parallel (each structure independently, so the result is deterministic).</summary>
public static class SamplePreparer
{
    public static IAtomFeaturizer CreateFeaturizer(string name) => name.ToLowerInvariant() switch
    {
        "sae" => new SaeFeaturizer(),
        "cgcnn" => new CgcnnFeaturizer(),
        _ => throw new ArgumentException($"Unknown featurizer '{name}': use 'sae' (named physical descriptors) or 'cgcnn' (92-dim one-hot)."),
    };

    /// <summary>Graph and raw (unscaled) feature matrix of every structure.</summary>
    public static (CrystalGraph Graph, float[] Features)[] Featurize(IReadOnlyList<Structure> structures,
        IAtomFeaturizer featurizer, GraphOptions options, IProgress<(int Done, int Total)>? progress = null)
    {
        var results = new (CrystalGraph, float[])[structures.Count];
        int done = 0;
        Parallel.For(0, structures.Count, i =>
        {
            var graph = CrystalGraph.Build(structures[i], options);
            results[i] = (graph, featurizer.Featurize(structures[i], graph));
            progress?.Report((Interlocked.Increment(ref done), structures.Count));
        });
        return results;
    }
}
