using System.Numerics;
using System.Numerics.Tensors;

namespace SaGatSr.Kernels.Expressions;

/// <summary>
/// Evaluates a program one node at a time over all samples: each node is one vectorised pass
/// (TensorPrimitives / Vector&lt;T&gt;). Column pushes reference the column without copying.
/// </summary>
public sealed class SimdExprEvaluator<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly IReadOnlyList<T[]> columns;
    private readonly int samples;
    private T[][] scratch = [];

    public SimdExprEvaluator(IReadOnlyList<T[]> columns, int sampleCount)
    {
        foreach (var column in columns)
            if (column.Length != sampleCount) throw new ArgumentException($"Every column needs {sampleCount} samples; one has {column.Length}.");
        this.columns = columns;
        samples = sampleCount;
    }

    public int SampleCount => samples;

    /// <summary>Not thread-safe: use one instance per thread (they may share the columns).</summary>
    public void Evaluate(ExprProgram program, ReadOnlySpan<T> constants, Span<T> output)
    {
        if (output.Length != samples) throw new ArgumentException($"Output needs {samples} elements.");
        if (program.MaxColumn >= columns.Count) throw new ArgumentException($"Program reads column {program.MaxColumn} but only {columns.Count} are bound.");
        if (scratch.Length < program.MaxStackDepth)
        {
            var grown = new T[program.MaxStackDepth][];
            Array.Copy(scratch, grown, scratch.Length);
            for (int s = scratch.Length; s < grown.Length; s++) grown[s] = new T[samples];
            scratch = grown;
        }

        // Each stack position either references a data column or holds its value in scratch[position].
        Span<int> columnAt = stackalloc int[program.MaxStackDepth];
        int top = 0;
        foreach (var instruction in program.Code)
        {
            switch (instruction.Op)
            {
                case ExprOpCode.Column:
                    columnAt[top++] = instruction.Operand;
                    break;
                case ExprOpCode.Constant:
                    scratch[top].AsSpan().Fill(constants[instruction.Operand]);
                    columnAt[top++] = -1;
                    break;
                case ExprOpCode.Add or ExprOpCode.Sub or ExprOpCode.Mul or ExprOpCode.Div or ExprOpCode.AbsDiff:
                {
                    top--;
                    ReadOnlySpan<T> a = Operand(columnAt, top - 1), b = Operand(columnAt, top);
                    Binary(instruction.Op, a, b, scratch[top - 1]);
                    columnAt[top - 1] = -1;
                    break;
                }
                default:
                    Unary(instruction.Op, Operand(columnAt, top - 1), scratch[top - 1]);
                    columnAt[top - 1] = -1;
                    break;
            }
        }

        Operand(columnAt, 0).CopyTo(output);
    }

    private ReadOnlySpan<T> Operand(Span<int> columnAt, int position) =>
        columnAt[position] >= 0 ? columns[columnAt[position]] : scratch[position];

    /// <summary>One binary node over whole columns, with <see cref="ExprSemantics"/>' protected operations.</summary>
    public static void Binary(ExprOpCode op, ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> result)
    {
        switch (op)
        {
            case ExprOpCode.Add: TensorPrimitives.Add(a, b, result); break;
            case ExprOpCode.Sub: TensorPrimitives.Subtract(a, b, result); break;
            case ExprOpCode.Mul: TensorPrimitives.Multiply(a, b, result); break;
            case ExprOpCode.AbsDiff:
                TensorPrimitives.Subtract(a, b, result);
                TensorPrimitives.Abs(result, result);
                break;
            case ExprOpCode.Div: ProtectedDivide(a, b, result); break;
            default: throw new ArgumentOutOfRangeException(nameof(op), op, "not a binary op");
        }
    }

    /// <summary>One unary node over a whole column, with <see cref="ExprSemantics"/>' protected operations.</summary>
    public static void Unary(ExprOpCode op, ReadOnlySpan<T> x, Span<T> result)
    {
        switch (op)
        {
            case ExprOpCode.Neg: TensorPrimitives.Negate(x, result); break;
            case ExprOpCode.Exp: TensorPrimitives.Exp(x, result); break;
            case ExprOpCode.Log: ProtectedLog(x, result); break;
            case ExprOpCode.Sqrt: TensorPrimitives.Sqrt(x, result); break;
            case ExprOpCode.Cbrt: TensorPrimitives.Cbrt(x, result); break;
            case ExprOpCode.Inverse: ProtectedDivide(x, null, result); break;
            case ExprOpCode.Square: TensorPrimitives.Multiply(x, x, result); break;
            case ExprOpCode.Cube:
                // Stage x*x in result only when that cannot overwrite x itself.
                if (x.Overlaps(result))
                    for (int i = 0; i < x.Length; i++) result[i] = x[i] * x[i] * x[i];
                else
                {
                    TensorPrimitives.Multiply(x, x, result);
                    TensorPrimitives.Multiply(result, x, result);
                }
                break;
            case ExprOpCode.Abs: TensorPrimitives.Abs(x, result); break;
            default: throw new ArgumentOutOfRangeException(nameof(op), op, "not a unary op");
        }
    }

    /// <summary>a / b (or 1 / a when b is empty) with NaN for tiny divisors, vectorised.</summary>
    private static void ProtectedDivide(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> result)
    {
        bool reciprocal = b.IsEmpty;
        var epsilon = new Vector<T>(T.CreateTruncating(ExprSemantics.DivisionEpsilon));
        var nan = new Vector<T>(T.NaN);
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            for (; i <= a.Length - Vector<T>.Count; i += Vector<T>.Count)
            {
                var numerator = reciprocal ? Vector<T>.One : new Vector<T>(a.Slice(i));
                var divisor = new Vector<T>(reciprocal ? a.Slice(i) : b.Slice(i));
                var valid = Vector.GreaterThan(Vector.Abs(divisor), epsilon);
                Vector.ConditionalSelect(valid, numerator / divisor, nan).CopyTo(result.Slice(i));
            }
        }

        for (; i < a.Length; i++)
            result[i] = reciprocal ? ExprSemantics.Unary(ExprOpCode.Inverse, a[i]) : ExprSemantics.Binary(ExprOpCode.Div, a[i], b[i]);
    }

    private static void ProtectedLog(ReadOnlySpan<T> x, Span<T> result)
    {
        TensorPrimitives.Log(x, result);
        // IEEE gives NaN below 0 but -inf at 0; the contract is NaN for every x <= 0.
        var negativeInfinity = new Vector<T>(T.NegativeInfinity);
        var nan = new Vector<T>(T.NaN);
        int i = 0;
        if (Vector.IsHardwareAccelerated)
            for (; i <= result.Length - Vector<T>.Count; i += Vector<T>.Count)
            {
                var v = new Vector<T>(result.Slice(i));
                Vector.ConditionalSelect(Vector.Equals(v, negativeInfinity), nan, v).CopyTo(result.Slice(i));
            }

        for (; i < result.Length; i++)
            if (T.IsNegativeInfinity(result[i])) result[i] = T.NaN;
    }
}
