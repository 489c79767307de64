namespace SaGatSr.Gat.Materials.Symmetry;

/// <summary>
/// Space-group operations from a Hall symbol (S. R. Hall, Acta Cryst. A37, 517 (1981); International Tables Vol. B,
/// section A1.4.2): "[-]L [-]N[A][T] ... [(vx vy vz)]", e.g. "-P 2yn", "F 4d 2 3 -1d", "P 31 2 (0 0 4)".
/// L is the lattice (centring), a leading '-' adds the inversion; each further symbol is a generator: rotation order
/// N (a leading '-' makes it improper), axis A (x, y, z, the face diagonals ' and ", the body diagonal *; defaults
/// follow Hall's rules), translations T (a, b, c, n, u, v, w, d, or a screw subscript); V shifts the origin by V/12.
/// Arithmetic is exact: every translation is a whole number of twelfths.
/// </summary>
public static class HallSymbol
{
    private const int Twelfths = 12;

    /// <summary>All operations of the group in its conventional cell (centring translations included), identity first.</summary>
    /// <exception cref="FormatException">the text is not a Hall symbol</exception>
    public static IReadOnlyList<SymmetryOperation> Operations(string hall)
    {
        var (generators, shift) = Parse(hall);
        var group = Close(generators, hall);
        return group.Select(op => op.ShiftOrigin(shift).ToOperation()).ToList();
    }

    private readonly record struct Seitz(int[] R, int[] T)
    {
        public static Seitz Identity => new([1, 0, 0, 0, 1, 0, 0, 0, 1], [0, 0, 0]);

        public Seitz Times(Seitz other)
        {
            var r = new int[9];
            var t = new int[3];
            for (int i = 0; i < 3; i++)
            {
                for (int j = 0; j < 3; j++)
                    for (int k = 0; k < 3; k++)
                        r[3 * i + j] += R[3 * i + k] * other.R[3 * k + j];
                t[i] = T[i];
                for (int k = 0; k < 3; k++)
                    t[i] += R[3 * i + k] * other.T[k];
                t[i] = Modulo(t[i]);
            }

            return new Seitz(r, t);
        }

        /// <summary>The same operation in coordinates x' = x + v/12: t' = t + (I - R) v.</summary>
        public Seitz ShiftOrigin(int[] v)
        {
            var t = new int[3];
            for (int i = 0; i < 3; i++)
            {
                t[i] = T[i] + v[i];
                for (int k = 0; k < 3; k++)
                    t[i] -= R[3 * i + k] * v[k];
                t[i] = Modulo(t[i]);
            }

            return new Seitz(R, t);
        }

        public long Key()
        {
            long key = 0;
            foreach (int v in R)
                key = key * 5 + v + 2;
            foreach (int v in T)
                key = key * Twelfths + v;
            return key;
        }

        public SymmetryOperation ToOperation() =>
            new(R, T.Select(v => v / (double)Twelfths).ToArray());
    }

    private static int Modulo(int v) => ((v % Twelfths) + Twelfths) % Twelfths;

    private static readonly Dictionary<char, int[][]> LatticeTranslations = new()
    {
        ['P'] = [],
        ['A'] = [[0, 6, 6]],
        ['B'] = [[6, 0, 6]],
        ['C'] = [[6, 6, 0]],
        ['I'] = [[6, 6, 6]],
        ['R'] = [[8, 4, 4], [4, 8, 8]],
        ['S'] = [[4, 4, 8], [8, 8, 4]],
        ['T'] = [[4, 8, 4], [8, 4, 8]],
        ['F'] = [[0, 6, 6], [6, 0, 6], [6, 6, 0]],
    };

    private static readonly Dictionary<char, int[]> TranslationSymbols = new()
    {
        ['a'] = [6, 0, 0], ['b'] = [0, 6, 0], ['c'] = [0, 0, 6], ['n'] = [6, 6, 6],
        ['u'] = [3, 0, 0], ['v'] = [0, 3, 0], ['w'] = [0, 0, 3], ['d'] = [3, 3, 3],
    };

    // proper rotations along the principal axes, acting on column vectors of fractional coordinates
    private static readonly Dictionary<(int Order, char Axis), int[]> PrincipalRotations = new()
    {
        [(1, 'x')] = [1, 0, 0, 0, 1, 0, 0, 0, 1],
        [(2, 'x')] = [1, 0, 0, 0, -1, 0, 0, 0, -1],
        [(3, 'x')] = [1, 0, 0, 0, 0, -1, 0, 1, -1],
        [(4, 'x')] = [1, 0, 0, 0, 0, -1, 0, 1, 0],
        [(6, 'x')] = [1, 0, 0, 0, 1, -1, 0, 1, 0],
        [(1, 'y')] = [1, 0, 0, 0, 1, 0, 0, 0, 1],
        [(2, 'y')] = [-1, 0, 0, 0, 1, 0, 0, 0, -1],
        [(3, 'y')] = [-1, 0, 1, 0, 1, 0, -1, 0, 0],
        [(4, 'y')] = [0, 0, 1, 0, 1, 0, -1, 0, 0],
        [(6, 'y')] = [0, 0, 1, 0, 1, 0, -1, 0, 1],
        [(1, 'z')] = [1, 0, 0, 0, 1, 0, 0, 0, 1],
        [(2, 'z')] = [-1, 0, 0, 0, -1, 0, 0, 0, 1],
        [(3, 'z')] = [0, -1, 0, 1, -1, 0, 0, 0, 1],
        [(4, 'z')] = [0, -1, 0, 1, 0, 0, 0, 0, 1],
        [(6, 'z')] = [1, -1, 0, 1, 0, 0, 0, 0, 1],
    };

    // two-fold axes along face diagonals, by the preceding principal axis: ' is b-c, a-c, a-b; " is b+c, a+c, a+b
    private static readonly Dictionary<(char Preceding, char Axis), int[]> DiagonalTwoFolds = new()
    {
        [('x', '\'')] = [-1, 0, 0, 0, 0, -1, 0, -1, 0],
        [('x', '"')] = [-1, 0, 0, 0, 0, 1, 0, 1, 0],
        [('y', '\'')] = [0, 0, -1, 0, -1, 0, -1, 0, 0],
        [('y', '"')] = [0, 0, 1, 0, -1, 0, 1, 0, 0],
        [('z', '\'')] = [0, -1, 0, -1, 0, 0, 0, 0, -1],
        [('z', '"')] = [0, 1, 0, 1, 0, 0, 0, 0, -1],
    };

    private static readonly int[] BodyDiagonalThreeFold = [0, 0, 1, 1, 0, 0, 0, 1, 0];

    private static (List<Seitz> Generators, int[] Shift) Parse(string hall)
    {
        string text = hall.Trim();
        int open = text.IndexOf('(');
        int[] shift = [0, 0, 0];
        if (open >= 0)
        {
            shift = ParseShift(text[open..], hall);
            text = text[..open].Trim();
        }

        var tokens = text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        if (tokens.Length < 2)
            throw new FormatException($"Hall symbol '{hall}' needs a lattice symbol and at least one rotation");

        var generators = new List<Seitz>();
        string lattice = tokens[0];
        bool centrosymmetric = lattice.StartsWith('-');
        if (centrosymmetric)
            lattice = lattice[1..];
        if (lattice.Length != 1 || !LatticeTranslations.TryGetValue(char.ToUpperInvariant(lattice[0]), out var centring))
            throw new FormatException($"Hall symbol '{hall}': unknown lattice symbol '{tokens[0]}'");
        foreach (var t in centring)
            generators.Add(new Seitz(Seitz.Identity.R, t));
        if (centrosymmetric)
            generators.Add(new Seitz([-1, 0, 0, 0, -1, 0, 0, 0, -1], [0, 0, 0]));

        int previousOrder = 0;
        char previousAxis = 'z';
        for (int k = 1; k < tokens.Length; k++)
        {
            var (generator, order, axis) = ParseRotation(tokens[k], k - 1, previousOrder, previousAxis, hall);
            generators.Add(generator);
            previousOrder = order;
            if (axis is 'x' or 'y' or 'z')
                previousAxis = axis;
        }

        return (generators, shift);
    }

    private static (Seitz Generator, int Order, char Axis) ParseRotation(string token, int index, int previousOrder, char previousAxis, string hall)
    {
        int i = 0;
        bool improper = token[i] == '-';
        if (improper)
            i++;
        if (i >= token.Length || token[i] is not ('1' or '2' or '3' or '4' or '6'))
            throw new FormatException($"Hall symbol '{hall}': '{token}' does not start with a rotation order 1, 2, 3, 4 or 6");
        int order = token[i++] - '0';
        char? axis = null;
        int screw = 0;
        var translation = new int[3];
        for (; i < token.Length; i++)
        {
            char c = token[i];
            if (c is >= '1' and <= '5' && screw == 0 && axis is null)
            {
                screw = c - '0';
                if (screw >= order)
                    throw new FormatException($"Hall symbol '{hall}': screw {order}{c} is impossible");
            }
            else if (c is 'x' or 'y' or 'z' or '\'' or '"' or '*' && axis is null)
            {
                axis = c;
            }
            else if (TranslationSymbols.TryGetValue(c, out var t))
            {
                for (int r = 0; r < 3; r++)
                    translation[r] += t[r];
            }
            else
            {
                throw new FormatException($"Hall symbol '{hall}': unexpected '{c}' in '{token}'");
            }
        }

        // Hall's defaults: the first rotation is along c; a second two-fold is along a after a 2 or 4 and along a-b
        // after a 3 or 6; a third rotation (a three-fold) is along the body diagonal
        axis ??= index switch
        {
            _ when order == 1 => 'z',
            0 => 'z',
            1 when order == 2 && previousOrder is 2 or 4 => 'x',
            1 when order == 2 && previousOrder is 3 or 6 => '\'',
            2 when order == 3 => '*',
            _ => throw new FormatException($"Hall symbol '{hall}': '{token}' needs an explicit axis"),
        };

        int[] rotation;
        if (axis is 'x' or 'y' or 'z')
        {
            rotation = PrincipalRotations[(order, axis.Value)];
            if (screw > 0)
                translation["xyz".IndexOf(axis.Value)] += Twelfths * screw / order;
        }
        else if (axis == '*')
        {
            if (order != 3)
                throw new FormatException($"Hall symbol '{hall}': the body diagonal '*' takes a three-fold axis, not '{token}'");
            rotation = BodyDiagonalThreeFold;
        }
        else
        {
            if (order != 2)
                throw new FormatException($"Hall symbol '{hall}': a face diagonal takes a two-fold axis, not '{token}'");
            rotation = DiagonalTwoFolds[(previousAxis, axis.Value)];
        }

        if (screw > 0 && axis is not ('x' or 'y' or 'z'))
            throw new FormatException($"Hall symbol '{hall}': a screw needs a principal axis in '{token}'");
        if (improper)
            rotation = rotation.Select(v => -v).ToArray();
        return (new Seitz(rotation, translation.Select(Modulo).ToArray()), order, axis.Value);
    }

    private static int[] ParseShift(string text, string hall)
    {
        if (!text.EndsWith(')'))
            throw new FormatException($"Hall symbol '{hall}': the origin shift must be '(vx vy vz)'");
        var parts = text[1..^1].Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        var shift = new int[3];
        if (parts.Length != 3 || !parts.Select((p, k) => int.TryParse(p, out shift[k])).All(ok => ok))
            throw new FormatException($"Hall symbol '{hall}': the origin shift must be three whole numbers of twelfths, as in '(0 0 1)'");
        return shift;
    }

    private static List<Seitz> Close(List<Seitz> generators, string hall)
    {
        var group = new List<Seitz> { Seitz.Identity };
        var seen = new HashSet<long> { Seitz.Identity.Key() };
        // multiply every element by every generator until nothing new appears; the group is finite (at most 192)
        for (int next = 0; next < group.Count; next++)
        {
            foreach (var generator in generators)
            {
                var product = group[next].Times(generator);
                if (product.R.Any(v => Math.Abs(v) > 1) || (!seen.Contains(product.Key()) && group.Count == 192))
                    throw new FormatException($"Hall symbol '{hall}' does not describe a space group (its generators make an infinite group)");
                if (seen.Add(product.Key()))
                    group.Add(product);
            }
        }

        return group;
    }
}
