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

    private Structure(string id, double[,] lattice, int[] atomicNumbers, double[][] fractional, double[][] cartesian, double volume, string? sourcePath)
    {
        Id = id;
        Lattice = lattice;
        AtomicNumbers = atomicNumbers;
        FractionalCoordinates = fractional;
        CartesianCoordinates = cartesian;
        Volume = volume;
        SourcePath = sourcePath;
        Formula = FormatFormula(atomicNumbers, reduce: true);
    }

    public string Id { get; }

    /// <summary>3x3, row r is lattice vector r (a, b, c) in Å.</summary>
    public double[,] Lattice { get; }

    public int[] AtomicNumbers { get; }

    public double[][] FractionalCoordinates { get; }

    public double[][] CartesianCoordinates { get; }

    public int AtomCount => AtomicNumbers.Length;

    /// <summary>Cell volume in Å³ (always positive, even for a left-handed lattice).</summary>
    public double Volume { get; }

    /// <summary>Reduced formula with elements ordered by electronegativity (as pymatgen prints it), e.g. "NaCl", "SiO2".</summary>
    public string Formula { get; }

    public string? SourcePath { get; }

    /// <summary>
    /// Builds and validates a structure. <paramref name="atomLines"/> (optional, same length as the atoms) gives the
    /// source line of each atom so errors point at it; <paramref name="sourceName"/> is the file name used in messages.
    /// </summary>
    public static Structure Create(string id, double[,] lattice, int[] atomicNumbers, double[][] coordinates, bool coordinatesAreFractional,
        string sourceName, string? sourcePath = null, int[]? atomLines = null, int? latticeLine = null)
    {
        if (lattice.GetLength(0) != 3 || lattice.GetLength(1) != 3)
            throw new ArgumentException("lattice must be 3x3", nameof(lattice));
        if (coordinates.Length != atomicNumbers.Length)
            throw new ArgumentException("one coordinate triple per atom is required", nameof(coordinates));
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
        var structure = new Structure(id, (double[,])lattice.Clone(), (int[])atomicNumbers.Clone(), fractional, cartesian, volume, sourcePath);
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
        int k = 0;
        for (int a = 0; a < na; a++)
        for (int b = 0; b < nb; b++)
        for (int c = 0; c < nc; c++)
        for (int i = 0; i < AtomCount; i++, k++)
        {
            z[k] = AtomicNumbers[i];
            var f = FractionalCoordinates[i];
            fractional[k] = [(f[0] + a) / na, (f[1] + b) / nb, (f[2] + c) / nc];
        }

        return Create($"{Id}_{na}x{nb}x{nc}", lattice, z, fractional, true, SourcePath ?? Id, SourcePath);
    }

    /// <summary>Full composition, e.g. "Na4Cl4", in the same element order as <see cref="Formula"/>.</summary>
    public string FullFormula => FormatFormula(AtomicNumbers, reduce: false);

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

    private static string FormatFormula(int[] atomicNumbers, bool reduce)
    {
        var counts = atomicNumbers.GroupBy(z => z).ToDictionary(g => g.Key, g => g.Count());
        int divisor = reduce ? counts.Values.Aggregate(0, Gcd) : 1;
        var builder = new StringBuilder();
        foreach (var (z, count) in counts.OrderBy(p => ElementTable.Default.RawElectronegativity(p.Key) ?? double.MaxValue).ThenBy(p => p.Key))
        {
            builder.Append(Elements.Symbol(z));
            if (count / divisor != 1)
                builder.Append(count / divisor);
        }

        return builder.ToString();
    }

    private static int Gcd(int a, int b) => b == 0 ? a : Gcd(b, a % b);
}
