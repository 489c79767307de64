using SaGatSr.Autodiff;
using SaGatSr.Kernels;

namespace SaGatSr.Gat.Model;

/// <summary>
/// One multi-head graph attention layer over the crystal graph. Each edge j -> i gets, per head, the logit
/// LeakyReLU(a_src . z_j + a_dst . z_i + w_e . rbf(d_ij)); a softmax over i's incoming edges weighs the messages z_j,
/// summed by one fused sparse kernel (no per-edge message tensor). Output: LayerNorm(h + SiLU(W_o agg)).
/// With distance-filtered messages each edge carries z_j * sigmoid(rbf(d_ij) W_f + b_f) instead of z_j (a continuous
/// filter, as in SchNet and CGCNN's gated convolution), so a neighbour's contribution changes with its distance, not only
/// its attention weight; that costs a per-edge message tensor.
/// </summary>
public sealed class GatLayer : Module
{
    private readonly Linear project;
    private readonly Linear? distanceFilter;
    private readonly Linear output;
    private readonly Tensor sourceAttention;
    private readonly Tensor targetAttention;
    private readonly Tensor edgeAttention;
    private readonly Tensor normScale;
    private readonly Tensor normShift;
    private readonly Tensor headSum;
    private readonly int heads;
    private readonly float leakySlope;

    public GatLayer(IComputeBackend backend, int hidden, int heads, int gaussianCount, float leakySlope, Random rng,
        bool distanceFilteredMessages = false)
    {
        this.heads = heads;
        this.leakySlope = leakySlope;
        int headDim = hidden / heads;
        project = AddModule("project", new Linear(backend, hidden, hidden, rng, bias: false));
        if (distanceFilteredMessages) distanceFilter = AddModule("filter", new Linear(backend, gaussianCount, hidden, rng));
        output = AddModule("output", new Linear(backend, hidden, hidden, rng));
        sourceAttention = AddParameter("attention_source",
            Tensor.Parameter(backend, Initialisers.Normal(rng, hidden, 1.0 / Math.Sqrt(headDim)), hidden));
        targetAttention = AddParameter("attention_target",
            Tensor.Parameter(backend, Initialisers.Normal(rng, hidden, 1.0 / Math.Sqrt(headDim)), hidden));
        edgeAttention = AddParameter("attention_edge",
            Tensor.Parameter(backend, Initialisers.Glorot(rng, gaussianCount, heads), gaussianCount, heads));
        normScale = AddParameter("norm_scale", Tensor.Parameter(backend, Enumerable.Repeat(1f, hidden).ToArray(), hidden));
        normShift = AddParameter("norm_shift", Tensor.Parameter(backend, new float[hidden], hidden));

        // Constant [hidden, heads] block matrix summing each head's columns: turns a_src * z into per-head logits.
        var blocks = new float[hidden * heads];
        for (int column = 0; column < hidden; column++) blocks[column * heads + column / headDim] = 1f;
        headSum = Tensor.FromArray(backend, blocks, hidden, heads);
    }

    public Tensor Forward(Tensor atoms, DeviceGraphBatch batch)
    {
        var projected = project.Forward(atoms);
        var sourceLogit = Ops.MatMul(Ops.MulRow(projected, sourceAttention), headSum);
        var targetLogit = Ops.MatMul(Ops.MulRow(projected, targetAttention), headSum);
        var edgeLogit = Ops.MatMul(batch.EdgeExpansion, edgeAttention);
        var logits = Ops.LeakyRelu(
            Ops.Add(Ops.Add(Ops.Gather(sourceLogit, batch.EdgeSource), Ops.Gather(targetLogit, batch.EdgeTarget)), edgeLogit),
            leakySlope);
        var attention = Ops.SegmentSoftmax(logits, batch.IncomingEdges);
        var aggregated = distanceFilter is null
            ? Ops.SegmentWeightedGatherSum(attention, projected, batch.EdgeSource, batch.IncomingEdges, heads)
            : Ops.SegmentWeightedGatherSum(attention,
                Ops.Mul(Ops.Gather(projected, batch.EdgeSource), Ops.Sigmoid(distanceFilter.Forward(batch.EdgeExpansion))),
                batch.EdgeIndex, batch.IncomingEdges, heads);
        var update = Ops.Silu(output.Forward(aggregated));
        return Ops.LayerNorm(Ops.Add(atoms, update), normScale, normShift);
    }

    public override void Dispose()
    {
        headSum.Dispose();
        base.Dispose();
    }
}
