using System.Globalization;
using System.Text.RegularExpressions;

namespace SaGatSr.Gat.Materials;

/// <summary>
/// Conditions on a dataset's numeric columns that a crystal must meet to be used, e.g. "dir_gap > 0" (the non-metals) or
/// "dir_gap > 0, heat_ref < 1" (every condition holds). A crystal with no value in a column fails its condition.
/// </summary>
public sealed partial class RowFilter
{
    private readonly (int Column, string Operator, double Value)[] conditions;

    private RowFilter(string text, (int, string, double)[] conditions)
    {
        Text = text;
        this.conditions = conditions;
    }

    /// <summary>The filter as given, for reports and model files.</summary>
    public string Text { get; }

    /// <summary>The columns the conditions read, by index among <paramref name="columns"/> given to <see cref="Parse"/>.</summary>
    public IEnumerable<int> Columns => conditions.Select(c => c.Column).Distinct();

    /// <param name="columns">the dataset's numeric columns, in the order of each entry's values</param>
    /// <param name="source">the dataset, named in errors</param>
    public static RowFilter Parse(string text, IReadOnlyList<string> columns, string source)
    {
        var parts = text.Split([',', ';'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (parts.Length == 0) throw new ArgumentException("--where is empty: give conditions such as \"dir_gap > 0\".");
        var parsed = new (int, string, double)[parts.Length];
        for (int p = 0; p < parts.Length; p++)
        {
            var match = Condition().Match(parts[p]);
            if (!match.Success)
                throw new ArgumentException($"--where: cannot read '{parts[p]}'; write COLUMN OP NUMBER with OP one of > >= < <= == !=, e.g. \"dir_gap > 0\".");
            string name = match.Groups["column"].Value;
            int column = columns.ToList().FindIndex(c => string.Equals(c, name, StringComparison.OrdinalIgnoreCase));
            if (column < 0)
                throw new ArgumentException($"--where: {source} has no numeric column '{name}'; its columns are {string.Join(", ", columns)}.");
            if (!double.TryParse(match.Groups["value"].Value, NumberStyles.Float, CultureInfo.InvariantCulture, out double value))
                throw new ArgumentException($"--where: '{match.Groups["value"].Value}' in '{parts[p]}' is not a number.");
            parsed[p] = (column, match.Groups["op"].Value, value);
        }

        return new RowFilter(text, parsed);
    }

    public bool Accepts(IReadOnlyList<double> values) => conditions.All(c =>
    {
        double v = values[c.Column];
        return double.IsFinite(v) && c.Operator switch
        {
            ">" => v > c.Value,
            ">=" => v >= c.Value,
            "<" => v < c.Value,
            "<=" => v <= c.Value,
            "==" or "=" => v == c.Value,
            _ => v != c.Value,
        };
    });

    public override string ToString() => Text;

    [GeneratedRegex(@"^\s*(?<column>[A-Za-z_][\w.\-]*)\s*(?<op>>=|<=|==|!=|=|>|<)\s*(?<value>\S+)\s*$")]
    private static partial Regex Condition();
}
