using System.Numerics;

namespace SaGatSr.Kernels.Expressions;

/// <summary>Plain sample-by-sample stack interpreter: the reference the vectorised and compiled evaluators are tested against.</summary>
public static class ExprInterpreter
{
    /// <summary>Evaluates one program over all samples; <paramref name="columns"/> is [column][sample].</summary>
    public static void Evaluate<T>(ExprProgram program, ReadOnlySpan<T> constants, IReadOnlyList<T[]> columns, Span<T> output)
        where T : IFloatingPointIeee754<T>
    {
        var stack = new T[program.MaxStackDepth];
        var code = program.Code;
        for (int i = 0; i < output.Length; i++)
        {
            int top = 0;
            foreach (var instruction in code)
            {
                switch (instruction.Op)
                {
                    case ExprOpCode.Column:
                        stack[top++] = columns[instruction.Operand][i];
                        break;
                    case ExprOpCode.Constant:
                        stack[top++] = constants[instruction.Operand];
                        break;
                    case ExprOpCode.Add or ExprOpCode.Sub or ExprOpCode.Mul or ExprOpCode.Div or ExprOpCode.AbsDiff:
                        top--;
                        stack[top - 1] = ExprSemantics.Binary(instruction.Op, stack[top - 1], stack[top]);
                        break;
                    default:
                        stack[top - 1] = ExprSemantics.Unary(instruction.Op, stack[top - 1]);
                        break;
                }
            }

            output[i] = stack[0];
        }
    }
}
