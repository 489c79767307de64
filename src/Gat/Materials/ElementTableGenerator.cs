using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace SaGatSr.Gat.Materials;

/// <summary>
/// Derives the shipped elemental descriptor table (Materials/Data/elements.csv) from pymatgen's periodic_table.json.
/// Values are raw (missing = empty cell); imputation happens when <see cref="ElementTable"/> loads the CSV so the
/// shipped file stays an honest record of the source. The JSON has no covalent radius or polarisability, so those are absent.
/// Regenerate with the explicit test ElementTableTests.RegenerateShippedTable after changing the columns.
/// </summary>
public static partial class ElementTableGenerator
{
    /// <summary>One column: short name, one-line meaning (with unit), and how to read it from an element's JSON object.</summary>
    public sealed record Column(string Name, string Description, Func<JsonElement, int, double?> Extract);

    public static IReadOnlyList<Column> Columns { get; } =
    [
        new("Z", "atomic number", (_, z) => z),
        new("mass", "atomic mass (u)", (e, _) => Number(e, "Atomic mass")),
        new("X", "Pauling electronegativity", (e, _) => Number(e, "X")),
        new("IE1", "first ionisation energy (eV)", (e, _) => Ionisation(e, 0)),
        new("IE2", "second ionisation energy (eV)", (e, _) => Ionisation(e, 1)),
        new("IE3", "third ionisation energy (eV)", (e, _) => Ionisation(e, 2)),
        new("EA", "electron affinity (eV)", (e, _) => Number(e, "Electron affinity")),
        new("r_atom", "empirical atomic radius (Å)", (e, _) => Number(e, "Atomic radius")),
        new("r_calc", "calculated atomic radius (Å)", (e, _) => Number(e, "Atomic radius calculated")),
        new("r_vdw", "van der Waals radius (Å)", (e, _) => Number(e, "Van der waals radius")),
        new("r_metal", "metallic radius (Å)", (e, _) => Number(e, "Metallic radius")),
        new("r_ion", "mean ionic radius over the listed oxidation states (Å)", (e, _) => MeanOfObject(e, "Ionic radii")),
        new("mendeleev", "Mendeleev number (Pettifor-like chemical ordering)", (e, _) => Number(e, "Mendeleev no")),
        new("group", "periodic-table group 1..18 (lanthanides/actinides: 3)", (_, z) => Elements.Group(z)),
        new("period", "periodic-table period 1..7", (_, z) => Elements.Period(z)),
        new("block_s", "1 if s-block element, else 0", (_, z) => Elements.Block(z) == 0 ? 1 : 0),
        new("block_p", "1 if p-block element, else 0", (_, z) => Elements.Block(z) == 1 ? 1 : 0),
        new("block_d", "1 if d-block element, else 0", (_, z) => Elements.Block(z) == 2 ? 1 : 0),
        new("block_f", "1 if f-block element, else 0", (_, z) => Elements.Block(z) == 3 ? 1 : 0),
        new("val_s", "valence s electrons (outside the noble-gas core)", (e, _) => Valence(e, 's')),
        new("val_p", "valence p electrons", (e, _) => Valence(e, 'p')),
        new("val_d", "valence d electrons", (e, _) => Valence(e, 'd')),
        new("val_f", "valence f electrons", (e, _) => Valence(e, 'f')),
        new("val_total", "total valence electrons (s+p+d+f outside the core)", (e, _) => Valence(e, 'a')),
        new("unf_s", "unfilled s states in partly occupied valence s shell", (e, _) => Unfilled(e, 's')),
        new("unf_p", "unfilled p states in partly occupied valence p shell", (e, _) => Unfilled(e, 'p')),
        new("unf_d", "unfilled d states in partly occupied valence d shell", (e, _) => Unfilled(e, 'd')),
        new("unf_f", "unfilled f states in partly occupied valence f shell", (e, _) => Unfilled(e, 'f')),
        new("unf_total", "total unfilled valence states", (e, _) => Unfilled(e, 'a')),
        new("V_molar", "molar volume of the element (cm³/mol)", (e, _) => Number(e, "Molar volume")),
        new("T_melt", "melting point of the element (K)", (e, _) => Number(e, "Melting point")),
        new("T_boil", "boiling point of the element (K)", (e, _) => Number(e, "Boiling point")),
        new("T_liquid", "liquid range of the element (K)", (e, _) => Number(e, "Liquid range")),
        new("rho", "density of the elemental solid (g/cm³)", (e, _) => Number(e, "Density of solid") / 1000),
        new("ox_common_min", "lowest common oxidation state", (e, _) => ExtremeOfArray(e, "Common oxidation states", min: true)),
        new("ox_common_max", "highest common oxidation state", (e, _) => ExtremeOfArray(e, "Common oxidation states", min: false)),
        new("ox_min", "lowest known oxidation state", (e, _) => ExtremeOfArray(e, "Oxidation states", min: true)),
        new("ox_max", "highest known oxidation state", (e, _) => ExtremeOfArray(e, "Oxidation states", min: false)),
        new("K_bulk", "bulk modulus of the element (GPa)", (e, _) => Number(e, "Bulk modulus")),
        new("E_young", "Young's modulus of the element (GPa)", (e, _) => Number(e, "Youngs modulus")),
        new("G_shear", "rigidity (shear) modulus of the element (GPa)", (e, _) => Number(e, "Rigidity modulus")),
        new("poisson", "Poisson's ratio of the element", (e, _) => Number(e, "Poissons ratio")),
        new("log_kappa", "log10 thermal conductivity of the element (W/m/K)", (e, _) => Log10(Number(e, "Thermal conductivity"))),
        new("log_resist", "log10 electrical resistivity of the element (1e-8 Ohm m)", (e, _) => Log10(Resistivity(e))),
        new("v_sound", "speed of sound in the element (km/s)", (e, _) => Number(e, "Velocity of sound") / 1000),
        new("cte", "coefficient of linear thermal expansion (1e-6/K)", (e, _) => Number(e, "Coefficient of linear thermal expansion")),
        new("H_mohs", "Mohs (mineral) hardness", (e, _) => Number(e, "Mineral hardness")),
        new("H_vickers", "Vickers hardness (GPa)", (e, _) => Number(e, "Vickers hardness") / 1000),
        new("H_brinell", "Brinell hardness (GPa)", (e, _) => Number(e, "Brinell hardness") / 1000),
        new("e_homo", "energy of the highest occupied atomic orbital (Hartree)", (e, _) => HighestOrbital(e)),
    ];

    /// <summary>The CSV text for the JSON at <paramref name="periodicTableJsonPath"/>: header "Z,symbol,..." then one row per element 1..118.</summary>
    public static string Generate(string periodicTableJsonPath) => GenerateFromJson(File.ReadAllText(periodicTableJsonPath));

    public static string GenerateFromJson(string json)
    {
        using var document = JsonDocument.Parse(json);
        var builder = new StringBuilder();
        builder.Append("symbol");
        foreach (var column in Columns)
            builder.Append(',').Append(column.Name);
        builder.Append('\n');
        for (int z = 1; z <= Elements.Count; z++)
        {
            string symbol = Elements.Symbol(z);
            builder.Append(symbol);
            bool present = document.RootElement.TryGetProperty(symbol, out var element);
            foreach (var column in Columns)
            {
                builder.Append(',');
                double? value = present ? column.Extract(element, z) : column.Extract(default, z);
                if (value is { } v && double.IsFinite(v))
                    builder.Append(v.ToString("R", CultureInfo.InvariantCulture));
            }

            builder.Append('\n');
        }

        return builder.ToString();
    }

    [GeneratedRegex(@"^\s*(?:(?:about|maybe|&gt;|&lt;|~|\([^)]*\))\s*)*([-+]?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?)")]
    private static partial Regex LeadingNumber();

    [GeneratedRegex(@"^\s*(?:&gt;)?\s*10<sup>(\d+)</sup>\s*10<sup>-8</sup>")]
    private static partial Regex PowerOfTenResistivity();

    [GeneratedRegex(@"(\d+)([spdf])<sup>(\d+)</sup>")]
    private static partial Regex Orbital();

    private static double? Number(JsonElement e, string key)
    {
        if (e.ValueKind != JsonValueKind.Object || !e.TryGetProperty(key, out var value))
            return null;
        switch (value.ValueKind)
        {
            case JsonValueKind.Number:
                return value.GetDouble();
            case JsonValueKind.String:
                var match = LeadingNumber().Match(value.GetString()!);
                return match.Success ? double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) : null;
            default:
                return null;
        }
    }

    private static double? Resistivity(JsonElement e)
    {
        if (e.ValueKind == JsonValueKind.Object && e.TryGetProperty("Electrical resistivity", out var value) && value.ValueKind == JsonValueKind.String)
        {
            var power = PowerOfTenResistivity().Match(value.GetString()!);
            if (power.Success)
                return Math.Pow(10, int.Parse(power.Groups[1].Value, CultureInfo.InvariantCulture));
        }

        return Number(e, "Electrical resistivity");
    }

    private static double? Log10(double? value) => value is > 0 ? Math.Log10(value.Value) : null;

    private static double? Ionisation(JsonElement e, int index) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty("Ionization energies", out var list) && list.ValueKind == JsonValueKind.Array
        && list.GetArrayLength() > index && list[index].ValueKind == JsonValueKind.Number
            ? list[index].GetDouble()
            : null;

    private static double? MeanOfObject(JsonElement e, string key)
    {
        if (e.ValueKind != JsonValueKind.Object || !e.TryGetProperty(key, out var obj) || obj.ValueKind != JsonValueKind.Object)
            return null;
        var values = obj.EnumerateObject().Where(p => p.Value.ValueKind == JsonValueKind.Number).Select(p => p.Value.GetDouble()).ToList();
        return values.Count > 0 ? values.Average() : null;
    }

    private static double? ExtremeOfArray(JsonElement e, string key, bool min)
    {
        if (e.ValueKind != JsonValueKind.Object || !e.TryGetProperty(key, out var list) || list.ValueKind != JsonValueKind.Array)
            return null;
        var values = list.EnumerateArray().Where(v => v.ValueKind == JsonValueKind.Number).Select(v => v.GetDouble()).ToList();
        return values.Count == 0 ? null : min ? values.Min() : values.Max();
    }

    private static double? HighestOrbital(JsonElement e)
    {
        if (e.ValueKind != JsonValueKind.Object || !e.TryGetProperty("Atomic orbitals", out var obj) || obj.ValueKind != JsonValueKind.Object)
            return null;
        var values = obj.EnumerateObject().Where(p => p.Value.ValueKind == JsonValueKind.Number).Select(p => p.Value.GetDouble()).ToList();
        return values.Count > 0 ? values.Max() : null;
    }

    /// <summary>Electron counts per valence subshell from e.g. "[Xe].4f&lt;sup&gt;14&lt;/sup&gt;.5d&lt;sup&gt;10&lt;/sup&gt;.6s&lt;sup&gt;2&lt;/sup&gt;" (everything after the core).</summary>
    private static Dictionary<char, int>? ValenceShells(JsonElement e)
    {
        if (e.ValueKind != JsonValueKind.Object || !e.TryGetProperty("Electronic structure", out var value) || value.ValueKind != JsonValueKind.String)
            return null;
        var shells = new Dictionary<char, int> { ['s'] = 0, ['p'] = 0, ['d'] = 0, ['f'] = 0 };
        var matches = Orbital().Matches(value.GetString()!);
        if (matches.Count == 0)
            return null;
        foreach (Match m in matches)
            shells[m.Groups[2].Value[0]] += int.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture);
        return shells;
    }

    private static double? Valence(JsonElement e, char shell)
    {
        var shells = ValenceShells(e);
        return shells is null ? null : shell == 'a' ? shells.Values.Sum() : shells[shell];
    }

    private static double? Unfilled(JsonElement e, char shell)
    {
        var shells = ValenceShells(e);
        if (shells is null)
            return null;
        int Capacity(char s) => s switch { 's' => 2, 'p' => 6, 'd' => 10, _ => 14 };
        int Free(char s) => shells[s] > 0 ? Capacity(s) - shells[s] : 0;
        return shell == 'a' ? shells.Keys.Sum(Free) : Free(shell);
    }
}
