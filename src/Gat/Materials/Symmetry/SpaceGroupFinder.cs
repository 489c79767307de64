namespace SaGatSr.Gat.Materials.Symmetry;

/// <summary>
/// The space group of a structure found from its atoms, in the manner of spglib: the primitive cell (pure
/// translations), its Delaunay-reduced basis, the lattice's point group, the operations that map the atoms onto
/// themselves, then a conventional basis built from the rotation axes and a match against the settings of
/// <see cref="SpaceGroupTable"/> up to an origin shift (solved exactly as linear congruences).
/// </summary>
public static class SpaceGroupFinder
{
    /// <summary>Å; atoms this close after an operation coincide (pymatgen's SpacegroupAnalyzer default symprec).</summary>
    public const double DefaultTolerance = 0.01;

    /// <summary>The standard setting of the structure's space group, or null when none matches (e.g. a tolerance too tight).</summary>
    public static SpaceGroupSetting? Find(Structure structure, double tolerance = DefaultTolerance)
    {
        var species = SpeciesKeys(structure);
        var fractional = structure.FractionalCoordinates.Select(f => f.Select(Wrap).ToArray()).ToArray();
        // operations accepted one by one within the tolerance need not form a group when atoms sit near, but not on,
        // a symmetric position; then, as spglib does, tighten the tolerance until they do
        for (int attempt = 0; attempt < 20; attempt++, tolerance *= 0.9)
        {
            var primitive = PrimitiveCell(structure.Lattice, fractional, species, tolerance);
            if (primitive is null)
                continue;
            var (basis, positions, kinds) = primitive.Value;
            var operations = SpaceGroupOperations(basis, positions, kinds, tolerance);
            if (!IsGroup(operations))
                continue;
            var match = Identify(basis, operations);
            return match is null ? null : SpaceGroupTable.OfNumber(match.Number)[0];
        }

        return null;
    }

    private static bool IsGroup(List<Operation> operations)
    {
        foreach (var a in operations)
        foreach (var b in operations)
        {
            var w = Multiply(a.W, b.W);
            var t = Apply(a.W, b.T);
            for (int c = 0; c < 3; c++)
                t[c] += a.T[c];
            if (!operations.Any(o => Same(o.W, w) && SameModuloOne(o.T, t, TranslationTolerance)))
                return false;
        }

        return operations.Count > 0;
    }

    private readonly record struct Operation(int[] W, double[] T);

    private static double Wrap(double v)
    {
        double w = v - Math.Floor(v);
        return w >= 1 ? 0 : w;
    }

    private static int[] SpeciesKeys(Structure structure)
    {
        var keys = new Dictionary<string, int>();
        return Enumerable.Range(0, structure.AtomCount).Select(i =>
        {
            string key = structure.Mixtures?[i]?.ToString() ?? structure.AtomicNumbers[i].ToString(System.Globalization.CultureInfo.InvariantCulture);
            return keys.TryGetValue(key, out int k) ? k : keys[key] = keys.Count;
        }).ToArray();
    }

    // ---- small dense linear algebra on 3x3 row-major arrays ----

    private static double[] Cartesian(double[,] rows, double[] f) =>
    [
        f[0] * rows[0, 0] + f[1] * rows[1, 0] + f[2] * rows[2, 0],
        f[0] * rows[0, 1] + f[1] * rows[1, 1] + f[2] * rows[2, 1],
        f[0] * rows[0, 2] + f[1] * rows[1, 2] + f[2] * rows[2, 2],
    ];

    private static double Norm(double[] v) => Math.Sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);

    private static double Dot(double[] a, double[] b) => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];

    private static double Det(double[] a, double[] b, double[] c) =>
        a[0] * (b[1] * c[2] - b[2] * c[1]) - a[1] * (b[0] * c[2] - b[2] * c[0]) + a[2] * (b[0] * c[1] - b[1] * c[0]);

    private static int Det(int[] m) =>
        m[0] * (m[4] * m[8] - m[5] * m[7]) - m[1] * (m[3] * m[8] - m[5] * m[6]) + m[2] * (m[3] * m[7] - m[4] * m[6]);

    private static int[] Multiply(int[] a, int[] b)
    {
        var r = new int[9];
        for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            for (int k = 0; k < 3; k++)
                r[3 * i + j] += a[3 * i + k] * b[3 * k + j];
        return r;
    }

    private static int[] Apply(int[] m, int[] v) =>
        [m[0] * v[0] + m[1] * v[1] + m[2] * v[2], m[3] * v[0] + m[4] * v[1] + m[5] * v[2], m[6] * v[0] + m[7] * v[1] + m[8] * v[2]];

    private static double[] Apply(int[] m, double[] v) =>
        [m[0] * v[0] + m[1] * v[1] + m[2] * v[2], m[3] * v[0] + m[4] * v[1] + m[5] * v[2], m[6] * v[0] + m[7] * v[1] + m[8] * v[2]];

    /// <summary>Adjugate: m · adj(m) = det(m) I.</summary>
    private static int[] Adjugate(int[] m) =>
    [
        m[4] * m[8] - m[5] * m[7], m[2] * m[7] - m[1] * m[8], m[1] * m[5] - m[2] * m[4],
        m[5] * m[6] - m[3] * m[8], m[0] * m[8] - m[2] * m[6], m[2] * m[3] - m[0] * m[5],
        m[3] * m[7] - m[4] * m[6], m[1] * m[6] - m[0] * m[7], m[0] * m[4] - m[1] * m[3],
    ];

    private static double[,] InverseRows(double[,] m)
    {
        double det = Structure.Determinant(m);
        return Structure.Inverse(m, det);
    }

    /// <summary>Cartesian distance between fractional points over periodic images (exact for small separations).</summary>
    private static double Distance(double[,] basis, double[] a, double[] b)
    {
        double[] d = [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
        for (int c = 0; c < 3; c++)
            d[c] -= Math.Round(d[c]);
        return Norm(Cartesian(basis, d));
    }

    /// <summary>Whether x -> W x + t maps the atoms one to one onto atoms of the same kind.</summary>
    private static bool MapsOntoItself(double[,] basis, double[][] positions, int[] kinds, int[] w, double[] t, double tolerance)
    {
        var taken = new bool[positions.Length];
        for (int i = 0; i < positions.Length; i++)
        {
            var image = Apply(w, positions[i]);
            for (int c = 0; c < 3; c++)
                image[c] += t[c];
            int found = -1;
            for (int k = 0; k < positions.Length && found < 0; k++)
                if (!taken[k] && kinds[k] == kinds[i] && Distance(basis, image, positions[k]) < tolerance)
                    found = k;
            if (found < 0)
                return false;
            taken[found] = true;
        }

        return true;
    }

    private static readonly int[] IdentityMatrix = [1, 0, 0, 0, 1, 0, 0, 0, 1];

    /// <summary>Translations from the atoms of the rarest kind that could map the structure onto itself.</summary>
    private static IEnumerable<double[]> CandidateTranslations(double[][] positions, int[] kinds, int[] w)
    {
        int rarest = kinds.GroupBy(k => k).OrderBy(g => g.Count()).ThenBy(g => g.Key).First().Key;
        int reference = Array.IndexOf(kinds, rarest);
        var image = Apply(w, positions[reference]);
        for (int j = 0; j < positions.Length; j++)
            if (kinds[j] == rarest)
                yield return [Wrap(positions[j][0] - image[0]), Wrap(positions[j][1] - image[1]), Wrap(positions[j][2] - image[2])];
    }

    // ---- primitive cell ----

    private static (double[,] Basis, double[][] Positions, int[] Kinds)? PrimitiveCell(double[,] lattice, double[][] fractional, int[] kinds, double tolerance)
    {
        var translations = CandidateTranslations(fractional, kinds, IdentityMatrix)
            .Where(t => MapsOntoItself(lattice, fractional, kinds, IdentityMatrix, t, tolerance)).ToList();
        int n = translations.Count; // includes the zero translation
        if (n == 0 || fractional.Length % n != 0)
            return null;

        // the primitive basis: three shortest lattice vectors (cell vectors and pure translations) spanning 1/n of the cell
        var vectors = new List<double[]>();
        foreach (var t in translations)
            for (int i = -1; i <= 1; i++)
            for (int j = -1; j <= 1; j++)
            for (int k = -1; k <= 1; k++)
            {
                double[] v = [t[0] + i, t[1] + j, t[2] + k];
                if (Norm(v) > 1e-9)
                    vectors.Add(v);
            }

        var sorted = vectors.Select(v => (F: v, C: Cartesian(lattice, v))).OrderBy(v => Norm(v.C)).ToList();
        double[,]? basisFractional = null;
        for (int a = 0; a < sorted.Count && basisFractional is null; a++)
        for (int b = a + 1; b < sorted.Count && basisFractional is null; b++)
        for (int c = b + 1; c < sorted.Count && basisFractional is null; c++)
            if (Math.Abs(Math.Abs(Det(sorted[a].F, sorted[b].F, sorted[c].F)) - 1.0 / n) < 1e-6)
                basisFractional = new double[,]
                {
                    { sorted[a].F[0], sorted[a].F[1], sorted[a].F[2] },
                    { sorted[b].F[0], sorted[b].F[1], sorted[b].F[2] },
                    { sorted[c].F[0], sorted[c].F[1], sorted[c].F[2] },
                };
        if (basisFractional is null)
            return null;

        var basis = DelaunayReduce(MultiplyRows(basisFractional, lattice));
        // atoms in the primitive basis, one per lattice-translation class
        var toPrimitive = MultiplyRows(lattice, InverseRows(basis));
        var positions = new List<double[]>();
        var primitiveKinds = new List<int>();
        for (int i = 0; i < fractional.Length; i++)
        {
            var p = Cartesian(toPrimitive, fractional[i]).Select(Wrap).ToArray();
            if (positions.Any(q => Distance(basis, p, q) < tolerance))
                continue;
            positions.Add(p);
            primitiveKinds.Add(kinds[i]);
        }

        return (basis, positions.ToArray(), primitiveKinds.ToArray());
    }

    private static double[,] MultiplyRows(double[,] a, double[,] b)
    {
        var r = new double[3, 3];
        for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            for (int k = 0; k < 3; k++)
                r[i, j] += a[i, k] * b[k, j];
        return r;
    }

    /// <summary>
    /// Delaunay (Selling) reduction: with b4 = -(b1 + b2 + b3), make every pair's scalar product non-positive; the
    /// three shortest of b1..b4 and the pair sums that span the cell are then a basis whose lattice symmetries have
    /// entries -1, 0, 1.
    /// </summary>
    private static double[,] DelaunayReduce(double[,] rows)
    {
        var b = new double[4][];
        for (int i = 0; i < 3; i++)
            b[i] = [rows[i, 0], rows[i, 1], rows[i, 2]];
        b[3] = [-(b[0][0] + b[1][0] + b[2][0]), -(b[0][1] + b[1][1] + b[2][1]), -(b[0][2] + b[1][2] + b[2][2])];
        double scale = b.Max(v => Dot(v, v));
        for (int iteration = 0; iteration < 1000; iteration++)
        {
            bool changed = false;
            for (int i = 0; i < 4 && !changed; i++)
            for (int j = i + 1; j < 4 && !changed; j++)
            {
                if (Dot(b[i], b[j]) <= 1e-10 * scale)
                    continue;
                for (int k = 0; k < 4; k++)
                    if (k != i && k != j)
                        for (int c = 0; c < 3; c++)
                            b[k][c] += b[i][c];
                for (int c = 0; c < 3; c++)
                    b[i][c] = -b[i][c];
                changed = true;
            }

            if (!changed)
                break;
        }

        double volume = Math.Abs(Structure.Determinant(rows));
        var candidates = new List<double[]> { b[0], b[1], b[2], b[3] };
        for (int i = 0; i < 3; i++)
            candidates.Add([b[i][0] + b[(i + 1) % 3][0], b[i][1] + b[(i + 1) % 3][1], b[i][2] + b[(i + 1) % 3][2]]);
        candidates = candidates.OrderBy(Norm).ToList();
        for (int x = 0; x < candidates.Count; x++)
        for (int y = x + 1; y < candidates.Count; y++)
        for (int z = y + 1; z < candidates.Count; z++)
        {
            double det = Det(candidates[x], candidates[y], candidates[z]);
            if (Math.Abs(Math.Abs(det) - volume) < 1e-6 * volume)
            {
                double sign = Math.Sign(det);
                return new double[,]
                {
                    { sign * candidates[x][0], sign * candidates[x][1], sign * candidates[x][2] },
                    { sign * candidates[y][0], sign * candidates[y][1], sign * candidates[y][2] },
                    { sign * candidates[z][0], sign * candidates[z][1], sign * candidates[z][2] },
                };
            }
        }

        return rows;
    }

    // ---- operations ----

    private static List<Operation> SpaceGroupOperations(double[,] basis, double[][] positions, int[] kinds, double tolerance)
    {
        double[][] vectors = [[basis[0, 0], basis[0, 1], basis[0, 2]], [basis[1, 0], basis[1, 1], basis[1, 2]], [basis[2, 0], basis[2, 1], basis[2, 2]]];
        // images of each basis vector: lattice vectors with coefficients -1..1 of the same length
        var images = new List<int[]>[3];
        var combinations = new List<(int[] N, double[] C)>();
        for (int i = -1; i <= 1; i++)
        for (int j = -1; j <= 1; j++)
        for (int k = -1; k <= 1; k++)
            if (i != 0 || j != 0 || k != 0)
                combinations.Add(([i, j, k], Cartesian(basis, [i, j, k])));
        for (int axis = 0; axis < 3; axis++)
        {
            double length = Norm(vectors[axis]);
            images[axis] = combinations.Where(v => Math.Abs(Norm(v.C) - length) < tolerance).Select(v => v.N).ToList();
        }

        var operations = new List<Operation>();
        foreach (var a in images[0])
        foreach (var b in images[1])
        foreach (var c in images[2])
        {
            int[] w = [a[0], b[0], c[0], a[1], b[1], c[1], a[2], b[2], c[2]]; // columns are the images
            if (Math.Abs(Det(w)) != 1)
                continue;
            var ca = Cartesian(basis, [a[0], a[1], a[2]]);
            var cb = Cartesian(basis, [b[0], b[1], b[2]]);
            var cc = Cartesian(basis, [c[0], c[1], c[2]]);
            if (Math.Abs(Dot(ca, cb) - Dot(vectors[0], vectors[1])) > tolerance * (Norm(ca) + Norm(cb))
                || Math.Abs(Dot(ca, cc) - Dot(vectors[0], vectors[2])) > tolerance * (Norm(ca) + Norm(cc))
                || Math.Abs(Dot(cb, cc) - Dot(vectors[1], vectors[2])) > tolerance * (Norm(cb) + Norm(cc)))
                continue;
            foreach (var t in CandidateTranslations(positions, kinds, w))
            {
                if (!MapsOntoItself(basis, positions, kinds, w, t, tolerance))
                    continue;
                operations.Add(new Operation(w, t));
                break;
            }
        }

        return operations;
    }

    // ---- identification ----

    /// <summary>Order of the proper part of a rotation (det W · W), from its trace.</summary>
    private static int Order(int[] w)
    {
        int det = Det(w), trace = det * (w[0] + w[4] + w[8]);
        return trace switch { 3 => 1, -1 => 2, 0 => 3, 1 => 4, 2 => 6, _ => 0 };
    }

    private static int[] Proper(int[] w) => Det(w) > 0 ? w : w.Select(v => -v).ToArray();

    private static bool Same(int[] a, int[] b) => a.AsSpan().SequenceEqual(b);

    /// <summary>Lattice vectors with coefficients up to ±4: enough to reach a conventional axis from a Delaunay-reduced basis.</summary>
    private static IEnumerable<int[]> SmallVectors()
    {
        for (int i = -4; i <= 4; i++)
        for (int j = -4; j <= 4; j++)
        for (int k = -4; k <= 4; k++)
            if (i != 0 || j != 0 || k != 0)
                yield return [i, j, k];
    }

    /// <summary>The shortest such vector that satisfies <paramref name="keep"/> (ties broken by coefficients), or null.</summary>
    private static int[]? Shortest(double[,] basis, Func<int[], bool> keep) =>
        SmallVectors().Where(keep).OrderBy(v => Norm(Cartesian(basis, [v[0], v[1], v[2]]))).ThenBy(v => string.Join(",", v)).FirstOrDefault();

    /// <summary>The shortest lattice vector a rotation keeps: the lattice period along its axis.</summary>
    private static int[]? Axis(double[,] basis, int[] rotation) => Shortest(basis, v => Same(Apply(rotation, v), v));

    /// <summary>Candidate conventional bases: columns are the conventional cell vectors in the primitive basis.</summary>
    private static List<int[]> ConventionalBases(double[,] basis, List<Operation> operations)
    {
        // distinct proper rotations: a mirror's proper part is the 2-fold along its normal, -1's is the identity
        var proper = operations.Select(o => Proper(o.W)).DistinctBy(RotationKey).ToList();
        int[]? Find(int order) => proper.FirstOrDefault(r => Order(r) == order);
        var bases = new List<int[]>();
        void Add(int[] a, int[] b, int[] c)
        {
            int[] m = [a[0], b[0], c[0], a[1], b[1], c[1], a[2], b[2], c[2]];
            if (Det(m) < 0)
                m = [a[0], b[0], -c[0], a[1], b[1], -c[1], a[2], b[2], -c[2]];
            if (Det(m) != 0)
                bases.Add(m);
        }

        int threeFolds = proper.Count(r => Order(r) == 3);
        if (threeFolds >= 8)
        {
            // cubic: the axes of the 4-folds, or of the three 2-folds along the cube edges
            var edges = proper.Where(r => Order(r) == 4).ToList();
            if (edges.Count == 0)
                edges = proper.Where(r => Order(r) == 2).ToList();
            // the edges in the cyclic order a 3-fold gives them, so the cell keeps the setting (Pa-3 is not Pb-3)
            if (Axis(basis, edges[0]) is { } a)
            {
                var three = proper.First(r => Order(r) == 3);
                var b = Apply(three, a);
                var c = Apply(three, b);
                Add(a, b, c);
                Add(a, c, b);
            }
        }
        else if ((Find(6) ?? Find(3)) is { } main)
        {
            var c = Axis(basis, main);
            var three = Order(main) == 6 ? Multiply(main, main) : main;
            var a = Shortest(basis, v =>
            {
                var r = Apply(three, v);
                var rr = Apply(three, r);
                return v[0] + r[0] + rr[0] == 0 && v[1] + r[1] + rr[1] == 0 && v[2] + r[2] + rr[2] == 0;
            });
            if (a is not null && c is not null)
            {
                // b is a rotated by 120° about c; both senses, and both of a and -a (obverse/reverse R centring)
                foreach (var turn in new[] { three, Multiply(three, three) })
                foreach (int sign in new[] { 1, -1 })
                {
                    var sa = a.Select(x => sign * x).ToArray();
                    Add(sa, Apply(turn, sa), c);
                }
            }
        }
        else if (Find(4) is { } four)
        {
            var c = Axis(basis, four);
            var two = Multiply(four, four);
            var a = Shortest(basis, v => Same(Apply(two, v), v.Select(x => -x).ToArray()));
            if (a is not null && c is not null)
                Add(a, Apply(four, a), c);
        }
        else
        {
            var twos = proper.Where(r => Order(r) == 2).ToList();
            if (twos.Count >= 3)
            {
                var axes = twos.Select(r => Axis(basis, r)).OfType<int[]>().ToList();
                if (axes.Count == 3)
                    foreach (var (x, y, z) in new[] { (0, 1, 2), (1, 2, 0), (2, 0, 1), (1, 0, 2), (0, 2, 1), (2, 1, 0) })
                        Add(axes[x], axes[y], axes[z]);
            }
            else if (twos.Count == 1)
            {
                // monoclinic: b along the 2-fold; a, c a reduced basis of the lattice plane perpendicular to it
                var b = Axis(basis, twos[0]);
                var plane = SmallVectors().Where(v => Same(Apply(twos[0], v), v.Select(x => -x).ToArray()))
                    .OrderBy(v => Norm(Cartesian(basis, [v[0], v[1], v[2]]))).ToList();
                if (b is not null && plane.Count > 0)
                {
                    var u1 = plane[0];
                    var u2 = plane.FirstOrDefault(v => Cross(u1, v).Any(x => x != 0));
                    if (u2 is not null)
                    {
                        int[] sum = [u1[0] + u2[0], u1[1] + u2[1], u1[2] + u2[2]];
                        int[] difference = [u1[0] - u2[0], u1[1] - u2[1], u1[2] - u2[2]];
                        foreach (var (a, c) in new[] { (u1, u2), (u2, u1), (u1, sum), (sum, u2), (u1, difference), (difference, u2) })
                            Add(a, b, c);
                    }
                }
            }
            else
            {
                bases.Add([1, 0, 0, 0, 1, 0, 0, 0, 1]);
            }
        }

        return bases;
    }

    private static int[] Cross(int[] a, int[] b) =>
        [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];

    private sealed record TableEntry(SpaceGroupSetting Setting, HashSet<long> Rotations, List<double[]> Centring);

    private static readonly Lazy<List<TableEntry>> Entries = new(() => SpaceGroupTable.Settings.Select(setting => new TableEntry(setting,
        setting.Operations.Select(o => RotationKey(Rotation(o))).ToHashSet(),
        setting.Operations.Where(o => RotationKey(Rotation(o)) == RotationKey(IdentityMatrix)).Select(o => new[] { o.Translation(0), o.Translation(1), o.Translation(2) }).ToList())).ToList());

    private static int[] Rotation(SymmetryOperation op) =>
        [op.Rotation(0, 0), op.Rotation(0, 1), op.Rotation(0, 2), op.Rotation(1, 0), op.Rotation(1, 1), op.Rotation(1, 2), op.Rotation(2, 0), op.Rotation(2, 1), op.Rotation(2, 2)];

    private static long RotationKey(int[] m) => m.Aggregate(0L, (key, v) => key * 7 + v + 3);

    private static bool SameModuloOne(double[] a, double[] b, double tolerance) =>
        Enumerable.Range(0, 3).All(c => Math.Abs(a[c] - b[c] - Math.Round(a[c] - b[c])) < tolerance);

    private const double TranslationTolerance = 0.02;

    private static SpaceGroupSetting? Identify(double[,] basis, List<Operation> operations)
    {
        foreach (var a in ConventionalBases(basis, operations))
        {
            int points = Det(a); // lattice points per conventional cell
            var adjugate = Adjugate(a);
            var rotations = new List<int[]>();
            foreach (var op in operations)
            {
                var m = Multiply(Multiply(adjugate, op.W), a);
                if (m.Any(v => v % points != 0))
                    break;
                rotations.Add(m.Select(v => v / points).ToArray());
            }

            if (rotations.Count != operations.Count || rotations.Any(r => r.Any(v => Math.Abs(v) > 2)))
                continue;
            var keys = rotations.Select(RotationKey).ToHashSet();
            // the centring: lattice vectors of the primitive cell inside the conventional one, in conventional coordinates
            var centring = new List<double[]>();
            for (int i = 0; i < points; i++)
            for (int j = 0; j < points; j++)
            for (int k = 0; k < points; k++)
            {
                double[] c = Enumerable.Range(0, 3).Select(r => Wrap((adjugate[3 * r] * i + adjugate[3 * r + 1] * j + adjugate[3 * r + 2] * k) / (double)points)).ToArray();
                if (!centring.Any(x => SameModuloOne(x, c, 1e-9)))
                    centring.Add(c);
            }

            foreach (var entry in Entries.Value)
            {
                if (entry.Setting.Operations.Count != operations.Count * centring.Count || !entry.Rotations.SetEquals(keys)
                    || entry.Centring.Count != centring.Count || !entry.Centring.All(x => centring.Any(y => SameModuloOne(x, y, 1e-6))))
                    continue;
                if (OriginShiftExists(entry.Setting, a, operations, rotations))
                    return entry.Setting;
            }
        }

        return null;
    }

    /// <summary>
    /// Whether some origin shift s (primitive coordinates) turns every operation (W, t) into the setting's: the
    /// setting's translation, in primitive coordinates, is t + (I - W) s modulo lattice vectors. The congruences are
    /// diagonalised by unimodular row and column operations and their finitely many solutions tried.
    /// </summary>
    private static bool OriginShiftExists(SpaceGroupSetting setting, int[] a, List<Operation> operations, List<int[]> conventionalRotations)
    {
        var rows = new List<int[]>();
        var rhs = new List<double>();
        var targets = new List<double[]>();
        for (int o = 0; o < operations.Count; o++)
        {
            long key = RotationKey(conventionalRotations[o]);
            var op = setting.Operations.First(s => RotationKey(Rotation(s)) == key);
            double[] tau = [op.Translation(0), op.Translation(1), op.Translation(2)];
            double[] target = [0, 0, 0];
            for (int r = 0; r < 3; r++)
                for (int c = 0; c < 3; c++)
                    target[r] += a[3 * r + c] * tau[c];
            targets.Add(target);
            var w = operations[o].W;
            for (int r = 0; r < 3; r++)
            {
                rows.Add([(r == 0 ? 1 : 0) - w[3 * r], (r == 1 ? 1 : 0) - w[3 * r + 1], (r == 2 ? 1 : 0) - w[3 * r + 2]]);
                rhs.Add(target[r] - operations[o].T[r]);
            }
        }

        foreach (var shift in Solutions(rows, rhs))
        {
            bool all = true;
            for (int o = 0; o < operations.Count && all; o++)
            {
                var w = operations[o].W;
                var image = new double[3];
                for (int r = 0; r < 3; r++)
                    image[r] = operations[o].T[r] + shift[r] - (w[3 * r] * shift[0] + w[3 * r + 1] * shift[1] + w[3 * r + 2] * shift[2]);
                all = SameModuloOne(image, targets[o], TranslationTolerance);
            }

            if (all)
                return true;
        }

        return false;
    }

    /// <summary>The solutions s in [0, 1)³ (up to free directions, set to 0) of M s ≡ d (mod 1), M integer.</summary>
    private static IEnumerable<double[]> Solutions(List<int[]> rows, List<double> rhs)
    {
        var m = rows.Select(r => (int[])r.Clone()).ToArray();
        var d = rhs.ToArray();
        int[] q = [1, 0, 0, 0, 1, 0, 0, 0, 1]; // column operations: s = q y
        int rank = 0;
        for (int t = 0; t < 3 && t < m.Length; t++)
        {
            while (true)
            {
                int pi = -1, pj = -1;
                for (int i = t; i < m.Length; i++)
                for (int j = t; j < 3; j++)
                    if (m[i][j] != 0 && (pi < 0 || Math.Abs(m[i][j]) < Math.Abs(m[pi][pj])))
                        (pi, pj) = (i, j);
                if (pi < 0)
                    goto diagonal;
                (m[t], m[pi]) = (m[pi], m[t]);
                (d[t], d[pi]) = (d[pi], d[t]);
                for (int i = 0; i < m.Length; i++)
                    (m[i][t], m[i][pj]) = (m[i][pj], m[i][t]);
                for (int r = 0; r < 3; r++)
                    (q[3 * r + t], q[3 * r + pj]) = (q[3 * r + pj], q[3 * r + t]);
                bool clean = true;
                for (int i = t + 1; i < m.Length; i++)
                {
                    int f = m[i][t] / m[t][t];
                    for (int j = 0; j < 3; j++)
                        m[i][j] -= f * m[t][j];
                    d[i] -= f * d[t];
                    clean &= m[i][t] == 0;
                }

                for (int j = t + 1; j < 3; j++)
                {
                    int f = m[t][j] / m[t][t];
                    for (int i = 0; i < m.Length; i++)
                        m[i][j] -= f * m[i][t];
                    for (int r = 0; r < 3; r++)
                        q[3 * r + j] -= f * q[3 * r + t];
                    clean &= m[t][j] == 0;
                }

                if (clean)
                    break;
            }

            rank++;
        }

        diagonal:
        for (int i = rank; i < m.Length; i++)
            if (Math.Abs(d[i] - Math.Round(d[i])) > TranslationTolerance)
                yield break;
        int[] counts = Enumerable.Range(0, 3).Select(t => t < rank ? Math.Abs(m[t][t]) : 1).ToArray();
        for (int k0 = 0; k0 < counts[0]; k0++)
        for (int k1 = 0; k1 < counts[1]; k1++)
        for (int k2 = 0; k2 < counts[2]; k2++)
        {
            int[] k = [k0, k1, k2];
            var y = Enumerable.Range(0, 3).Select(t => t < rank ? (d[t] + k[t]) / m[t][t] : 0).ToArray();
            yield return [q[0] * y[0] + q[1] * y[1] + q[2] * y[2], q[3] * y[0] + q[4] * y[1] + q[5] * y[2], q[6] * y[0] + q[7] * y[1] + q[8] * y[2]];
        }
    }
}
