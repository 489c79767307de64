using SaGatSr.Autodiff;
using SaGatSr.Gat.Materials;
using SaGatSr.Kernels;

namespace SaGatSr.Gat.Model;

/// <summary>
/// The host half of a batch: the joined graphs and the Gaussian expansion of their edges. Building it touches no device,
/// so the next batch can be built on another thread while the device works on this one.
/// </summary>
public sealed record HostGraphBatch(GraphBatch Batch, float[] EdgeExpansion, int GaussianCount)
{
    public static HostGraphBatch Create(GraphBatch batch, GraphOptions graphOptions) =>
        new(batch, GaussianExpansion.Expand(batch.EdgeDistance, graphOptions), graphOptions.GaussianCount);
}

/// <summary>A <see cref="GraphBatch"/> uploaded once to the device, in the index layouts the kernels take.</summary>
public sealed class DeviceGraphBatch : IDisposable
{
    public DeviceGraphBatch(IComputeBackend backend, GraphBatch batch, GraphOptions graphOptions, int featureCount)
        : this(backend, HostGraphBatch.Create(batch, graphOptions), featureCount)
    {
    }

    public DeviceGraphBatch(IComputeBackend backend, HostGraphBatch host, int featureCount)
    {
        var batch = host.Batch;
        CrystalCount = batch.CrystalCount;
        AtomCount = batch.AtomCount;
        EdgeCount = batch.EdgeCount;
        FeatureCount = featureCount;
        AtomFeatures = Tensor.FromArray(backend, batch.AtomFeatures, batch.AtomCount, featureCount);
        EdgeExpansion = Tensor.FromArray(backend, host.EdgeExpansion, batch.EdgeCount, host.GaussianCount);
        EdgeSource = IndexTensor.FromArray(backend, batch.EdgeSource);
        EdgeTarget = IndexTensor.FromArray(backend, batch.EdgeTarget);
        IncomingEdges = Segments.FromOffsets(backend, batch.EdgeTargetOffsets);
        CrystalAtoms = Segments.FromOffsets(backend, batch.NodeOffsets);
        AtomFeatureSlots = Segments.Uniform(backend, batch.AtomCount, featureCount);
        var slots = new int[batch.AtomCount * featureCount];
        for (int i = 0; i < slots.Length; i++) slots[i] = i;
        SlotIndex = IndexTensor.FromArray(backend, slots);
        EdgeIndex = IndexTensor.FromArray(backend, Enumerable.Range(0, batch.EdgeCount).ToArray());
        NodeOffsets = batch.NodeOffsets;
    }

    public int CrystalCount { get; }

    public int AtomCount { get; }

    public int EdgeCount { get; }

    public int FeatureCount { get; }

    /// <summary>[atoms, features], already standardised.</summary>
    public Tensor AtomFeatures { get; }

    /// <summary>[edges, gaussians]: the distance of each edge expanded on a Gaussian basis.</summary>
    public Tensor EdgeExpansion { get; }

    public IndexTensor EdgeSource { get; }

    public IndexTensor EdgeTarget { get; }

    /// <summary>Edges grouped by target atom: the neighbourhood each attention softmax runs over.</summary>
    public Segments IncomingEdges { get; }

    /// <summary>Atoms grouped by crystal, for pooling.</summary>
    public Segments CrystalAtoms { get; }

    /// <summary>The atoms x features "slots" of SAE grouped by atom: the softmax over features runs over each group.</summary>
    public Segments AtomFeatureSlots { get; }

    /// <summary>0, 1, ... over the slots: lets the attention-weighted sum of SAE read each slot's row in place.</summary>
    public IndexTensor SlotIndex { get; }

    /// <summary>0, 1, ... over the edges: lets an attention-weighted sum read per-edge messages in place.</summary>
    public IndexTensor EdgeIndex { get; }

    public int[] NodeOffsets { get; }

    public void Dispose()
    {
        AtomFeatures.Dispose();
        EdgeExpansion.Dispose();
        EdgeSource.Dispose();
        EdgeTarget.Dispose();
        IncomingEdges.Dispose();
        CrystalAtoms.Dispose();
        AtomFeatureSlots.Dispose();
        SlotIndex.Dispose();
        EdgeIndex.Dispose();
    }
}
