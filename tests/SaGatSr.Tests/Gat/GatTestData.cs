using SaGatSr.Gat.Materials;
using SaGatSr.Gat.Training;

namespace SaGatSr.Tests.Gat;

/// <summary>Small real inputs shared by the model tests: the first crystals of the shipped dataset, featurized once.</summary>
internal static class GatTestData
{
    private static readonly Lazy<(Dataset Dataset, (CrystalGraph Graph, float[] Features)[] Inputs, FeatureSet Features)> Loaded = new(() =>
    {
        var dataset = Dataset.Load(TestPaths.ShippedDataset);
        var featurizer = new SaeFeaturizer();
        var structures = dataset.Entries.Select(e => e.Structure).ToArray();
        return (dataset, SamplePreparer.Featurize(structures, featurizer, new GraphOptions()), featurizer.Features);
    });

    public static Dataset Dataset => Loaded.Value.Dataset;

    public static FeatureSet Features => Loaded.Value.Features;

    /// <summary>The first <paramref name="count"/> crystals as training data (smallest first, to keep tests fast).</summary>
    public static TrainingData Data(int count)
    {
        var (dataset, inputs, features) = Loaded.Value;
        var order = Order(count);
        return new TrainingData(order.Select(i => dataset.Entries[i].Id).ToArray(), order.Select(i => inputs[i]).ToArray(),
            order.Select(i => dataset.Entries[i].Targets[0]).ToArray(), "band_gap", features, "sae", new GraphOptions());
    }

    /// <summary>The same crystals as <see cref="Data(int)"/>, on the same graphs, with CGCNN's one-hot features.</summary>
    public static TrainingData CgcnnData(int count)
    {
        var sae = Data(count);
        var featurizer = new CgcnnFeaturizer();
        var structures = Structures(count);
        var inputs = sae.Inputs.Select((input, i) => (input.Graph, featurizer.Featurize(structures[i], input.Graph))).ToArray();
        return sae with { Inputs = inputs, Features = featurizer.Features, Featurizer = "cgcnn" };
    }

    /// <summary>The structures of <see cref="Data(int)"/>, in its order.</summary>
    public static Structure[] Structures(int count) => Order(count).Select(i => Dataset.Entries[i].Structure).ToArray();

    private static int[] Order(int count) => Enumerable.Range(0, Dataset.Entries.Count)
        .OrderBy(i => Dataset.Entries[i].Structure.AtomCount).ThenBy(i => i).Take(count).ToArray();

    /// <summary>Standardised samples ready for the model.</summary>
    public static CrystalSample[] Samples(TrainingData data)
    {
        var scaler = FeatureScaler.Fit(data.Inputs.Select(i => i.Features), data.Features.Count);
        return data.Inputs.Select((input, i) =>
        {
            var features = (float[])input.Features.Clone();
            scaler.TransformInPlace(features);
            return new CrystalSample(data.Ids[i], input.Graph, features, data.Targets[i]);
        }).ToArray();
    }
}
