using SaGatSr.Autodiff;
using SaGatSr.Kernels;

namespace SaGatSr.Gat.Model;

/// <summary>
/// Self-adaptable encoding: every scalar feature r_i gets its own projection h_ri = SiLU(r_i w_i + b_i); a learnable
/// vector w_a scores each, and a softmax over the features of each atom gives importance coefficients a_i that mix
/// them: h_0 = sum_i a_i h_ri. The a_i are what ranks the features. With several heads, each head has its own scores
/// and coefficients and fills its own slice of h_0, so different heads can attend to different features; the ranking
/// averages the heads' coefficients.
/// </summary>
public sealed class SaeEncoder : Module
{
    private readonly Tensor featureWeights;
    private readonly Tensor featureBiases;
    private readonly Tensor scoreVector;
    private readonly int hidden;
    // Constant unit scale and zero shift of the projections' layer norm (null: not normalised).
    private readonly Tensor? normScale, normShift;

    private readonly Tensor? featureLogits;
    private readonly int featureCount;

    private readonly float temperature;
    private readonly int heads;
    // Constant [heads, 1] column of 1/heads: the ranking is each feature's coefficient averaged over the heads.
    private readonly Tensor? headMean;

    public SaeEncoder(IComputeBackend backend, int featureCount, int hidden, Random rng, bool normalize = false, bool featureLogits = false,
        float temperature = 1f, int heads = 1)
    {
        if (heads <= 0 || hidden % heads != 0)
            throw new ArgumentException($"SAE hidden size {hidden} must be a positive multiple of its head count {heads}.");
        this.hidden = hidden;
        this.heads = heads;
        if (heads > 1) headMean = Tensor.FromArray(backend, Enumerable.Repeat(1f / heads, heads).ToArray(), heads, 1);
        this.temperature = temperature;
        this.featureCount = featureCount;
        if (normalize)
        {
            normScale = Tensor.FromArray(backend, Enumerable.Repeat(1f, hidden).ToArray(), hidden);
            normShift = Tensor.FromArray(backend, new float[hidden], hidden);
        }

        // Each feature is a single standardised scalar, so a unit-scale init keeps SiLU in its curved range.
        featureWeights = AddParameter("feature_weight",
            Tensor.Parameter(backend, Initialisers.Normal(rng, featureCount * hidden, 1.0), featureCount, hidden));
        featureBiases = AddParameter("feature_bias",
            Tensor.Parameter(backend, Initialisers.Normal(rng, featureCount * hidden, 0.1), featureCount, hidden));
        // Zero scores start every feature with the same importance 1/F, so the ranking is learned, not initialised.
        // Head k scores the whole h_ri but mixes only its own hidden/heads columns of them, as a GAT head does.
        scoreVector = AddParameter("score", Tensor.Parameter(backend, new float[hidden * heads], hidden, heads));
        if (featureLogits)
            this.featureLogits = AddParameter("feature_logit", Tensor.Parameter(backend, new float[featureCount * heads], featureCount * heads));
    }

    /// <returns>h_0 [atoms, hidden] and the importance coefficients [atoms * features, 1] (rows grouped by atom).</returns>
    public (Tensor Encoded, Tensor Importance) Forward(DeviceGraphBatch batch)
    {
        Tensor encoded, coefficients;
        if (normScale is null)
        {
            // One fused kernel each way: the [atoms * features, hidden] projections are never stored.
            (encoded, coefficients) = Ops.SaeEncode(batch.AtomFeatures, featureWeights, featureBiases, scoreVector, featureLogits, heads, temperature);
        }
        else
        {
            var perFeature = Ops.LayerNorm(Ops.FeatureProjection(batch.AtomFeatures, featureWeights, featureBiases, UnaryOp.Silu), normScale, normShift!);
            var scores = Ops.MatMul(perFeature, scoreVector);
            if (featureLogits is not null)
                scores = Ops.AddRow(scores.Reshape(batch.AtomCount, featureCount * heads), featureLogits).Reshape(batch.AtomCount * featureCount, heads);
            if (temperature != 1f) scores = Ops.Scale(scores, 1f / temperature);
            coefficients = Ops.SegmentSoftmax(scores, batch.AtomFeatureSlots);
            // An attention sum over each atom's slots: h_0 = sum_i a_i h_ri without an [atoms * features, hidden] product.
            encoded = Ops.SegmentWeightedGatherSum(coefficients, perFeature, batch.SlotIndex, batch.AtomFeatureSlots, heads);
        }

        return (encoded, headMean is null ? coefficients : Ops.MatMul(coefficients, headMean));
    }

    public int Hidden => hidden;

    /// <summary>Mean over atoms of the coefficients' entropy, divided by log F so a uniform encoder scores 1.</summary>
    public static Tensor NormalisedEntropy(Tensor importance, int atoms, int features)
    {
        // a log a, with a floor so an underflowed coefficient contributes 0 rather than 0 * -inf.
        var plogp = Ops.Mul(importance, Ops.Log(Ops.AddScalar(importance, 1e-12f)));
        return Ops.Scale(Ops.Sum(plogp), -1f / (atoms * MathF.Log(Math.Max(features, 2))));
    }

    public override void Dispose()
    {
        headMean?.Dispose();
        normScale?.Dispose();
        normShift?.Dispose();
        base.Dispose();
    }
}
