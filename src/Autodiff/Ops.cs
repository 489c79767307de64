using SaGatSr.Kernels;

namespace SaGatSr.Autodiff;

/// <summary>
/// Differentiable ops. Each runs its forward kernels at once, and, under a recording tape with an input that
/// requires a gradient, records how to push the output's gradient back. Every result is a new tensor owned by the
/// current tape (or by the caller when there is none).
/// </summary>
public static partial class Ops
{
    /// <summary>op(a)[m,k] x op(b)[k,n] -> [m,n], with each operand seen as its Rows x Cols matrix.</summary>
    public static Tensor MatMul(Tensor a, Tensor b, bool transposeA = false, bool transposeB = false)
    {
        var backend = SameBackend(nameof(MatMul), a, b);
        int m = transposeA ? a.Cols : a.Rows, k = transposeA ? a.Rows : a.Cols;
        int kOfB = transposeB ? b.Cols : b.Rows, n = transposeB ? b.Rows : b.Cols;
        if (k != kOfB)
            throw new ArgumentException(
                $"MatMul: inner dimensions differ: {a.Describe()}{(transposeA ? "ᵀ" : "")} x {b.Describe()}{(transposeB ? "ᵀ" : "")} ({k} vs {kOfB}).");
        var c = Tensor.Create(backend, m, n);
        backend.MatMul(a.Data, b.Data, c.Data, m, n, k, transposeA, transposeB);
        Autograd.Record(c, [a, b], dc =>
        {
            // dA = dC op(B)^T (stored transposed when transposeA); dB = op(A)^T dC (likewise).
            if (a.RequiresGrad)
            {
                var grad = a.GradBuffer(out bool fresh);
                if (!transposeA) backend.MatMul(dc, b.Data, grad, m, k, n, false, !transposeB, fresh ? 0f : 1f);
                else backend.MatMul(b.Data, dc, grad, k, m, n, transposeB, true, fresh ? 0f : 1f);
            }

            if (b.RequiresGrad)
            {
                var grad = b.GradBuffer(out bool fresh);
                if (!transposeB) backend.MatMul(a.Data, dc, grad, k, n, m, !transposeA, false, fresh ? 0f : 1f);
                else backend.MatMul(dc, a.Data, grad, n, k, m, true, transposeA, fresh ? 0f : 1f);
            }
        });
        return c;
    }

    /// <summary>x[.., in] * weight[in, out] + bias[out] -> [.., out].</summary>
    public static Tensor Linear(Tensor x, Tensor weight, Tensor? bias)
    {
        var backend = SameBackend(nameof(Linear), x, weight, bias);
        int m = x.Rows, inFeatures = x.Cols, outFeatures = weight.Cols;
        if (weight.Rows != inFeatures)
            throw new ArgumentException($"Linear: input {x.Describe()} has {inFeatures} features but weight {weight.Describe()} expects {weight.Rows}.");
        if (bias is not null && bias.Length != outFeatures)
            throw new ArgumentException($"Linear: bias {bias.Describe()} must have {outFeatures} elements (weight {weight.Describe()}).");
        var y = Tensor.Create(backend, [.. x.Shape[..^1], outFeatures]);
        if (bias is null)
        {
            backend.MatMul(x.Data, weight.Data, y.Data, m, outFeatures, inFeatures);
        }
        else
        {
            using var product = backend.Allocate(y.Length);
            backend.MatMul(x.Data, weight.Data, product, m, outFeatures, inFeatures);
            backend.BroadcastRow(BinaryOp.Add, product, bias.Data, y.Data, m, outFeatures);
        }

        Autograd.Record(y, [x, weight, bias], dy =>
        {
            if (x.RequiresGrad)
            {
                var grad = x.GradBuffer(out bool fresh);
                backend.MatMul(dy, weight.Data, grad, m, inFeatures, outFeatures, false, true, fresh ? 0f : 1f);
            }

            if (weight.RequiresGrad)
            {
                var grad = weight.GradBuffer(out bool fresh);
                backend.MatMul(x.Data, dy, grad, inFeatures, outFeatures, m, true, false, fresh ? 0f : 1f);
            }

            if (bias is { RequiresGrad: true })
            {
                var grad = bias.GradBuffer(out bool fresh);
                backend.SumColumns(dy, grad, m, outFeatures, accumulate: !fresh);
            }
        });
        return y;
    }

    /// <summary>The tensors' common backend; every tensor must be alive and on it.</summary>
    private static IComputeBackend SameBackend(string operation, Tensor first, params Tensor?[] others)
    {
        first.EnsureAlive();
        foreach (var other in others)
        {
            if (other is null) continue;
            other.EnsureAlive();
            if (!ReferenceEquals(other.Backend, first.Backend))
                throw new ArgumentException($"{operation}: {first.Describe()} and {other.Describe()} live on different backends ({first.Backend.Name} vs {other.Backend.Name}).");
        }

        return first.Backend;
    }

    private static void CheckBackend(string operation, IComputeBackend backend, IndexTensor index)
    {
        if (!ReferenceEquals(index.Backend, backend))
            throw new ArgumentException($"{operation}: the index tensor lives on {index.Backend.Name}, the data on {backend.Name}.");
    }

    private static void CheckBackend(string operation, IComputeBackend backend, Segments segments) =>
        CheckBackend(operation, backend, segments.Offsets);

    private static void SameShape(string operation, Tensor a, Tensor b)
    {
        if (!a.Shape.AsSpan().SequenceEqual(b.Shape))
            throw new ArgumentException($"{operation}: shapes differ: {a.Describe()} vs {b.Describe()}.");
    }

    private static int[] WithCols(Tensor x, int cols) => [.. x.Shape[..^1], cols];
}
