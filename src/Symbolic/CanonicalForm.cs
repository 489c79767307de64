using System.Globalization;
using SaGatSr.Kernels.Expressions;

namespace SaGatSr.Symbolic;

/// <summary>
/// Expands an expression into a sum of coefficient x monomial terms (products of atoms with real powers), so that
/// e.g. a/b and a*b^-1, or c^2 and c*c, compare equal. Non-algebraic functions stay opaque atoms over the canonical
/// form of their argument. Used to test symbolic equivalence of recovered formulas.
/// </summary>
public static class CanonicalForm
{
    /// <summary>Monomial key ("1" for the constant term) to coefficient.</summary>
    public static IReadOnlyDictionary<string, double> Terms(Expr e, Func<int, string>? name = null)
    {
        var terms = Expand(e, name ?? (i => $"x{i}"));
        return terms.Where(t => t.Value != 0).ToDictionary(t => Key(t.Key), t => t.Value);
    }

    /// <summary>The expanded sum as text, constant term first, e.g. "0.3 + 2.5*a*b^-1 - 1.2*c^2".</summary>
    public static string Simplified(Expr e, Func<int, string>? name = null)
    {
        var terms = Terms(e, name).Where(t => t.Value != 0).OrderBy(t => t.Key == "1" ? 0 : 1).ThenBy(t => t.Key, StringComparer.Ordinal).ToList();
        if (terms.Count == 0) return "0";
        var sb = new System.Text.StringBuilder();
        foreach (var (key, value) in terms)
        {
            string magnitude = Math.Abs(value).ToString("G6", CultureInfo.InvariantCulture);
            sb.Append(sb.Length == 0 ? (value < 0 ? "-" : "") : (value < 0 ? " - " : " + "));
            sb.Append(key == "1" ? magnitude : magnitude == "1" ? key : $"{magnitude}*{key}");
        }

        return sb.ToString();
    }

    /// <summary>Canonical text of the structure with coefficients removed.</summary>
    public static string Structure(Expr e, Func<int, string>? name = null) =>
        string.Join(" + ", Terms(e, name).Keys.Order(StringComparer.Ordinal));

    private sealed class Monomial(SortedDictionary<string, double> powers) : IEquatable<Monomial>
    {
        public SortedDictionary<string, double> Powers { get; } = powers;
        public bool Equals(Monomial? other) => other is not null && Key(this) == Key(other);
        public override bool Equals(object? obj) => Equals(obj as Monomial);
        public override int GetHashCode() => Key(this).GetHashCode();
    }

    private static string Key(Monomial m) => m.Powers.Count == 0
        ? "1"
        : string.Join("*", m.Powers.Select(p => p.Value == 1 ? p.Key : $"{p.Key}^{p.Value.ToString("R", CultureInfo.InvariantCulture)}"));

    private static Monomial One => new(new SortedDictionary<string, double>(StringComparer.Ordinal));

    private static Dictionary<Monomial, double> Single(Monomial m, double c) => new() { [m] = c };

    private static Dictionary<Monomial, double> Expand(Expr e, Func<int, string> name)
    {
        switch (e.Op)
        {
            case ExprOpCode.Constant: return Single(One, e.Value);
            case ExprOpCode.Column: return Atom(name(e.Feature));
            case ExprOpCode.Add: return Sum(Expand(e.Left!, name), Expand(e.Right!, name), 1);
            case ExprOpCode.Sub: return Sum(Expand(e.Left!, name), Expand(e.Right!, name), -1);
            case ExprOpCode.Neg: return Scale(Expand(e.Left!, name), -1);
            case ExprOpCode.Mul: return Product(Expand(e.Left!, name), Expand(e.Right!, name));
            case ExprOpCode.Div: return Product(Expand(e.Left!, name), Power(Expand(e.Right!, name), -1, name));
            case ExprOpCode.Inverse: return Power(Expand(e.Left!, name), -1, name);
            case ExprOpCode.Square: return Power(Expand(e.Left!, name), 2, name);
            case ExprOpCode.Cube: return Power(Expand(e.Left!, name), 3, name);
            case ExprOpCode.Sqrt: return Power(Expand(e.Left!, name), 0.5, name);
            case ExprOpCode.Cbrt: return Power(Expand(e.Left!, name), 1.0 / 3, name);
            case ExprOpCode.AbsDiff:
                return Atom($"abs({Text(Sum(Expand(e.Left!, name), Expand(e.Right!, name), -1))})");
            default:
                return Atom($"{e.Op.ToString().ToLowerInvariant()}({Text(Expand(e.Left!, name))})");
        }
    }

    private static string Text(Dictionary<Monomial, double> terms) =>
        string.Join(" + ", terms.Where(t => t.Value != 0).OrderBy(t => Key(t.Key), StringComparer.Ordinal)
            .Select(t => $"{t.Value.ToString("G12", CultureInfo.InvariantCulture)}*{Key(t.Key)}"));

    private static Dictionary<Monomial, double> Atom(string atom)
    {
        var m = One;
        m.Powers[atom] = 1;
        return Single(m, 1);
    }

    private static Dictionary<Monomial, double> Sum(Dictionary<Monomial, double> a, Dictionary<Monomial, double> b, double sign)
    {
        var result = new Dictionary<Monomial, double>(a);
        foreach (var (m, c) in b) result[m] = result.GetValueOrDefault(m) + sign * c;
        return result;
    }

    private static Dictionary<Monomial, double> Scale(Dictionary<Monomial, double> a, double s) => a.ToDictionary(t => t.Key, t => t.Value * s);

    private static Dictionary<Monomial, double> Product(Dictionary<Monomial, double> a, Dictionary<Monomial, double> b)
    {
        var result = new Dictionary<Monomial, double>();
        foreach (var (ma, ca) in a)
        foreach (var (mb, cb) in b)
        {
            var m = One;
            foreach (var (atom, p) in ma.Powers) m.Powers[atom] = p;
            foreach (var (atom, p) in mb.Powers)
            {
                double q = m.Powers.GetValueOrDefault(atom) + p;
                if (Math.Abs(q) < 1e-12) m.Powers.Remove(atom); else m.Powers[atom] = q;
            }

            result[m] = result.GetValueOrDefault(m) + ca * cb;
        }

        return result;
    }

    private static Dictionary<Monomial, double> Power(Dictionary<Monomial, double> a, double power, Func<int, string> name)
    {
        var nonZero = a.Where(t => t.Value != 0).ToList();
        if (nonZero.Count == 1 && (power == Math.Floor(power) || nonZero[0].Value > 0))
        {
            var (m, c) = nonZero[0];
            var result = One;
            foreach (var (atom, p) in m.Powers) result.Powers[atom] = p * power;
            return Single(result, Math.Pow(c, power));
        }

        if (power is 2 or 3) return power == 2 ? Product(a, a) : Product(Product(a, a), a);
        var atomic = One;
        atomic.Powers[$"({Text(a)})"] = power;
        return Single(atomic, 1);
    }
}
