using System.Globalization;

namespace SaGatSr.Symbolic;

/// <summary>Named numeric feature columns, [feature][sample], in float64.</summary>
public sealed class FeatureTable
{
    public string[] Names { get; }
    public double[][] Columns { get; }
    public int SampleCount { get; }
    /// <summary>Non-numeric columns (e.g. material ids) that <see cref="ReadCsv"/> skipped.</summary>
    public IReadOnlyList<string> IgnoredColumns { get; }

    public FeatureTable(string[] names, double[][] columns, IReadOnlyList<string>? ignoredColumns = null)
    {
        if (names.Length != columns.Length) throw new ArgumentException($"{names.Length} names for {columns.Length} columns.");
        if (names.Distinct(StringComparer.Ordinal).Count() != names.Length)
            throw new ArgumentException($"Duplicate feature names: {string.Join(", ", names.GroupBy(n => n).Where(g => g.Count() > 1).Select(g => g.Key))}.");
        SampleCount = columns.Length == 0 ? 0 : columns[0].Length;
        for (int f = 0; f < columns.Length; f++)
            if (columns[f].Length != SampleCount)
                throw new ArgumentException($"Feature '{names[f]}' has {columns[f].Length} samples; expected {SampleCount}.");
        Names = names;
        Columns = columns;
        IgnoredColumns = ignoredColumns ?? [];
    }

    public int IndexOf(string name)
    {
        int index = Array.IndexOf(Names, name);
        return index >= 0 ? index : throw new ArgumentException($"Feature '{name}' is not in the table (features: {string.Join(", ", Names)}).");
    }

    /// <summary>
    /// Reads a comma-separated table with a header row. Columns whose first value is not a number are identifier
    /// columns and are skipped (see <see cref="IgnoredColumns"/>); in the other columns every value must parse as
    /// an invariant-culture number, otherwise the error names the file, line and column.
    /// </summary>
    public static FeatureTable ReadCsv(string path, string targetColumn, out double[] target)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Table '{path}' does not exist.", path);
        using var reader = new StreamReader(path);
        string? header = reader.ReadLine();
        if (string.IsNullOrWhiteSpace(header)) throw new FormatException($"{path}:1: the file is empty; expected a header row.");
        var names = SplitLine(header, path, 1).Select(n => n.Trim()).ToArray();
        int targetIndex = Array.IndexOf(names, targetColumn);
        if (targetIndex < 0)
            throw new ArgumentException($"{path}:1: target column '{targetColumn}' not found; columns are: {string.Join(", ", names)}.");

        var values = names.Select(_ => new List<double>()).ToArray();
        bool[]? numeric = null;
        int lineNumber = 1;
        for (string? line = reader.ReadLine(); line is not null; line = reader.ReadLine())
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            var cells = SplitLine(line, path, lineNumber);
            if (cells.Count != names.Length)
                throw new FormatException($"{path}:{lineNumber}: {cells.Count} fields, but the header has {names.Length}.");
            if (numeric is null)
            {
                numeric = cells.Select(c => TryParse(c, out _)).ToArray();
                if (!numeric[targetIndex])
                    throw new FormatException($"{path}:{lineNumber}: target column '{targetColumn}' value '{cells[targetIndex]}' is not a number.");
            }

            for (int c = 0; c < names.Length; c++)
            {
                if (!numeric[c]) continue;
                if (!TryParse(cells[c], out double v))
                    throw new FormatException($"{path}:{lineNumber}: column '{names[c]}': '{cells[c]}' is not a number.");
                values[c].Add(v);
            }
        }

        if (numeric is null) throw new FormatException($"{path}: no data rows after the header.");
        target = values[targetIndex].ToArray();
        var featureIndices = Enumerable.Range(0, names.Length).Where(c => c != targetIndex && numeric[c]).ToArray();
        if (featureIndices.Length == 0) throw new FormatException($"{path}: no numeric feature columns besides the target '{targetColumn}'.");
        return new FeatureTable(
            featureIndices.Select(c => names[c]).ToArray(),
            featureIndices.Select(c => values[c].ToArray()).ToArray(),
            Enumerable.Range(0, names.Length).Where(c => !numeric[c]).Select(c => names[c]).ToArray());
    }

    private static bool TryParse(string cell, out double value) =>
        double.TryParse(cell.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out value) && double.IsFinite(value);

    /// <summary>Splits one CSV line, honouring double-quoted fields with "" escapes.</summary>
    private static List<string> SplitLine(string line, string path, int lineNumber)
    {
        var cells = new List<string>();
        var cell = new System.Text.StringBuilder();
        bool quoted = false;
        for (int i = 0; i < line.Length; i++)
        {
            char ch = line[i];
            if (quoted)
            {
                if (ch == '"' && i + 1 < line.Length && line[i + 1] == '"') { cell.Append('"'); i++; }
                else if (ch == '"') quoted = false;
                else cell.Append(ch);
            }
            else if (ch == '"') quoted = true;
            else if (ch == ',') { cells.Add(cell.ToString()); cell.Clear(); }
            else cell.Append(ch);
        }

        if (quoted) throw new FormatException($"{path}:{lineNumber}: unterminated quoted field.");
        cells.Add(cell.ToString());
        return cells;
    }
}
