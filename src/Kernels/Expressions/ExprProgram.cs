using System.Numerics;

namespace SaGatSr.Kernels.Expressions;

/// <summary>Operations of a postfix expression program. Every op maps columns of samples to a column.</summary>
public enum ExprOpCode : byte
{
    /// <summary>Push data column <see cref="ExprInstruction.Operand"/>.</summary>
    Column,
    /// <summary>Push constant slot <see cref="ExprInstruction.Operand"/> of this program (slots are 0..n-1).</summary>
    Constant,
    Add,
    Sub,
    Mul,
    /// <summary>a / b; NaN where |b| &lt;= <see cref="ExprSemantics.DivisionEpsilon"/>.</summary>
    Div,
    /// <summary>|a - b|.</summary>
    AbsDiff,
    Neg,
    Exp,
    /// <summary>Natural log; NaN for x &lt;= 0.</summary>
    Log,
    /// <summary>NaN for x &lt; 0.</summary>
    Sqrt,
    /// <summary>Real cube root, defined for negative x.</summary>
    Cbrt,
    /// <summary>1 / x; NaN where |x| &lt;= <see cref="ExprSemantics.DivisionEpsilon"/>.</summary>
    Inverse,
    Square,
    Cube,
    Abs,
}

/// <summary>One postfix instruction; the operand is a column index or a constant slot, unused otherwise.</summary>
public readonly record struct ExprInstruction(ExprOpCode Op, int Operand = 0)
{
    public static ExprInstruction Col(int column) => new(ExprOpCode.Column, column);
    public static ExprInstruction Const(int slot) => new(ExprOpCode.Constant, slot);
}

/// <summary>
/// A validated postfix program. Constants are not part of it (only their slots), so programs that differ only in
/// constant values share one <see cref="StructureKey"/> and therefore one compiled kernel.
/// </summary>
public sealed class ExprProgram
{
    public ExprInstruction[] Code { get; }
    public int ConstantCount { get; }
    public int MaxStackDepth { get; }
    /// <summary>Largest column index read, or -1 when none.</summary>
    public int MaxColumn { get; }
    public string StructureKey { get; }

    public ExprProgram(IEnumerable<ExprInstruction> code)
    {
        Code = code.ToArray();
        if (Code.Length == 0) throw new ArgumentException("An expression program needs at least one instruction.");
        int depth = 0, maxDepth = 0, maxColumn = -1;
        var slots = new HashSet<int>();
        var key = new System.Text.StringBuilder(Code.Length * 3);
        foreach (var instruction in Code)
        {
            int arity = ExprSemantics.Arity(instruction.Op);
            if (depth < arity) throw new ArgumentException($"Malformed program: {instruction.Op} needs {arity} operands, stack holds {depth}.");
            switch (instruction.Op)
            {
                case ExprOpCode.Column:
                    if (instruction.Operand < 0) throw new ArgumentException("Negative column index.");
                    maxColumn = Math.Max(maxColumn, instruction.Operand);
                    key.Append('c').Append(instruction.Operand);
                    break;
                case ExprOpCode.Constant:
                    if (instruction.Operand < 0) throw new ArgumentException("Negative constant slot.");
                    slots.Add(instruction.Operand);
                    key.Append('k').Append(instruction.Operand);
                    break;
                default:
                    key.Append((char)('A' + (int)instruction.Op));
                    break;
            }

            depth += 1 - arity;
            maxDepth = Math.Max(maxDepth, depth);
        }

        if (depth != 1) throw new ArgumentException($"Malformed program: it leaves {depth} values on the stack instead of 1.");
        ConstantCount = slots.Count == 0 ? 0 : slots.Max() + 1;
        if (slots.Count != ConstantCount) throw new ArgumentException("Constant slots must be numbered 0..n-1 without gaps.");
        MaxStackDepth = maxDepth;
        MaxColumn = maxColumn;
        StructureKey = key.ToString();
    }

    public override string ToString() => string.Join(' ', Code.Select(c => c.Op switch
    {
        ExprOpCode.Column => $"x{c.Operand}",
        ExprOpCode.Constant => $"k{c.Operand}",
        _ => c.Op.ToString(),
    }));
}

/// <summary>Scalar semantics shared by every evaluator, so they agree on protected operations.</summary>
public static class ExprSemantics
{
    /// <summary>Divisors at or below this magnitude give NaN: such candidates are invalid, not huge.</summary>
    public const double DivisionEpsilon = 1e-12;

    public static int Arity(ExprOpCode op) => op switch
    {
        ExprOpCode.Column or ExprOpCode.Constant => 0,
        ExprOpCode.Add or ExprOpCode.Sub or ExprOpCode.Mul or ExprOpCode.Div or ExprOpCode.AbsDiff => 2,
        _ => 1,
    };

    public static T Unary<T>(ExprOpCode op, T x) where T : IFloatingPointIeee754<T> => op switch
    {
        ExprOpCode.Neg => -x,
        ExprOpCode.Exp => T.Exp(x),
        ExprOpCode.Log => x > T.Zero ? T.Log(x) : T.NaN,
        ExprOpCode.Sqrt => T.Sqrt(x),
        ExprOpCode.Cbrt => T.Cbrt(x),
        ExprOpCode.Inverse => T.Abs(x) > T.CreateTruncating(DivisionEpsilon) ? T.One / x : T.NaN,
        ExprOpCode.Square => x * x,
        ExprOpCode.Cube => x * x * x,
        ExprOpCode.Abs => T.Abs(x),
        _ => throw new ArgumentOutOfRangeException(nameof(op), op, "not a unary op"),
    };

    public static T Binary<T>(ExprOpCode op, T a, T b) where T : IFloatingPointIeee754<T> => op switch
    {
        ExprOpCode.Add => a + b,
        ExprOpCode.Sub => a - b,
        ExprOpCode.Mul => a * b,
        ExprOpCode.Div => T.Abs(b) > T.CreateTruncating(DivisionEpsilon) ? a / b : T.NaN,
        ExprOpCode.AbsDiff => T.Abs(a - b),
        _ => throw new ArgumentOutOfRangeException(nameof(op), op, "not a binary op"),
    };
}
