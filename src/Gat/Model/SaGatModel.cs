using SaGatSr.Autodiff;
using SaGatSr.Kernels;

namespace SaGatSr.Gat.Model;

/// <summary>SAE (or FCN) encoder, GAT layers, mean pooling over each crystal's atoms, and an MLP head with one output per target (or a logit).</summary>
public sealed class SaGatModel : Module
{
    private readonly SaeEncoder? sae;
    private readonly FcnEncoder? fcn;
    private readonly GatLayer[] layers;
    private readonly Linear headHidden;
    private readonly Linear headOutput;

    public SaGatModel(IComputeBackend backend, SaGatConfig config)
    {
        config.Validate();
        Config = config;
        Backend = backend;
        var rng = new Random(config.Seed);
        if (config.Encoder == "fcn") fcn = AddModule("fcn", new FcnEncoder(backend, config.FeatureCount, config.Hidden, rng));
        else sae = AddModule("sae", new SaeEncoder(backend, config.FeatureCount, config.Hidden, rng, config.SaeNormalization,
            config.SaeFeatureLogits, config.SaeTemperature, config.SaeHeads));
        layers = new GatLayer[config.Layers];
        for (int i = 0; i < layers.Length; i++)
            layers[i] = AddModule($"gat{i}", new GatLayer(backend, config.Hidden, config.Heads, config.GaussianCount, config.LeakySlope, rng,
                distanceFilteredMessages: config.Messages == "edge"));
        headHidden = AddModule("head_hidden", new Linear(backend, config.Hidden, config.Hidden, rng));
        headOutput = AddModule("head_output", new Linear(backend, config.Hidden, config.Outputs, rng));
    }

    public SaGatConfig Config { get; }

    public IComputeBackend Backend { get; }

    /// <summary>Whether the encoder ranks the features (SAE); an FCN encoder has no importance coefficients.</summary>
    public bool HasImportance => sae is not null;

    /// <param name="dropout">masks for the head's dropout (<see cref="SaGatConfig.Dropout"/>) while training; null: none</param>
    /// <returns>
    /// Normalised predictions (or logits) [crystals, outputs] and the SAE importance coefficients [atoms * features, 1] (null for an FCN encoder).
    /// </returns>
    public (Tensor Prediction, Tensor? Importance) Forward(DeviceGraphBatch batch, Random? dropout = null)
    {
        Tensor atoms;
        Tensor? importance = null;
        if (sae is not null) (atoms, importance) = sae.Forward(batch);
        else atoms = fcn!.Forward(batch);
        foreach (var layer in layers) atoms = layer.Forward(atoms, batch);
        var crystals = Ops.SegmentMean(atoms, batch.CrystalAtoms);
        var hidden = Ops.Silu(headHidden.Forward(crystals));
        if (dropout is not null && Config.Dropout > 0) hidden = Ops.Dropout(hidden, Config.Dropout, dropout);
        var prediction = headOutput.Forward(hidden);
        return (prediction, importance);
    }
}
