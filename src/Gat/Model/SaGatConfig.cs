using System.Text.Json.Serialization;

namespace SaGatSr.Gat.Model;

/// <summary>Everything needed to rebuild a model's architecture and its inputs; stored inside every model file.</summary>
public sealed record SaGatConfig
{
    /// <summary>"sae" (the 195 named physical descriptors) or "cgcnn" (CGCNN's 92-dim one-hot encoding).</summary>
    public string Featurizer { get; init; } = "sae";

    public string[] FeatureNames { get; init; } = [];

    /// <summary>One line per feature saying what it means, parallel to <see cref="FeatureNames"/>.</summary>
    public string[] FeatureDescriptions { get; init; } = [];

    [JsonIgnore]
    public int FeatureCount => FeatureNames.Length;

    /// <summary>
    /// How an atom's features become its first hidden vector: "sae" (self-adaptable encoding, which also ranks the
    /// features) or "fcn" (one fully connected layer over the whole feature vector; no ranking).
    /// </summary>
    public string Encoder { get; init; } = "sae";

    /// <summary>Width of every atom's hidden vector, and of each feature's SAE projection.</summary>
    public int Hidden { get; init; } = 48;

    public int Heads { get; init; } = 4;

    /// <summary>
    /// What a neighbour sends: "node" (its projected hidden vector; the attention weight alone sees the distance) or
    /// "edge" (that vector gated by a learned filter of the bond length, <see cref="GatLayer"/> with distance-filtered messages).
    /// </summary>
    public string Messages { get; init; } = "node";

    public int Layers { get; init; } = 3;

    public double Cutoff { get; init; } = 8.0;

    public int MaxNeighbors { get; init; } = 20;

    public int GaussianCount { get; init; } = 40;

    public float LeakySlope { get; init; } = 0.2f;

    /// <summary>Dropout rate on the regression head's hidden layer while training (0: none).</summary>
    public float Dropout { get; init; }

    public int Seed { get; init; } = 42;

    /// <summary>Values the head predicts per crystal: one per target (several targets share one network), or one logit.</summary>
    public int Outputs { get; init; } = 1;

    /// <summary>
    /// Layer-normalise each feature's SAE projection h_ri (no scale or shift), so every feature enters h_0 with the same
    /// magnitude and its share is its coefficient a_i: a large projection cannot stand in for attention.
    /// </summary>
    public bool SaeNormalization { get; init; }

    /// <summary>
    /// Weight in the loss of the SAE coefficients' mean per-atom entropy divided by log F (0: none). It makes the encoder
    /// spend its attention on few features, so the ranking separates the features the network needs from the rest.
    /// </summary>
    public float SaeSparsity { get; init; }

    /// <summary>
    /// A learnable logit per feature added to the SAE scores (zero at the start): the score of feature i is
    /// h_ri · w_a + c_i. Each c_i receives its feature's whole gradient directly, where w_a averages over all features.
    /// </summary>
    public bool SaeFeatureLogits { get; init; } = true;

    /// <summary>
    /// Softmax temperature of the SAE scores: a_i = softmax(s_i / T). Below 1 it sharpens the coefficients, so the small,
    /// consistent preferences training gives the scores become a ranking that separates features.
    /// </summary>
    public float SaeTemperature { get; init; } = 0.3f;

    /// <summary>
    /// Attention heads of the SAE: each has its own scores and coefficients over the features and fills hidden/heads
    /// columns of h_0, so one head can follow, say, the radii while another follows the electronegativities.
    /// </summary>
    public int SaeHeads { get; init; } = 1;

    [JsonIgnore]
    public int HeadDim => Hidden / Heads;

    public void Validate()
    {
        if (FeatureNames.Length == 0) throw new ArgumentException("The model needs at least one input feature.");
        if (FeatureDescriptions.Length != FeatureNames.Length)
            throw new ArgumentException("Every feature needs a description.");
        if (Encoder is not ("sae" or "fcn"))
            throw new ArgumentException($"Encoder must be sae or fcn, not '{Encoder}'.");
        if (Messages is not ("node" or "edge"))
            throw new ArgumentException($"Messages must be node or edge, not '{Messages}'.");
        if (Hidden <= 0 || Heads <= 0 || Hidden % Heads != 0)
            throw new ArgumentException($"Hidden size {Hidden} must be a positive multiple of the head count {Heads}.");
        if (SaeHeads <= 0 || Hidden % SaeHeads != 0)
            throw new ArgumentException($"Hidden size {Hidden} must be a positive multiple of the SAE head count {SaeHeads}.");
        if (Dropout is < 0 or >= 1) throw new ArgumentException($"Dropout must be in [0, 1), not {Dropout}.");
        if (Outputs < 1) throw new ArgumentException($"A model needs at least one output, not {Outputs}.");
        if (Layers < 0) throw new ArgumentException("Layer count must be zero or more.");
        if (Cutoff <= 0 || MaxNeighbors <= 0 || GaussianCount <= 0)
            throw new ArgumentException("Cutoff, neighbour count and Gaussian count must be positive.");
        if (!(SaeSparsity >= 0) || float.IsInfinity(SaeSparsity)) throw new ArgumentException($"SAE sparsity {SaeSparsity} must be zero or positive.");
        if (!(SaeTemperature > 0) || float.IsInfinity(SaeTemperature)) throw new ArgumentException($"SAE temperature {SaeTemperature} must be positive.");
    }
}
