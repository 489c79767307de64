using SaGatSr.Autodiff;
using SaGatSr.Kernels;

namespace SaGatSr.Gat.Model;

/// <summary>
/// Self-adaptable encoding: every scalar feature r_i gets its own projection h_ri = SiLU(r_i w_i + b_i); a learnable
/// vector w_a scores each, and a softmax over the features of each atom gives importance coefficients a_i that mix
/// them: h_0 = sum_i a_i h_ri. The a_i are what ranks the features.
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

    public SaeEncoder(IComputeBackend backend, int featureCount, int hidden, Random rng, bool normalize = false, bool featureLogits = false,
        float temperature = 1f)
    {
        this.hidden = hidden;
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
        scoreVector = AddParameter("score", Tensor.Parameter(backend, new float[hidden], hidden, 1));
        if (featureLogits) this.featureLogits = AddParameter("feature_logit", Tensor.Parameter(backend, new float[featureCount], featureCount));
    }

    /// <returns>h_0 [atoms, hidden] and the importance coefficients [atoms * features, 1] (rows grouped by atom).</returns>
    public (Tensor Encoded, Tensor Importance) Forward(DeviceGraphBatch batch)
    {
        var perFeature = Ops.FeatureProjection(batch.AtomFeatures, featureWeights, featureBiases, UnaryOp.Silu);
        if (normScale is not null) perFeature = Ops.LayerNorm(perFeature, normScale, normShift!);
        var scores = Ops.MatMul(perFeature, scoreVector);
        if (featureLogits is not null)
            scores = Ops.AddRow(scores.Reshape(batch.AtomCount, featureCount), featureLogits).Reshape(batch.AtomCount * featureCount, 1);
        if (temperature != 1f) scores = Ops.Scale(scores, 1f / temperature);
        var importance = Ops.SegmentSoftmax(scores, batch.AtomFeatureSlots);
        // A one-head attention sum over each atom's slots: h_0 = sum_i a_i h_ri without an [atoms * features, hidden] product.
        var encoded = Ops.SegmentWeightedGatherSum(importance, perFeature, batch.SlotIndex, batch.AtomFeatureSlots, heads: 1);
        return (encoded, importance);
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
        normScale?.Dispose();
        normShift?.Dispose();
        base.Dispose();
    }
}
