using System.Globalization;

namespace SaGatSr.Gat.Materials;

/// <summary>
/// Elemental descriptors for Z = 1..118 from the shipped CSV (see <see cref="ElementTableGenerator"/>). Missing source
/// values are imputed with the column median over the elements that have one; each property's description says how
/// many elements were imputed and with what, so printed formulas stay honest.
/// </summary>
public sealed class ElementTable
{
    private const string ResourceName = "SaGatSr.Gat.Materials.Data.elements.csv";
    private static readonly Lazy<ElementTable> LazyDefault = new(() => Parse(ReadEmbeddedText(ResourceName)));

    private readonly double?[,] _raw;   // [Z, property]
    private readonly double[] _imputed; // [Z * property count + property], flat for fast featurization
    private readonly int _electronegativityColumn, _propertyCount;

    private ElementTable(IReadOnlyList<FeatureInfo> properties, double?[,] raw, double[] imputed)
    {
        Properties = properties;
        _propertyCount = properties.Count;
        _raw = raw;
        _imputed = imputed;
        _electronegativityColumn = IndexOf("X");
    }

    /// <summary>The table shipped in the assembly.</summary>
    public static ElementTable Default => LazyDefault.Value;

    /// <summary>Name, one-line meaning (incl. imputation note), kind "elemental".</summary>
    public IReadOnlyList<FeatureInfo> Properties { get; }

    public int IndexOf(string name)
    {
        for (int p = 0; p < Properties.Count; p++)
            if (Properties[p].Name == name)
                return p;
        throw new ArgumentException($"no elemental property named '{name}'", nameof(name));
    }

    /// <summary>Value with missing entries imputed; always finite.</summary>
    public double Value(int atomicNumber, int property) => _imputed[atomicNumber * _propertyCount + property];

    /// <summary>The source value, or null where the source has none.</summary>
    public double? RawValue(int atomicNumber, int property) => _raw[atomicNumber, property];

    internal double? RawElectronegativity(int atomicNumber) => _raw[atomicNumber, _electronegativityColumn];

    public static ElementTable Parse(string csv)
    {
        var lines = csv.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var columns = ElementTableGenerator.Columns;
        var header = lines[0].Trim().Split(',');
        if (header.Length != columns.Count + 1 || header[0] != "symbol" || !header.Skip(1).SequenceEqual(columns.Select(c => c.Name)))
            throw new FormatException("element table header does not match ElementTableGenerator.Columns; regenerate the table");
        if (lines.Length != Elements.Count + 1)
            throw new FormatException($"element table must have {Elements.Count} element rows, found {lines.Length - 1}");

        var raw = new double?[Elements.Count + 1, columns.Count];
        for (int z = 1; z <= Elements.Count; z++)
        {
            var cells = lines[z].Trim().Split(',');
            if (cells.Length != columns.Count + 1 || cells[0] != Elements.Symbol(z))
                throw new FormatException($"element table row {z + 1} should describe {Elements.Symbol(z)} with {columns.Count} values");
            for (int p = 0; p < columns.Count; p++)
                raw[z, p] = cells[p + 1].Length == 0 ? null : double.Parse(cells[p + 1], NumberStyles.Float, CultureInfo.InvariantCulture);
        }

        var imputed = new double[(Elements.Count + 1) * columns.Count];
        var properties = new FeatureInfo[columns.Count];
        for (int p = 0; p < columns.Count; p++)
        {
            var present = Enumerable.Range(1, Elements.Count).Where(z => raw[z, p].HasValue).Select(z => raw[z, p]!.Value).Order().ToArray();
            double median = present.Length == 0 ? 0 : present.Length % 2 == 1
                ? present[present.Length / 2]
                : 0.5 * (present[present.Length / 2 - 1] + present[present.Length / 2]);
            int missing = Elements.Count - present.Length;
            for (int z = 1; z <= Elements.Count; z++)
                imputed[z * columns.Count + p] = raw[z, p] ?? median;
            string note = missing == 0 ? "" : $"; missing for {missing}/{Elements.Count} elements, imputed with the median {median.ToString("G4", CultureInfo.InvariantCulture)}";
            properties[p] = new FeatureInfo(columns[p].Name, columns[p].Description + note, FeatureInfo.Elemental);
        }

        return new ElementTable(properties, raw, imputed);
    }

    internal static string ReadEmbeddedText(string resourceName)
    {
        using var stream = typeof(ElementTable).Assembly.GetManifestResourceStream(resourceName)
                           ?? throw new InvalidOperationException($"embedded resource {resourceName} is missing from {typeof(ElementTable).Assembly.GetName().Name}");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
