using System.Globalization;
using SaGatSr.Kernels.Expressions;

namespace SaGatSr.Symbolic;

/// <summary>
/// A physical dimension as base-symbol exponents, e.g. "eV", "m^2 s^-1", "kg*m/s^2" is not supported (no '/'):
/// write "kg m s^-2". "1" or "" is dimensionless. Used by SISSO to skip dimensionally invalid features.
/// </summary>
public sealed class Unit : IEquatable<Unit>
{
    private readonly SortedDictionary<string, double> exponents;

    public static readonly Unit Dimensionless = new(new SortedDictionary<string, double>(StringComparer.Ordinal));

    private Unit(SortedDictionary<string, double> exponents) => this.exponents = exponents;

    public bool IsDimensionless => exponents.Count == 0;

    public static Unit Parse(string text)
    {
        var result = new SortedDictionary<string, double>(StringComparer.Ordinal);
        foreach (var token in text.Split([' ', '*', '·'], StringSplitOptions.RemoveEmptyEntries))
        {
            if (token == "1") continue;
            var parts = token.Split('^');
            double power = 1;
            if (parts.Length > 2 || parts[0].Length == 0 || !char.IsLetter(parts[0][0])
                || (parts.Length == 2 && !double.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out power)))
                throw new FormatException($"Cannot parse unit '{text}': expected symbols with optional integer powers, e.g. 'm^2 s^-1'.");
            Add(result, parts[0], power);
        }

        return new Unit(result);
    }

    private static void Add(SortedDictionary<string, double> into, string symbol, double power)
    {
        double total = into.GetValueOrDefault(symbol) + power;
        if (Math.Abs(total) < 1e-9) into.Remove(symbol); else into[symbol] = total;
    }

    public Unit Times(Unit other, double otherPower = 1)
    {
        var result = new SortedDictionary<string, double>(exponents, StringComparer.Ordinal);
        foreach (var (symbol, power) in other.exponents) Add(result, symbol, power * otherPower);
        return new Unit(result);
    }

    public Unit Pow(double power) => Dimensionless.Times(this, power);

    /// <summary>Unit of the result, or null when the operation is dimensionally invalid.</summary>
    public static Unit? Apply(ExprOpCode op, Unit a, Unit? b = null) => op switch
    {
        ExprOpCode.Add or ExprOpCode.Sub or ExprOpCode.AbsDiff => a.Equals(b) ? a : null,
        ExprOpCode.Mul => a.Times(b!),
        ExprOpCode.Div => a.Times(b!, -1),
        ExprOpCode.Exp or ExprOpCode.Log => a.IsDimensionless ? a : null,
        ExprOpCode.Sqrt => a.Pow(0.5),
        ExprOpCode.Cbrt => a.Pow(1.0 / 3),
        ExprOpCode.Inverse => a.Pow(-1),
        ExprOpCode.Square => a.Pow(2),
        ExprOpCode.Cube => a.Pow(3),
        _ => a,
    };

    public bool Equals(Unit? other) => other is not null && exponents.Count == other.exponents.Count
        && exponents.All(p => other.exponents.TryGetValue(p.Key, out var q) && Math.Abs(p.Value - q) < 1e-9);
    public override bool Equals(object? obj) => Equals(obj as Unit);
    public override int GetHashCode() => ToString().GetHashCode();

    public override string ToString() => IsDimensionless ? "1" :
        string.Join(' ', exponents.Select(p => p.Value == 1 ? p.Key : $"{p.Key}^{Math.Round(p.Value, 6).ToString(CultureInfo.InvariantCulture)}"));
}
