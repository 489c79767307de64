namespace SaGatSr.Gat.Materials;

/// <summary>How a crystal becomes a graph: neighbours within <see cref="Cutoff"/>, at most <see cref="MaxNeighbors"/> nearest.</summary>
public sealed class GraphOptions
{
    /// <summary>Neighbour cutoff radius in Å.</summary>
    public double Cutoff { get; set; } = 8.0;

    /// <summary>At most this many nearest neighbours (over periodic images) per atom.</summary>
    public int MaxNeighbors { get; set; } = 20;

    /// <summary>Number of Gaussian basis functions spread evenly over [0, Cutoff].</summary>
    public int GaussianCount { get; set; } = 40;

    /// <summary>Gaussian width in Å; defaults to the spacing of the centres (Cutoff / (GaussianCount - 1)), as CGCNN does.</summary>
    public double? GaussianWidth { get; set; }

    /// <summary>
    /// An atom with no neighbour inside the cutoff (e.g. a molecule in a big vacuum cell) keeps its single nearest
    /// neighbour beyond the cutoff, so message passing still reaches it. Turn off to leave such atoms without edges.
    /// </summary>
    public bool KeepNearestBeyondCutoff { get; set; } = true;

    /// <summary>Upper bound on <see cref="MaxNeighbors"/>; the search reserves K slots per atom.</summary>
    public const int MaxNeighborsLimit = 1024;

    public double EffectiveGaussianWidth => GaussianWidth ?? Cutoff / Math.Max(1, GaussianCount - 1);

    internal void Validate()
    {
        if (!(Cutoff > 0) || !double.IsFinite(Cutoff))
            throw new ArgumentException($"GraphOptions.Cutoff must be a positive number of Å, got {Cutoff}");
        if (MaxNeighbors is < 1 or > MaxNeighborsLimit)
            throw new ArgumentException($"GraphOptions.MaxNeighbors must be 1..{MaxNeighborsLimit}, got {MaxNeighbors}");
        if (GaussianCount < 1)
            throw new ArgumentException($"GraphOptions.GaussianCount must be at least 1, got {GaussianCount}");
        if (!(EffectiveGaussianWidth > 0))
            throw new ArgumentException($"GraphOptions.GaussianWidth must be positive, got {GaussianWidth}");
    }
}

/// <summary>
/// Directed neighbour graph of one crystal. Edge e goes from neighbour <see cref="EdgeSource"/>[e] to atom
/// <see cref="EdgeTarget"/>[e]; edges are sorted by target (then by distance), and <see cref="TargetOffsets"/> is the
/// CSR index: the incoming edges of atom i are TargetOffsets[i]..TargetOffsets[i+1]. A pair of atoms can be linked by
/// several edges (different periodic images), and an atom can neighbour its own image in small cells.
/// </summary>
public sealed class CrystalGraph
{
    private CrystalGraph(int atomCount, int[] source, int[] target, int[] offsets, float[] distance, int[] images)
    {
        AtomCount = atomCount;
        EdgeSource = source;
        EdgeTarget = target;
        TargetOffsets = offsets;
        EdgeDistance = distance;
        EdgeImage = images;
    }

    public int AtomCount { get; }

    public int EdgeCount => EdgeSource.Length;

    public int[] EdgeSource { get; }

    public int[] EdgeTarget { get; }

    public int[] TargetOffsets { get; }

    /// <summary>Distance in Å between the target atom and the source atom's periodic image.</summary>
    public float[] EdgeDistance { get; }

    /// <summary>
    /// [EdgeCount, 3] row-major: lattice translation (integer multiples of a, b, c) of the source image, so the source
    /// position is Cartesian[source] + image · lattice, with the coordinates as given in the structure.
    /// </summary>
    public int[] EdgeImage { get; }

    public static CrystalGraph Build(Structure structure, GraphOptions? options = null)
    {
        options ??= new GraphOptions();
        options.Validate();
        var found = NeighborSearch.Find(structure, options.Cutoff, options.MaxNeighbors, options.KeepNearestBeyondCutoff);
        var target = new int[found.Sources.Length];
        for (int i = 0; i < structure.AtomCount; i++)
            Array.Fill(target, i, found.Offsets[i], found.Offsets[i + 1] - found.Offsets[i]);
        return new CrystalGraph(structure.AtomCount, found.Sources, target, found.Offsets, found.Distances, found.Images);
    }
}

/// <summary>Gaussian radial basis of edge distances: exp(-(d - mu_k)^2 / w^2) with centres mu_k evenly spaced on [0, Cutoff].</summary>
public static class GaussianExpansion
{
    /// <summary>Row-major [distances.Length, GaussianCount].</summary>
    public static float[] Expand(ReadOnlySpan<float> distances, GraphOptions options)
    {
        options.Validate();
        int count = options.GaussianCount;
        double width = options.EffectiveGaussianWidth;
        double spacing = count > 1 ? options.Cutoff / (count - 1) : 0;
        double inverseWidthSquared = 1.0 / (width * width);
        var result = new float[distances.Length * count];
        // An exp per basis function was most of a training step's host time. Neighbouring Gaussians differ by a factor
        // that itself changes by the constant q = exp(-2 s^2 / w^2), so each edge needs three exps, taken at its nearest
        // centre (where nothing underflows) and multiplied outward in float64.
        double q = Math.Exp(-2 * spacing * spacing * inverseWidthSquared);
        for (int e = 0; e < distances.Length; e++)
        {
            double d = distances[e];
            int nearest = spacing > 0 ? (int)Math.Clamp(Math.Round(d / spacing), 0, count - 1) : 0;
            double delta = d - nearest * spacing;
            double peak = Math.Exp(-delta * delta * inverseWidthSquared);
            var row = result.AsSpan(e * count, count);
            row[nearest] = (float)peak;
            double value = peak, factor = Math.Exp((2 * delta * spacing - spacing * spacing) * inverseWidthSquared);
            for (int k = nearest + 1; k < count; k++, factor *= q) row[k] = (float)(value *= factor);
            value = peak;
            factor = Math.Exp(-(2 * delta * spacing + spacing * spacing) * inverseWidthSquared);
            for (int k = nearest - 1; k >= 0; k--, factor *= q) row[k] = (float)(value *= factor);
        }

        return result;
    }
}
