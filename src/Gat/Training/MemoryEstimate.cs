using SaGatSr.Gat.Materials;

namespace SaGatSr.Gat.Training;

/// <summary>
/// What training a dataset holds in memory, known before the graphs are built: every atom's feature row (as built, and the
/// standardised copy training keeps), every bond of the neighbour graph, and the structures themselves. Said up front so a
/// dataset too big for the machine is refused with the numbers instead of the process being killed hours in.
/// </summary>
/// <param name="Bytes">the estimate, runtime and model included</param>
/// <param name="AvailableBytes">what this process may use (the machine's memory, or its container's limit)</param>
public sealed record MemoryEstimate(long Atoms, long Edges, int FeatureCount, long Bytes, long AvailableBytes)
{
    /// <summary>An allowance for the runtime, the model, the optimiser and one batch's tape, which do not grow with the dataset.</summary>
    private const long FixedBytes = 300L << 20;

    /// <summary>Two float rows per atom (raw and standardised), its coordinates and the structure's arrays.</summary>
    private const long BytesPerAtomBeyondFeatures = 160;

    /// <summary>Source, target, image and length of a bond (4 bytes each), plus list growth while the graph is built.</summary>
    private const long BytesPerEdge = 24;

    public static MemoryEstimate ForTraining(IReadOnlyList<Structure> structures, int featureCount, GraphOptions graph, long? availableBytes = null)
    {
        long atoms = structures.Sum(s => (long)s.AtomCount);
        long edges = atoms * graph.MaxNeighbors;
        long bytes = FixedBytes + atoms * (2L * featureCount * sizeof(float) + BytesPerAtomBeyondFeatures) + edges * BytesPerEdge;
        return new MemoryEstimate(atoms, edges, featureCount, bytes, availableBytes ?? GC.GetGCMemoryInfo().TotalAvailableMemoryBytes);
    }

    public bool Fits => Bytes <= AvailableBytes;

    /// <summary>Throws <see cref="InvalidOperationException"/> with the numbers when the dataset does not fit.</summary>
    public void EnsureFits()
    {
        if (!Fits)
            throw new InvalidOperationException(
                $"training this dataset needs about {Format(Bytes)} of memory ({Atoms:N0} atoms x {FeatureCount} features, {Edges:N0} bonds) " +
                $"but {Format(AvailableBytes)} is available; train on a part of it, with --featurizer cgcnn (fewer features), or on a larger machine");
    }

    public override string ToString() =>
        $"memory: about {Format(Bytes)} for {Atoms:N0} atoms and {Edges:N0} bonds ({Format(AvailableBytes)} available)";

    private static string Format(long bytes) => bytes >= 1L << 30
        ? FormattableString.Invariant($"{bytes / (double)(1L << 30):F1} GiB")
        : FormattableString.Invariant($"{bytes / (double)(1L << 20):F0} MiB");
}
