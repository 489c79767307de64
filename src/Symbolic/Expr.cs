using System.Globalization;
using System.Text;
using SaGatSr.Kernels.Expressions;

namespace SaGatSr.Symbolic;

/// <summary>Immutable expression tree over feature indices; leaves are features or constants.</summary>
public sealed class Expr
{
    public ExprOpCode Op { get; }
    /// <summary>Feature index for <see cref="ExprOpCode.Column"/>.</summary>
    public int Feature { get; }
    /// <summary>Value for <see cref="ExprOpCode.Constant"/>.</summary>
    public double Value { get; }
    public Expr? Left { get; }
    public Expr? Right { get; }
    /// <summary>Number of nodes: the complexity measure used everywhere (PySR's default).</summary>
    public int Size { get; }

    private Expr(ExprOpCode op, int feature, double value, Expr? left, Expr? right)
    {
        Op = op;
        Feature = feature;
        Value = value;
        Left = left;
        Right = right;
        Size = 1 + (left?.Size ?? 0) + (right?.Size ?? 0);
    }

    public static Expr Var(int feature) => new(ExprOpCode.Column, feature, 0, null, null);
    public static Expr Const(double value) => new(ExprOpCode.Constant, 0, value, null, null);
    public static Expr Unary(ExprOpCode op, Expr x) =>
        ExprSemantics.Arity(op) == 1 ? new(op, 0, 0, x, null) : throw new ArgumentException($"{op} is not unary.");
    public static Expr Binary(ExprOpCode op, Expr a, Expr b) =>
        ExprSemantics.Arity(op) == 2 ? new(op, 0, 0, a, b) : throw new ArgumentException($"{op} is not binary.");

    public bool IsLeaf => Left is null;
    public Expr WithChildren(Expr left, Expr? right) => new(Op, Feature, Value, left, right);

    public IEnumerable<Expr> Nodes()
    {
        yield return this;
        if (Left is not null) foreach (var n in Left.Nodes()) yield return n;
        if (Right is not null) foreach (var n in Right.Nodes()) yield return n;
    }

    /// <summary>Postfix program plus constant values in slot order.</summary>
    public ExprProgram ToProgram(List<double> constants)
    {
        var code = new List<ExprInstruction>(Size);
        int first = constants.Count;
        Append(this, code, constants, first);
        return new ExprProgram(code);
    }

    private static void Append(Expr e, List<ExprInstruction> code, List<double> constants, int first)
    {
        if (e.Left is not null) Append(e.Left, code, constants, first);
        if (e.Right is not null) Append(e.Right, code, constants, first);
        switch (e.Op)
        {
            case ExprOpCode.Column: code.Add(ExprInstruction.Col(e.Feature)); break;
            case ExprOpCode.Constant:
                code.Add(ExprInstruction.Const(constants.Count - first));
                constants.Add(e.Value);
                break;
            default: code.Add(new ExprInstruction(e.Op)); break;
        }
    }

    /// <summary>Evaluates in float64 over columns [feature][sample].</summary>
    public double[] Evaluate(IReadOnlyList<double[]> columns, int sampleCount)
    {
        var constants = new List<double>();
        var program = ToProgram(constants);
        var result = new double[sampleCount];
        new SimdExprEvaluator<double>(columns, sampleCount).Evaluate(program, constants.ToArray(), result);
        return result;
    }

    /// <summary>Structural key with feature indices and constants; equal keys mean identical trees.</summary>
    public override string ToString() => ExprPrinter.Text(this, i => $"x{i}");
}

/// <summary>PreciseText is Text with round-trip constants.</summary>
internal enum Notation { Text, Latex, CSharp, PreciseText }

/// <summary>Infix printing with minimal parentheses in three notations.</summary>
public static class ExprPrinter
{
    public static string Text(Expr e, Func<int, string> name) => Print(e, name, Notation.Text);
    /// <summary>Text with every constant in round-trip precision, so the printed formula re-evaluates to the same values.</summary>
    public static string PreciseText(Expr e, Func<int, string> name) => Print(e, name, Notation.PreciseText);
    public static string Latex(Expr e, Func<int, string> name) => Print(e, name, Notation.Latex);
    public static string CSharp(Expr e, Func<int, string> name) => Print(e, name, Notation.CSharp);

    private static string Print(Expr e, Func<int, string> name, Notation notation)
    {
        var sb = new StringBuilder();
        Write(e, name, notation, sb, 0);
        return sb.ToString();
    }

    private static int Precedence(Expr e) => e.Op switch
    {
        ExprOpCode.Add or ExprOpCode.Sub => 1,
        ExprOpCode.Mul or ExprOpCode.Div => 2,
        ExprOpCode.Neg => 3,
        ExprOpCode.Square or ExprOpCode.Cube or ExprOpCode.Inverse => 4,
        ExprOpCode.Constant when e.Value < 0 => 3,
        _ => 5,
    };

    internal static string Number(double v, Notation notation)
    {
        // Generated code and precise text carry every digit; text and LaTeX for reading carry six.
        string s = v.ToString(notation is Notation.CSharp or Notation.PreciseText ? "R" : "G6", CultureInfo.InvariantCulture);
        if (notation == Notation.Latex && s.Contains('E'))
        {
            var parts = s.Split('E');
            return $"{parts[0]} \\times 10^{{{int.Parse(parts[1], CultureInfo.InvariantCulture)}}}";
        }

        return notation == Notation.CSharp && !s.Contains('.') && !s.Contains('E') && !s.Contains('N') && !s.Contains('∞') ? s + ".0" : s;
    }

    private static void Write(Expr e, Func<int, string> name, Notation n, StringBuilder sb, int parent)
    {
        int p = Precedence(e);
        bool paren = p < parent;
        if (paren) sb.Append(n == Notation.Latex ? "\\left(" : "(");
        switch (e.Op)
        {
            case ExprOpCode.Column:
                string feature = name(e.Feature);
                sb.Append(n == Notation.Latex ? LatexName(feature) : n == Notation.CSharp ? CSharpName(feature) : feature);
                break;
            case ExprOpCode.Constant: sb.Append(Number(e.Value, n)); break;
            case ExprOpCode.Add or ExprOpCode.Sub:
            {
                Write(e.Left!, name, n, sb, 1);
                // "a + -2 * b" reads as "a - 2 * b": a leading negative coefficient flips the sign.
                var right = e.Right!;
                bool subtract = e.Op == ExprOpCode.Sub;
                if (right.Op == ExprOpCode.Constant && right.Value < 0)
                    (right, subtract) = (Expr.Const(-right.Value), !subtract);
                else if (right.Op == ExprOpCode.Mul && right.Left!.Op == ExprOpCode.Constant && right.Left.Value < 0)
                    (right, subtract) = (Expr.Binary(ExprOpCode.Mul, Expr.Const(-right.Left.Value), right.Right!), !subtract);
                sb.Append(subtract ? " - " : " + ");
                Write(right, name, n, sb, 2);
                break;
            }
            case ExprOpCode.Mul:
                Write(e.Left!, name, n, sb, 2);
                sb.Append(n == Notation.Latex ? " \\cdot " : " * ");
                // c * (a / b) equals c * a / b, so a quotient on the right needs no parentheses.
                Write(e.Right!, name, n, sb, e.Right!.Op == ExprOpCode.Div ? 2 : 3);
                break;
            case ExprOpCode.Div:
                if (n == Notation.Latex)
                {
                    sb.Append("\\frac{");
                    Write(e.Left!, name, n, sb, 0);
                    sb.Append("}{");
                    Write(e.Right!, name, n, sb, 0);
                    sb.Append('}');
                }
                else
                {
                    Write(e.Left!, name, n, sb, 2);
                    sb.Append(" / ");
                    Write(e.Right!, name, n, sb, 3);
                }
                break;
            case ExprOpCode.AbsDiff:
                sb.Append(n switch { Notation.Latex => "\\left|", Notation.CSharp => "Math.Abs(", _ => "|" });
                Write(e.Left!, name, n, sb, 1);
                sb.Append(" - ");
                Write(e.Right!, name, n, sb, 2);
                sb.Append(n switch { Notation.Latex => "\\right|", Notation.CSharp => ")", _ => "|" });
                break;
            case ExprOpCode.Neg:
                sb.Append('-');
                Write(e.Left!, name, n, sb, 4);
                break;
            case ExprOpCode.Square or ExprOpCode.Cube or ExprOpCode.Inverse when n != Notation.CSharp:
                Write(e.Left!, name, n, sb, 5);
                string power = e.Op switch { ExprOpCode.Square => "2", ExprOpCode.Cube => "3", _ => "-1" };
                sb.Append(n == Notation.Latex ? $"^{{{power}}}" : $"^{power}");
                break;
            default:
                WriteCall(e, name, n, sb);
                break;
        }

        if (paren) sb.Append(n == Notation.Latex ? "\\right)" : ")");
    }

    private static void WriteCall(Expr e, Func<int, string> name, Notation n, StringBuilder sb)
    {
        (string open, string close) = (n, e.Op) switch
        {
            (Notation.Latex, ExprOpCode.Sqrt) => ("\\sqrt{", "}"),
            (Notation.Latex, ExprOpCode.Cbrt) => ("\\sqrt[3]{", "}"),
            (Notation.Latex, ExprOpCode.Exp) => ("\\exp\\left(", "\\right)"),
            (Notation.Latex, ExprOpCode.Log) => ("\\ln\\left(", "\\right)"),
            (Notation.Latex, ExprOpCode.Abs) => ("\\left|", "\\right|"),
            (Notation.CSharp, ExprOpCode.Square) => ("Sq(", ")"),
            (Notation.CSharp, ExprOpCode.Cube) => ("Cube(", ")"),
            (Notation.CSharp, ExprOpCode.Inverse) => ("Inv(", ")"),
            (Notation.CSharp, _) => ($"Math.{e.Op}(", ")"),
            _ => ($"{e.Op.ToString().ToLowerInvariant()}(", ")"),
        };
        sb.Append(open);
        Write(e.Left!, name, n, sb, 0);
        sb.Append(close);
    }

    private static string LatexName(string name)
    {
        var escaped = name.Replace("\\", "\\\\").Replace("_", "\\_").Replace("%", "\\%").Replace("&", "\\&").Replace("#", "\\#");
        return name.Length == 1 ? escaped : $"\\mathrm{{{escaped}}}";
    }

    internal static string CSharpName(string name)
    {
        var sb = new StringBuilder();
        foreach (char c in name) sb.Append(char.IsLetterOrDigit(c) || c == '_' ? c : '_');
        if (sb.Length == 0 || char.IsDigit(sb[0])) sb.Insert(0, '_');
        return "@" + sb;
    }
}
