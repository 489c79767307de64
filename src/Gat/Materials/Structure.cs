using System.Globalization;
using System.Text;

namespace SaGatSr.Gat.Materials;

/// <summary>
/// A periodic crystal: lattice rows are the a, b, c vectors in Å, atoms carry fractional and Cartesian coordinates (Å).
/// Construction validates the input (finite numbers, non-degenerate cell, known elements, no atoms closer than
/// <see cref="MinimumInteratomicDistance"/>), so everything downstream can trust it.
/// </summary>
public sealed class Structure
{
    /// <summary>Atoms closer than this (Å, over periodic images) are almost surely a broken file or unresolved disorder.</summary>
    public const double MinimumInteratomicDistance = 0.5;

    /// <summary>Cells thinner than this (Å³ of volume) are treated as degenerate.</summary>
    public const double MinimumVolume = 1e-3;

    /// <summary>
    /// Longest lattice vector accepted (Å). Real cells, slabs with vacuum included, stay far below it; a longer one is a
    /// corrupt number, and would make the periodic neighbour search scan an absurd number of cell images.
    /// </summary>
    public const double MaximumLatticeVectorLength = 1000;

    private Structure(string id, double[,] lattice, int[] atomicNumbers, double[][] fractional, double[][] cartesian, double volume,
        string? sourcePath, SiteMixture?[]? mixtures, int disorderedSites)
    {
        Id = id;
        Lattice = lattice;
        AtomicNumbers = atomicNumbers;
        FractionalCoordinates = fractional;
        CartesianCoordinates = cartesian;
        Volume = volume;
        SourcePath = sourcePath;
        Mixtures = mixtures;
        DisorderedSites = disorderedSites;
        Composition = ComputeComposition(atomicNumbers, mixtures);
        Formula = FormatFormula(Composition, reduce: true);
    }

    public string Id { get; }

    /// <summary>3x3, row r is lattice vector r (a, b, c) in Å.</summary>
    public double[,] Lattice { get; }

    /// <summary>The element of each site; for a virtual-crystal site (see <see cref="Mixtures"/>) its majority species.</summary>
    public int[] AtomicNumbers { get; }

    /// <summary>
    /// Null when every site holds one element. Otherwise one entry per site: null for an ordered site, or the species that
    /// share a partially occupied site with their occupancies (a virtual-crystal site, <see cref="DisorderPolicy.Virtual"/>).
    /// </summary>
    public IReadOnlyList<SiteMixture?>? Mixtures { get; }

    /// <summary>Sites built from partial occupancies by the reader's <see cref="DisorderPolicy"/> (0 for an ordered file).</summary>
    public int DisorderedSites { get; }

    /// <summary>Amount of each element in the cell (atomic number to count): occupancies summed, as pymatgen's composition.</summary>
    public IReadOnlyDictionary<int, double> Composition { get; }

    public double[][] FractionalCoordinates { get; }

    public double[][] CartesianCoordinates { get; }

    public int AtomCount => AtomicNumbers.Length;

    /// <summary>Cell volume in Å³ (always positive, even for a left-handed lattice).</summary>
    public double Volume { get; }

    /// <summary>
    /// Reduced formula with elements ordered by electronegativity (as pymatgen prints it), e.g. "NaCl", "SiO2"; with
    /// partial occupancies the unreduced amounts, e.g. "Li0.5CoO2".
    /// </summary>
    public string Formula { get; }

    public string? SourcePath { get; }

    /// <summary>The space group the file names or lists (a CIF's, as "P 1 21/c 1 (14)"); null when the file gives none.</summary>
    public string? SpaceGroup { get; internal set; }

    /// <summary>
    /// Builds and validates a structure. <paramref name="atomLines"/> (optional, same length as the atoms) gives the
    /// source line of each atom so errors point at it; <paramref name="sourceName"/> is the file name used in messages.
    /// </summary>
    /// <param name="mixtures">null, or per site null (ordered) or the species sharing it; a mixed site's atomic number must be its majority species</param>
    /// <param name="disorderedSites">how many sites a <see cref="DisorderPolicy"/> built from partial occupancies</param>
    public static Structure Create(string id, double[,] lattice, int[] atomicNumbers, double[][] coordinates, bool coordinatesAreFractional,
        string sourceName, string? sourcePath = null, int[]? atomLines = null, int? latticeLine = null,
        IReadOnlyList<SiteMixture?>? mixtures = null, int disorderedSites = 0)
    {
        if (lattice.GetLength(0) != 3 || lattice.GetLength(1) != 3)
            throw new ArgumentException("lattice must be 3x3", nameof(lattice));
        if (coordinates.Length != atomicNumbers.Length)
            throw new ArgumentException("one coordinate triple per atom is required", nameof(coordinates));
        if (mixtures is not null && mixtures.Count != atomicNumbers.Length)
            throw new ArgumentException("one mixture entry (or null) per atom is required", nameof(mixtures));
        for (int i = 0; mixtures is not null && i < mixtures.Count; i++)
            if (mixtures[i] is { } mixture && mixture.MajoritySpecies != atomicNumbers[i])
                throw new ArgumentException($"site {i + 1}: the atomic number of a mixed site must be its majority species {mixture.MajoritySpecies}", nameof(atomicNumbers));
        foreach (double v in lattice)
            if (!double.IsFinite(v))
                throw new StructureFormatException(sourceName, latticeLine, "lattice contains a non-finite number");
        if (atomicNumbers.Length == 0)
            throw new StructureFormatException(sourceName, latticeLine, "structure has no atoms");

        for (int row = 0; row < 3; row++)
        {
            double length = Math.Sqrt(lattice[row, 0] * lattice[row, 0] + lattice[row, 1] * lattice[row, 1] + lattice[row, 2] * lattice[row, 2]);
            if (length > MaximumLatticeVectorLength)
                throw new StructureFormatException(sourceName, latticeLine,
                    $"lattice vector {"abc"[row]} is {length:G4} Å long (at most {MaximumLatticeVectorLength} Å is accepted)");
        }

        double determinant = Determinant(lattice);
        double volume = Math.Abs(determinant);
        if (!(volume > MinimumVolume))
            throw new StructureFormatException(sourceName, latticeLine, $"lattice vectors are (nearly) linearly dependent: cell volume {volume:G4} Å³");

        var inverse = Inverse(lattice, determinant);
        int n = atomicNumbers.Length;
        var fractional = new double[n][];
        var cartesian = new double[n][];
        for (int i = 0; i < n; i++)
        {
            int? line = atomLines?[i];
            if (atomicNumbers[i] is < 1 or > Elements.Count)
                throw new StructureFormatException(sourceName, line, $"atomic number {atomicNumbers[i]} is not an element (1..118)");
            var c = coordinates[i];
            if (c.Length != 3 || !double.IsFinite(c[0]) || !double.IsFinite(c[1]) || !double.IsFinite(c[2]))
                throw new StructureFormatException(sourceName, line, "atom position must be three finite numbers");
            if (coordinatesAreFractional)
            {
                fractional[i] = [c[0], c[1], c[2]];
                cartesian[i] = FractionalToCartesian(lattice, c);
            }
            else
            {
                cartesian[i] = [c[0], c[1], c[2]];
                fractional[i] = MultiplyRowVector(c, inverse);
            }
        }

        // copies, so later changes to the caller's arrays cannot invalidate the checks above
        var copiedMixtures = mixtures is null || mixtures.All(m => m is null) ? null : mixtures.ToArray();
        var structure = new Structure(id, (double[,])lattice.Clone(), (int[])atomicNumbers.Clone(), fractional, cartesian, volume, sourcePath,
            copiedMixtures, disorderedSites);
        var (first, second, distance) = NeighborSearch.ClosestPair(structure, MinimumInteratomicDistance);
        if (distance < MinimumInteratomicDistance)
        {
            int later = Math.Max(first, second), earlier = Math.Min(first, second);
            string what = earlier == later
                ? $"atom {later + 1} ({Elements.Symbol(atomicNumbers[later])}) is {distance:F3} Å from its own periodic image (cell too small)"
                : $"atoms {earlier + 1} ({Elements.Symbol(atomicNumbers[earlier])}) and {later + 1} ({Elements.Symbol(atomicNumbers[later])}) are {distance:F3} Å apart (minimum {MinimumInteratomicDistance} Å)";
            throw new StructureFormatException(sourceName, atomLines?[later], what);
        }

        return structure;
    }

    /// <summary>The na x nb x nc supercell (atoms ordered cell by cell), e.g. for benchmarks on large systems.</summary>
    public Structure Supercell(int na, int nb, int nc)
    {
        if (na < 1 || nb < 1 || nc < 1)
            throw new ArgumentOutOfRangeException(nameof(na), $"supercell multipliers must be positive, got {na}x{nb}x{nc}");
        long total = (long)na * nb * nc * AtomCount;
        if (total > int.MaxValue / 64)
            throw new ArgumentOutOfRangeException(nameof(na), $"a {na}x{nb}x{nc} supercell would hold {total} atoms");
        var lattice = new double[3, 3];
        int[] multipliers = [na, nb, nc];
        for (int r = 0; r < 3; r++)
        for (int c = 0; c < 3; c++)
            lattice[r, c] = Lattice[r, c] * multipliers[r];
        var z = new int[total];
        var fractional = new double[total][];
        var mixtures = Mixtures is null ? null : new SiteMixture?[total];
        int k = 0;
        for (int a = 0; a < na; a++)
        for (int b = 0; b < nb; b++)
        for (int c = 0; c < nc; c++)
        for (int i = 0; i < AtomCount; i++, k++)
        {
            z[k] = AtomicNumbers[i];
            var f = FractionalCoordinates[i];
            fractional[k] = [(f[0] + a) / na, (f[1] + b) / nb, (f[2] + c) / nc];
            if (mixtures is not null)
                mixtures[k] = Mixtures![i];
        }

        return Create($"{Id}_{na}x{nb}x{nc}", lattice, z, fractional, true, SourcePath ?? Id, SourcePath, mixtures: mixtures,
            disorderedSites: DisorderedSites * na * nb * nc);
    }

    /// <summary>Cell lengths (Å) and angles (degrees): alpha between b and c, beta between a and c, gamma between a and b.</summary>
    public (double A, double B, double C, double Alpha, double Beta, double Gamma) CellParameters
    {
        get
        {
            double Dot(int p, int q) => Lattice[p, 0] * Lattice[q, 0] + Lattice[p, 1] * Lattice[q, 1] + Lattice[p, 2] * Lattice[q, 2];
            double a = Math.Sqrt(Dot(0, 0)), b = Math.Sqrt(Dot(1, 1)), c = Math.Sqrt(Dot(2, 2));
            double Angle(int p, int q, double lp, double lq) => Math.Acos(Math.Clamp(Dot(p, q) / (lp * lq), -1, 1)) * 180 / Math.PI;
            return (a, b, c, Angle(1, 2, b, c), Angle(0, 2, a, c), Angle(0, 1, a, b));
        }
    }

    /// <summary>Full composition, e.g. "Na4Cl4", in the same element order as <see cref="Formula"/>.</summary>
    public string FullFormula => FormatFormula(Composition, reduce: false);

    /// <summary>
    /// The species of a site with weights summing to 1: (Z, 1) for an ordered site, occupancy / total occupancy for a
    /// virtual-crystal site (a vacancy's share is not a species, so the site's features are those of the atoms present).
    /// </summary>
    public IEnumerable<(int AtomicNumber, double Weight)> SpeciesWeights(int site)
    {
        if (Mixtures?[site] is not { } mixture)
            return [(AtomicNumbers[site], 1.0)];
        return mixture.Species.Select(s => (s.AtomicNumber, s.Occupancy / mixture.TotalOccupancy));
    }

    public static double[] FractionalToCartesian(double[,] lattice, ReadOnlySpan<double> f) =>
    [
        f[0] * lattice[0, 0] + f[1] * lattice[1, 0] + f[2] * lattice[2, 0],
        f[0] * lattice[0, 1] + f[1] * lattice[1, 1] + f[2] * lattice[2, 1],
        f[0] * lattice[0, 2] + f[1] * lattice[1, 2] + f[2] * lattice[2, 2],
    ];

    /// <summary>Lattice rows from cell lengths (Å) and angles (degrees): a along x, b in the xy plane (CIF convention).</summary>
    public static double[,] LatticeFromParameters(double a, double b, double c, double alphaDeg, double betaDeg, double gammaDeg)
    {
        double alpha = alphaDeg * Math.PI / 180, beta = betaDeg * Math.PI / 180, gamma = gammaDeg * Math.PI / 180;
        double cosA = Math.Cos(alpha), cosB = Math.Cos(beta), cosG = Math.Cos(gamma), sinG = Math.Sin(gamma);
        // exact zeros for right angles keep orthogonal cells exactly orthogonal
        if (Math.Abs(cosA) < 1e-12) cosA = 0;
        if (Math.Abs(cosB) < 1e-12) cosB = 0;
        if (Math.Abs(cosG) < 1e-12) { cosG = 0; sinG = 1; }
        double cx = c * cosB;
        double cy = c * (cosA - cosB * cosG) / sinG;
        double czSquared = c * c - cx * cx - cy * cy;
        double cz = czSquared > 0 ? Math.Sqrt(czSquared) : 0;
        return new double[,] { { a, 0, 0 }, { b * cosG, b * sinG, 0 }, { cx, cy, cz } };
    }

    internal static double Determinant(double[,] m) =>
        m[0, 0] * (m[1, 1] * m[2, 2] - m[1, 2] * m[2, 1])
        - m[0, 1] * (m[1, 0] * m[2, 2] - m[1, 2] * m[2, 0])
        + m[0, 2] * (m[1, 0] * m[2, 1] - m[1, 1] * m[2, 0]);

    internal static double[,] Inverse(double[,] m, double determinant)
    {
        var r = new double[3, 3];
        for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
        {
            int i1 = (j + 1) % 3, i2 = (j + 2) % 3, j1 = (i + 1) % 3, j2 = (i + 2) % 3;
            r[i, j] = (m[i1, j1] * m[i2, j2] - m[i1, j2] * m[i2, j1]) / determinant;
        }

        return r;
    }

    private static double[] MultiplyRowVector(ReadOnlySpan<double> v, double[,] m) =>
    [
        v[0] * m[0, 0] + v[1] * m[1, 0] + v[2] * m[2, 0],
        v[0] * m[0, 1] + v[1] * m[1, 1] + v[2] * m[2, 1],
        v[0] * m[0, 2] + v[1] * m[1, 2] + v[2] * m[2, 2],
    ];

    private static Dictionary<int, double> ComputeComposition(int[] atomicNumbers, SiteMixture?[]? mixtures)
    {
        var amounts = new Dictionary<int, double>();
        for (int i = 0; i < atomicNumbers.Length; i++)
            foreach (var (z, occupancy) in mixtures?[i]?.Species ?? [new SiteSpecies(atomicNumbers[i], 1)])
                amounts[z] = amounts.GetValueOrDefault(z) + occupancy;
        return amounts;
    }

    private static string FormatFormula(IReadOnlyDictionary<int, double> composition, bool reduce)
    {
        bool whole = composition.Values.All(v => Math.Abs(v - Math.Round(v)) < 1e-6);
        int divisor = reduce && whole ? composition.Values.Select(v => (int)Math.Round(v)).Aggregate(0, Gcd) : 1;
        var builder = new StringBuilder();
        foreach (var (z, amount) in composition.OrderBy(p => ElementTable.Default.RawElectronegativity(p.Key) ?? double.MaxValue).ThenBy(p => p.Key))
        {
            builder.Append(Elements.Symbol(z));
            double shown = whole ? Math.Round(amount) / divisor : amount;
            if (Math.Abs(shown - 1) > 1e-6)
                builder.Append(shown.ToString("0.####", CultureInfo.InvariantCulture));
        }

        return builder.ToString();
    }

    private static int Gcd(int a, int b) => b == 0 ? a : Gcd(b, a % b);
}

/// <summary>One species on a site and its occupancy (0..1].</summary>
public readonly record struct SiteSpecies(int AtomicNumber, double Occupancy);

/// <summary>The species that share one partially occupied site, with their occupancies (total at most 1; the rest is vacancy).</summary>
public sealed class SiteMixture
{
    /// <param name="species">listed in file order; entries of one element are added up</param>
    public SiteMixture(IEnumerable<SiteSpecies> species)
    {
        Species = species.GroupBy(s => s.AtomicNumber).Select(g => new SiteSpecies(g.Key, g.Sum(s => s.Occupancy))).ToArray();
        if (Species.Count == 0)
            throw new ArgumentException("a site mixture needs at least one species", nameof(species));
        foreach (var s in Species)
        {
            if (s.AtomicNumber is < 1 or > Elements.Count)
                throw new ArgumentException($"atomic number {s.AtomicNumber} is not an element (1..118)", nameof(species));
            if (!(s.Occupancy > 0 && s.Occupancy <= 1))
                throw new ArgumentException($"occupancy {s.Occupancy} of {Elements.Symbol(s.AtomicNumber)} is not in (0, 1]", nameof(species));
        }

        TotalOccupancy = Species.Sum(s => s.Occupancy);
        // the first listed wins a tie, so the choice follows the file
        MajoritySpecies = Species.Aggregate((best, s) => s.Occupancy > best.Occupancy ? s : best).AtomicNumber;
    }

    public IReadOnlyList<SiteSpecies> Species { get; }

    public double TotalOccupancy { get; }

    /// <summary>The species with the largest occupancy (the first of equals).</summary>
    public int MajoritySpecies { get; }

    public override string ToString() =>
        string.Join(" ", Species.Select(s => $"{Elements.Symbol(s.AtomicNumber)}:{s.Occupancy.ToString("0.###", CultureInfo.InvariantCulture)}"));
}
