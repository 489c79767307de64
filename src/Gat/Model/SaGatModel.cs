using SaGatSr.Autodiff;
using SaGatSr.Kernels;

namespace SaGatSr.Gat.Model;

/// <summary>SAE encoder, GAT layers, mean pooling over each crystal's atoms, and an MLP regression head.</summary>
public sealed class SaGatModel : Module
{
    private readonly SaeEncoder encoder;
    private readonly GatLayer[] layers;
    private readonly Linear headHidden;
    private readonly Linear headOutput;

    public SaGatModel(IComputeBackend backend, SaGatConfig config)
    {
        config.Validate();
        Config = config;
        Backend = backend;
        var rng = new Random(config.Seed);
        encoder = AddModule("sae", new SaeEncoder(backend, config.FeatureCount, config.Hidden, rng, config.SaeNormalization,
            config.SaeFeatureLogits, config.SaeTemperature));
        layers = new GatLayer[config.Layers];
        for (int i = 0; i < layers.Length; i++)
            layers[i] = AddModule($"gat{i}",
                new GatLayer(backend, config.Hidden, config.Heads, config.GaussianCount, config.LeakySlope, rng));
        headHidden = AddModule("head_hidden", new Linear(backend, config.Hidden, config.Hidden, rng));
        headOutput = AddModule("head_output", new Linear(backend, config.Hidden, 1, rng));
    }

    public SaGatConfig Config { get; }

    public IComputeBackend Backend { get; }

    /// <returns>Normalised predictions [crystals, 1] and SAE importance coefficients [atoms * features, 1].</returns>
    public (Tensor Prediction, Tensor Importance) Forward(DeviceGraphBatch batch)
    {
        var (atoms, importance) = encoder.Forward(batch);
        foreach (var layer in layers) atoms = layer.Forward(atoms, batch);
        var crystals = Ops.SegmentMean(atoms, batch.CrystalAtoms);
        var prediction = headOutput.Forward(Ops.Silu(headHidden.Forward(crystals)));
        return (prediction, importance);
    }
}
