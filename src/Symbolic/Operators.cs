using SaGatSr.Kernels.Expressions;

namespace SaGatSr.Symbolic;

internal static class Operators
{
    public static ExprOpCode Parse(string name) => name switch
    {
        "+" => ExprOpCode.Add,
        "-" => ExprOpCode.Sub,
        "*" => ExprOpCode.Mul,
        "/" => ExprOpCode.Div,
        "exp" => ExprOpCode.Exp,
        "log" => ExprOpCode.Log,
        "sqrt" => ExprOpCode.Sqrt,
        "cbrt" => ExprOpCode.Cbrt,
        "^-1" => ExprOpCode.Inverse,
        "^2" => ExprOpCode.Square,
        "^3" => ExprOpCode.Cube,
        "|a-b|" => ExprOpCode.AbsDiff,
        "abs" => ExprOpCode.Abs,
        "neg" => ExprOpCode.Neg,
        _ => throw new ArgumentException($"Unknown operator '{name}'."),
    };

    /// <summary>The name <see cref="Parse"/> reads.</summary>
    public static string Name(ExprOpCode op) => op switch
    {
        ExprOpCode.Add => "+", ExprOpCode.Sub => "-", ExprOpCode.Mul => "*", ExprOpCode.Div => "/", ExprOpCode.Exp => "exp",
        ExprOpCode.Log => "log", ExprOpCode.Sqrt => "sqrt", ExprOpCode.Cbrt => "cbrt", ExprOpCode.Inverse => "^-1",
        ExprOpCode.Square => "^2", ExprOpCode.Cube => "^3", ExprOpCode.AbsDiff => "|a-b|", ExprOpCode.Abs => "abs", ExprOpCode.Neg => "neg",
        _ => throw new ArgumentOutOfRangeException(nameof(op), op, "not an operator"),
    };

    public static (ExprOpCode[] Unary, ExprOpCode[] Binary) Split(IEnumerable<string> names)
    {
        var ops = names.Select(Parse).Distinct().ToArray();
        return (ops.Where(o => ExprSemantics.Arity(o) == 1).ToArray(), ops.Where(o => ExprSemantics.Arity(o) == 2).ToArray());
    }

    /// <summary>Unary compositions that undo or trivially repeat each other and only add duplicates.</summary>
    public static bool IsRedundant(ExprOpCode outer, Expr inner) => (outer, inner.Op) switch
    {
        (ExprOpCode.Exp, ExprOpCode.Log) or (ExprOpCode.Log, ExprOpCode.Exp) => true,
        (ExprOpCode.Sqrt, ExprOpCode.Square) or (ExprOpCode.Square, ExprOpCode.Sqrt) => true,
        (ExprOpCode.Cbrt, ExprOpCode.Cube) or (ExprOpCode.Cube, ExprOpCode.Cbrt) => true,
        (ExprOpCode.Inverse, ExprOpCode.Inverse) or (ExprOpCode.Neg, ExprOpCode.Neg) or (ExprOpCode.Abs, ExprOpCode.Abs) => true,
        (ExprOpCode.Neg, _) => true, // a sign never changes a linear model's span
        _ => false,
    };
}
