using SaGatSr.Autodiff;
using SaGatSr.Kernels;

namespace SaGatSr.Gat.Model;

/// <summary>
/// A graph attention layer whose messages also depend on the bond length: as <see cref="GatLayer"/>, but each edge j -> i
/// carries z_j * sigmoid(rbf(d_ij) W_f + b_f) (a continuous distance filter, as in SchNet and CGCNN's gated convolution)
/// instead of z_j alone, so a neighbour's contribution changes with its distance, not only its attention weight.
/// Output: LayerNorm(h + SiLU(W_o agg)).
/// </summary>
public sealed class EdgeGatLayer : Module
{
    private readonly Linear project;
    private readonly Linear filter;
    private readonly Linear output;
    private readonly Tensor sourceAttention;
    private readonly Tensor targetAttention;
    private readonly Tensor edgeAttention;
    private readonly Tensor normScale;
    private readonly Tensor normShift;
    private readonly Tensor headSum;
    private readonly int heads;
    private readonly float leakySlope;

    public EdgeGatLayer(IComputeBackend backend, int hidden, int heads, int gaussianCount, float leakySlope, Random rng)
    {
        this.heads = heads;
        this.leakySlope = leakySlope;
        int headDim = hidden / heads;
        project = AddModule("project", new Linear(backend, hidden, hidden, rng, bias: false));
        filter = AddModule("filter", new Linear(backend, gaussianCount, hidden, rng));
        output = AddModule("output", new Linear(backend, hidden, hidden, rng));
        sourceAttention = AddParameter("attention_source",
            Tensor.Parameter(backend, Initialisers.Normal(rng, hidden, 1.0 / Math.Sqrt(headDim)), hidden));
        targetAttention = AddParameter("attention_target",
            Tensor.Parameter(backend, Initialisers.Normal(rng, hidden, 1.0 / Math.Sqrt(headDim)), hidden));
        edgeAttention = AddParameter("attention_edge",
            Tensor.Parameter(backend, Initialisers.Glorot(rng, gaussianCount, heads), gaussianCount, heads));
        normScale = AddParameter("norm_scale", Tensor.Parameter(backend, Enumerable.Repeat(1f, hidden).ToArray(), hidden));
        normShift = AddParameter("norm_shift", Tensor.Parameter(backend, new float[hidden], hidden));

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
        var messages = Ops.Mul(Ops.Gather(projected, batch.EdgeSource), Ops.Sigmoid(filter.Forward(batch.EdgeExpansion)));
        var aggregated = Ops.SegmentWeightedGatherSum(attention, messages, batch.EdgeIndex, batch.IncomingEdges, heads);
        var update = Ops.Silu(output.Forward(aggregated));
        return Ops.LayerNorm(Ops.Add(atoms, update), normScale, normShift);
    }

    public override void Dispose()
    {
        headSum.Dispose();
        base.Dispose();
    }
}
