using SaGatSr.Kernels;

namespace SaGatSr.Autodiff;

public static partial class Ops
{
    /// <summary>Softmax over the columns of each row (e.g. feature-attention weights); any rank, over the last dimension.</summary>
    public static Tensor SoftmaxRows(Tensor x)
    {
        var backend = SameBackend(nameof(SoftmaxRows), x);
        // Each row is a segment of Cols one-column rows, so the segment-softmax kernels do the work.
        var rows = Segments.Uniform(backend, x.Rows, x.Cols);
        var column = x.Reshape(x.Length, 1);
        var probabilities = SegmentSoftmax(column, rows);
        var result = probabilities.Reshape(x.Shape);
        Autograd.DisposeWithTape(rows);
        Autograd.DisposeIntermediates(column, probabilities);
        return result;
    }

    /// <summary>x * s for a one-element tensor s (e.g. a learnable gate); both get gradients.</summary>
    public static Tensor MulScalar(Tensor x, Tensor scalar)
    {
        SameBackend(nameof(MulScalar), x, scalar);
        if (scalar.Length != 1) throw new ArgumentException($"MulScalar: {scalar.Describe()} must have exactly one element.");
        var column = x.Reshape(x.Length, 1);
        var product = MatMul(column, scalar);
        var result = product.Reshape(x.Shape);
        Autograd.DisposeIntermediates(column, product);
        return result;
    }

    /// <summary>
    /// Inverted dropout for training: each element is zeroed with probability <paramref name="rate"/> and the rest
    /// scaled by 1 / (1 - rate), so inference needs no rescaling (simply don't call it there).
    /// </summary>
    public static Tensor Dropout(Tensor x, float rate, Random rng)
    {
        var backend = SameBackend(nameof(Dropout), x);
        if (rate is < 0f or >= 1f) throw new ArgumentOutOfRangeException(nameof(rate), $"Dropout rate must be in [0, 1), got {rate}.");
        var maskValues = new float[x.Length];
        float keptScale = 1f / (1f - rate);
        for (int i = 0; i < maskValues.Length; i++) maskValues[i] = rng.NextDouble() < rate ? 0f : keptScale;
        var mask = backend.Allocate(x.Length);
        backend.Upload(mask, maskValues);
        var y = Tensor.Create(backend, x.Shape);
        backend.Binary(BinaryOp.Mul, x.Data, mask, y.Data);
        Autograd.Record(y, [x], dy => Autograd.AccumulateGrad(x, g => backend.Binary(BinaryOp.Mul, dy, mask, g)), mask);
        return y;
    }
}

public static partial class Ops
{
    /// <summary>
    /// Binary cross-entropy on logits, weighted per element and averaged over the weights -> [1]:
    /// sum_i w_i (softplus(z_i) - y_i z_i) / sum_i w_i. Softplus keeps it finite for any logit, where log(sigmoid(z))
    /// would underflow; the weights let a rare class count as much as a common one.
    /// </summary>
    /// <param name="weights">one positive weight per element (no gradient); null: all 1</param>
    public static Tensor BinaryCrossEntropyWithLogits(Tensor logits, Tensor target, Tensor? weights = null)
    {
        SameBackend(nameof(BinaryCrossEntropyWithLogits), logits, target);
        CheckLossShapes(nameof(BinaryCrossEntropyWithLogits), logits, target);
        if (weights is not null && weights.Length != logits.Length)
            throw new ArgumentException($"{nameof(BinaryCrossEntropyWithLogits)}: weights {weights.Describe()} and logits {logits.Describe()} differ in size.");
        var softplus = Softplus(logits);
        var agreement = Mul(target, logits);
        var perElement = Sub(softplus, agreement);
        if (weights is null)
        {
            var mean = Mean(perElement);
            Autograd.DisposeIntermediates(softplus, agreement, perElement);
            return mean;
        }

        // The normalising sum stays on the device: no copy to the host in every training step.
        var weighted = Mul(weights, perElement);
        var weightedTotal = Sum(weighted);
        var totalWeight = Sum(weights);
        var loss = Div(weightedTotal, totalWeight);
        Autograd.DisposeIntermediates(softplus, agreement, perElement, weighted, weightedTotal, totalWeight);
        return loss;
    }
}
