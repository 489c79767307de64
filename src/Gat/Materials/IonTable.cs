using System.Globalization;

namespace SaGatSr.Gat.Materials;

/// <summary>How closely a Shannon radius matches the ion asked for.</summary>
public enum ShannonMatch
{
    /// <summary>The element has no Shannon radius for any state of that sign.</summary>
    None,

    /// <summary>Same oxidation state and coordination number.</summary>
    Exact,

    /// <summary>Same oxidation state, nearest tabulated coordination number.</summary>
    OtherCoordination,

    /// <summary>Nearest tabulated oxidation state of the same sign (then nearest coordination).</summary>
    OtherState,
}

/// <summary>
/// Ion data for site roles: oxidation states by how common they are, Shannon (1976) radii by oxidation state and
/// coordination (both generated from pymatgen's periodic_table.json, see <see cref="ElementTableGenerator.GenerateOxidationStates"/>),
/// and Brese &amp; O'Keeffe (1991) bond-valence parameters. Bond-valence R0 for a cation-anion pair comes from their element
/// parameters, R0 = r1 + r2 - r1 r2 (√c1 - √c2)² / (c1 r1 + c2 r2), which reproduces their fitted pair values to a few
/// hundredths of an Å (Ti-O 1.814 vs 1.815, Sr-O 2.115 vs 2.118, Na-Cl 2.211 vs 2.15); it ignores the oxidation state.
/// For the 40-odd elements without parameters (among them Au, Pt, Os) r = 0.88 r_atom and c = X - 0.165, the median
/// ratio and offset over the 75 tabulated elements (an electronegativity-based estimate, good to about 0.1 Å in R0).
/// </summary>
public sealed class IonTable
{
    /// <summary>The universal softness b of the bond-valence model (Å).</summary>
    public const double BondValenceSoftness = 0.37;

    private const string Prefix = "SaGatSr.Gat.Materials.Data.";
    private const double FallbackRadiusRatio = 0.88, FallbackSoftnessOffset = -0.165;
    private static readonly Lazy<IonTable> LazyDefault = new(() => Parse(
        ElementTable.ReadEmbeddedText(Prefix + "oxidation_states.csv"),
        ElementTable.ReadEmbeddedText(Prefix + "shannon_radii.csv"),
        ElementTable.ReadEmbeddedText(Prefix + "bond_valence.csv"),
        ElementTable.Default));

    private readonly (int State, int Tier)[][] _states;             // [Z], sorted by state
    private readonly ShannonEntry[][] _shannon;                     // [Z], sorted by state then coordination
    private readonly double[] _bvRadius, _bvSoftness;               // [Z]: Brese-O'Keeffe r and c (estimated where not tabulated)
    private readonly bool[] _bvTabulated;                           // [Z]

    private IonTable((int, int)[][] states, ShannonEntry[][] shannon, double[] bvRadius, double[] bvSoftness, bool[] bvTabulated)
    {
        _states = states;
        _shannon = shannon;
        _bvRadius = bvRadius;
        _bvSoftness = bvSoftness;
        _bvTabulated = bvTabulated;
    }

    public static IonTable Default => LazyDefault.Value;

    /// <summary>Known oxidation states of element <paramref name="z"/>, ascending, with tier 1 = common, 2 = seen in ICSD, 3 = other known.</summary>
    public ReadOnlySpan<(int State, int Tier)> OxidationStates(int z) => _states[z];

    /// <summary>True when the element has a known oxidation state of this sign (+1 or -1) in tier <paramref name="maxTier"/> or better.</summary>
    public bool HasStateOfSign(int z, int sign, int maxTier = 3)
    {
        foreach (var (state, tier) in _states[z])
            if (Math.Sign(state) == sign && tier <= maxTier)
                return true;
        return false;
    }

    /// <summary>
    /// Shannon ionic radius (Å) of element <paramref name="z"/> in oxidation state <paramref name="state"/> with
    /// <paramref name="coordination"/> neighbours. Where Shannon has no such entry it takes the nearest coordination
    /// number (ties: the larger), then the nearest state of the same sign (ties: the smaller magnitude), and says so.
    /// Plain geometries beat square-planar/pyramidal ones, high spin beats low spin.
    /// </summary>
    public double ShannonRadius(int z, int state, int coordination, out ShannonMatch match)
    {
        var entries = _shannon[z];
        int bestState = int.MinValue;
        foreach (var e in entries)
            if (Math.Sign(e.State) == Math.Sign(state) && state != 0
                && (bestState == int.MinValue || Math.Abs(e.State - state) < Math.Abs(bestState - state)
                    || Math.Abs(e.State - state) == Math.Abs(bestState - state) && Math.Abs(e.State) < Math.Abs(bestState)))
                bestState = e.State;
        if (bestState == int.MinValue)
        {
            match = ShannonMatch.None;
            return double.NaN;
        }

        ShannonEntry? best = null;
        foreach (var e in entries)
        {
            if (e.State != bestState)
                continue;
            if (best is null || Better(e, best.Value))
                best = e;
        }

        match = bestState != state ? ShannonMatch.OtherState
            : best!.Value.Coordination == coordination ? ShannonMatch.Exact : ShannonMatch.OtherCoordination;
        return best!.Value.IonicRadius;

        bool Better(ShannonEntry candidate, ShannonEntry current)
        {
            int dc = Math.Abs(candidate.Coordination - coordination), dn = Math.Abs(current.Coordination - coordination);
            if (dc != dn) return dc < dn;
            if (candidate.Coordination != current.Coordination) return candidate.Coordination > current.Coordination;
            if (candidate.Plain != current.Plain) return candidate.Plain;
            return candidate.HighSpin && !current.HighSpin;
        }
    }

    /// <summary>Bond-valence R0 (Å) of a bond between the two elements (order does not matter).</summary>
    public double BondValenceR0(int z1, int z2)
    {
        double r1 = _bvRadius[z1], r2 = _bvRadius[z2], c1 = _bvSoftness[z1], c2 = _bvSoftness[z2];
        double root = Math.Sqrt(c1) - Math.Sqrt(c2);
        return r1 + r2 - r1 * r2 * root * root / (c1 * r1 + c2 * r2);
    }

    /// <summary>Whether Brese and O'Keeffe tabulate the element (else its parameters are the estimate in the class summary).</summary>
    public bool HasTabulatedBondValence(int z) => _bvTabulated[z];

    public static IonTable Parse(string oxidationStatesCsv, string shannonCsv, string bondValenceCsv, ElementTable elements)
    {
        var states = new List<(int, int)>[Elements.Count + 1];
        var shannon = new List<ShannonEntry>[Elements.Count + 1];
        for (int z = 0; z <= Elements.Count; z++)
        {
            states[z] = [];
            shannon[z] = [];
        }

        foreach (var (cells, line) in Rows(oxidationStatesCsv, "symbol,state,tier", "oxidation_states.csv"))
            states[Element(cells[0], line, "oxidation_states.csv")].Add((Integer(cells[1], line), Integer(cells[2], line)));
        foreach (var (cells, line) in Rows(shannonCsv, "symbol,state,coordination,spin,ionic_radius,crystal_radius", "shannon_radii.csv"))
        {
            var (number, geometry) = ParseCoordination(cells[2]);
            shannon[Element(cells[0], line, "shannon_radii.csv")].Add(new ShannonEntry(Integer(cells[1], line), number, geometry.Length == 0,
                cells[3] != "low", Number(cells[4], line)));
        }

        var radius = new double[Elements.Count + 1];
        var softness = new double[Elements.Count + 1];
        var tabulated = new bool[Elements.Count + 1];
        foreach (var (cells, line) in Rows(bondValenceCsv, "symbol,r,c", "bond_valence.csv"))
        {
            int z = Element(cells[0], line, "bond_valence.csv");
            radius[z] = Number(cells[1], line);
            softness[z] = Number(cells[2], line);
            tabulated[z] = true;
        }

        int atomicRadius = elements.IndexOf("r_atom"), electronegativity = elements.IndexOf("X");
        for (int z = 1; z <= Elements.Count; z++)
            if (!tabulated[z])
            {
                radius[z] = FallbackRadiusRatio * elements.Value(z, atomicRadius);
                softness[z] = Math.Max(0.5, elements.Value(z, electronegativity) + FallbackSoftnessOffset);
            }

        return new IonTable(
            states.Select(s => s.OrderBy(x => x.Item1).ToArray()).ToArray(),
            shannon.Select(s => s.OrderBy(x => x.State).ThenBy(x => x.Coordination).ToArray()).ToArray(),
            radius, softness, tabulated);
    }

    /// <summary>Shannon's coordination label: Roman numeral plus optional geometry ("VI", "IVSQ" square planar, "IIIPY" pyramidal).</summary>
    internal static (int Number, string Geometry) ParseCoordination(string label)
    {
        int length = 0;
        while (length < label.Length && label[length] is 'I' or 'V' or 'X')
            length++;
        int total = 0;
        for (int k = 0; k < length; k++)
        {
            int value = label[k] switch { 'I' => 1, 'V' => 5, _ => 10 };
            int next = k + 1 < length ? label[k + 1] switch { 'I' => 1, 'V' => 5, _ => 10 } : 0;
            total += value < next ? -value : value;
        }

        if (total == 0)
            throw new FormatException($"'{label}' is not a Shannon coordination (Roman numeral with optional SQ/PY)");
        return (total, label[length..]);
    }

    private static IEnumerable<(string[] Cells, int Line)> Rows(string csv, string header, string file)
    {
        var lines = csv.Replace("\r\n", "\n").Split('\n');
        bool seenHeader = false;
        for (int k = 0; k < lines.Length; k++)
        {
            string line = lines[k].Trim();
            if (line.Length == 0 || line.StartsWith('#'))
                continue;
            if (!seenHeader)
            {
                if (line != header)
                    throw new FormatException($"{file}:{k + 1}: header should be '{header}'; regenerate the table");
                seenHeader = true;
                continue;
            }

            var cells = line.Split(',');
            if (cells.Length != header.Count(c => c == ',') + 1)
                throw new FormatException($"{file}:{k + 1}: expected {header.Count(c => c == ',') + 1} cells");
            yield return (cells, k + 1);
        }
    }

    private static int Element(string symbol, int line, string file) =>
        Elements.TryGetAtomicNumber(symbol, out int z) ? z : throw new FormatException($"{file}:{line}: unknown element '{symbol}'");

    private static int Integer(string text, int line) =>
        int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) ? v : throw new FormatException($"line {line}: '{text}' is not an integer");

    private static double Number(string text, int line) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) ? v : throw new FormatException($"line {line}: '{text}' is not a number");

    private readonly record struct ShannonEntry(int State, int Coordination, bool Plain, bool HighSpin, double IonicRadius);
}
