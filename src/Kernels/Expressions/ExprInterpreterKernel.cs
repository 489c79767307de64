using ILGPU;

namespace SaGatSr.Kernels.Expressions;

/// <summary>How <see cref="IlgpuExprEvaluator"/> runs a batch.</summary>
public enum ExprKernelMode
{
    /// <summary>IL is emitted per batch structure and compiled once per structure: fastest per launch, but a new structure costs a compile.</summary>
    Emitted,
    /// <summary>One precompiled kernel interprets the programs as data: no compile per batch, for GP whose structures change every generation.</summary>
    Interpreted,
}

/// <summary>A bytecode interpreter kernel: one thread per (program, sample) pair.</summary>
internal static class ExprInterpreterKernel
{
    /// <summary>Deepest stack the interpreter kernel supports (local memory is sized at compile time).</summary>
    public const int MaxStack = 32;

    /// <summary>Op in the low 8 bits, operand (column index, or absolute constant index) above.</summary>
    public static int Encode(ExprInstruction instruction, int constantOffset) => instruction.Op switch
    {
        ExprOpCode.Constant => (int)instruction.Op | ((constantOffset + instruction.Operand) << 8),
        _ => (int)instruction.Op | (instruction.Operand << 8),
    };

    public static void Kernel(Index1D index, ArrayView<float> data, ArrayView<float> constants, ArrayView<int> code,
        ArrayView<int> programStarts, ArrayView<float> output, int samples)
    {
        int linear = index;
        int program = linear / samples;
        int sample = linear - program * samples;
        var stack = LocalMemory.Allocate<float>(MaxStack);
        int top = 0;
        int end = programStarts[program + 1];
        for (int pc = programStarts[program]; pc < end; pc++)
        {
            int word = code[pc];
            int op = word & 0xFF;
            int operand = word >> 8;
            if (op == (int)ExprOpCode.Column) stack[top++] = data[operand * samples + sample];
            else if (op == (int)ExprOpCode.Constant) stack[top++] = constants[operand];
            else if (op <= (int)ExprOpCode.AbsDiff)
            {
                top--;
                float a = stack[top - 1], b = stack[top];
                stack[top - 1] = op switch
                {
                    (int)ExprOpCode.Add => a + b,
                    (int)ExprOpCode.Sub => a - b,
                    (int)ExprOpCode.Mul => a * b,
                    (int)ExprOpCode.Div => ExprDeviceMath.Div(a, b),
                    _ => ExprDeviceMath.AbsDiff(a, b),
                };
            }
            else
            {
                float x = stack[top - 1];
                stack[top - 1] = op switch
                {
                    (int)ExprOpCode.Neg => -x,
                    (int)ExprOpCode.Exp => ExprDeviceMath.Exp(x),
                    (int)ExprOpCode.Log => ExprDeviceMath.Log(x),
                    (int)ExprOpCode.Sqrt => ExprDeviceMath.Sqrt(x),
                    (int)ExprOpCode.Cbrt => ExprDeviceMath.Cbrt(x),
                    (int)ExprOpCode.Inverse => ExprDeviceMath.Inverse(x),
                    (int)ExprOpCode.Square => x * x,
                    (int)ExprOpCode.Cube => x * x * x,
                    _ => ExprDeviceMath.Abs(x),
                };
            }
        }

        output[linear] = stack[0];
    }
}
