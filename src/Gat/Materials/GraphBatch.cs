namespace SaGatSr.Gat.Materials;

/// <summary>
/// Many crystals as one disconnected graph for the kernels: atoms of crystal c are NodeOffsets[c]..NodeOffsets[c+1],
/// edge endpoints are shifted into that global numbering, and edges stay sorted by target so EdgeTargetOffsets is the
/// CSR index of incoming edges over all atoms. EdgeOffsets[c] gives the edges of crystal c.
/// </summary>
public sealed class GraphBatch
{
    private GraphBatch(int crystalCount, int featureCount, int[] source, int[] target, int[] nodeOffsets, int[] edgeOffsets,
        int[] edgeTargetOffsets, float[] distance, float[] atomFeatures)
    {
        CrystalCount = crystalCount;
        FeatureCount = featureCount;
        EdgeSource = source;
        EdgeTarget = target;
        NodeOffsets = nodeOffsets;
        EdgeOffsets = edgeOffsets;
        EdgeTargetOffsets = edgeTargetOffsets;
        EdgeDistance = distance;
        AtomFeatures = atomFeatures;
    }

    public int CrystalCount { get; }

    public int AtomCount => NodeOffsets[^1];

    public int EdgeCount => EdgeSource.Length;

    public int FeatureCount { get; }

    public int[] EdgeSource { get; }

    public int[] EdgeTarget { get; }

    /// <summary>CrystalCount + 1 entries.</summary>
    public int[] NodeOffsets { get; }

    /// <summary>CrystalCount + 1 entries: edges of crystal c are EdgeOffsets[c]..EdgeOffsets[c+1].</summary>
    public int[] EdgeOffsets { get; }

    /// <summary>AtomCount + 1 entries.</summary>
    public int[] EdgeTargetOffsets { get; }

    public float[] EdgeDistance { get; }

    /// <summary>Row-major [AtomCount, FeatureCount].</summary>
    public float[] AtomFeatures { get; }

    /// <summary>Crystal index of every atom (AtomCount entries), for segment reductions that want a per-row id.</summary>
    public int[] CrystalOfAtom()
    {
        var result = new int[AtomCount];
        for (int c = 0; c < CrystalCount; c++)
            Array.Fill(result, c, NodeOffsets[c], NodeOffsets[c + 1] - NodeOffsets[c]);
        return result;
    }

    public static GraphBatch Create(IReadOnlyList<(CrystalGraph Graph, float[] AtomFeatures)> items, int featureCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(featureCount);
        var nodeOffsets = new int[items.Count + 1];
        var edgeOffsets = new int[items.Count + 1];
        for (int c = 0; c < items.Count; c++)
        {
            var (graph, features) = items[c];
            if ((long)features.Length != (long)graph.AtomCount * featureCount)
                throw new ArgumentException($"crystal {c}: feature matrix has {features.Length} values, expected {graph.AtomCount} atoms x {featureCount} features");
            nodeOffsets[c + 1] = checked(nodeOffsets[c] + graph.AtomCount);
            edgeOffsets[c + 1] = checked(edgeOffsets[c] + graph.EdgeCount);
        }

        int atoms = nodeOffsets[^1], edges = edgeOffsets[^1];
        var source = new int[edges];
        var target = new int[edges];
        var distance = new float[edges];
        var targetOffsets = new int[atoms + 1];
        var atomFeatures = new float[(long)atoms * featureCount];
        for (int c = 0; c < items.Count; c++)
        {
            var (graph, features) = items[c];
            int nodeShift = nodeOffsets[c], edgeShift = edgeOffsets[c];
            for (int e = 0; e < graph.EdgeCount; e++)
            {
                source[edgeShift + e] = graph.EdgeSource[e] + nodeShift;
                target[edgeShift + e] = graph.EdgeTarget[e] + nodeShift;
            }

            Array.Copy(graph.EdgeDistance, 0, distance, edgeShift, graph.EdgeCount);
            for (int i = 0; i < graph.AtomCount; i++)
                targetOffsets[nodeShift + i + 1] = graph.TargetOffsets[i + 1] + edgeShift;
            Array.Copy(features, 0, atomFeatures, (long)nodeShift * featureCount, features.Length);
        }

        return new GraphBatch(items.Count, featureCount, source, target, nodeOffsets, edgeOffsets, targetOffsets, distance, atomFeatures);
    }
}
