using SaGatSr.Kernels;

namespace SaGatSr.Autodiff;

public static partial class Ops
{
    /// <summary>
    /// Each scalar x[i, f] through its feature's own affine map and an activation:
    /// y[i*F + f, :] = act(x[i, f] * weights[f, :] + biases[f, :]) for x [N, F], weights and biases [F, H] -> [N*F, H]
    /// (rows grouped by i). One fused kernel each way: no gathered weight copies and no scatter in the backward pass.
    /// </summary>
    public static Tensor FeatureProjection(Tensor x, Tensor weights, Tensor biases, UnaryOp activation, float alpha = 0f)
    {
        const string operation = nameof(FeatureProjection);
        var backend = SameBackend(operation, x, weights, biases);
        int rows = x.Rows, features = x.Cols, cols = weights.Cols;
        if (weights.Rows != features)
            throw new ArgumentException($"{operation}: input {x.Describe()} has {features} features but weights {weights.Describe()} have {weights.Rows} rows.");
        SameShape(operation, weights, biases);
        var y = Tensor.Create(backend, checked(rows * features), cols);
        backend.FeatureProjection(activation, x.Data, weights.Data, biases.Data, y.Data, rows, features, cols, alpha);
        Autograd.Record(y, [x, weights, biases], dy =>
        {
            bool freshX = false;
            var inputGrad = x.RequiresGrad ? x.GradBuffer(out freshX) : null;
            var weightGrad = weights.RequiresGrad ? weights.GradBuffer(out _) : null;
            var biasGrad = biases.RequiresGrad ? biases.GradBuffer(out _) : null;
            backend.FeatureProjectionBackward(activation, x.Data, weights.Data, biases.Data, y.Data, dy, inputGrad, weightGrad, biasGrad,
                rows, features, cols, alpha, accumulateX: !freshX);
        });
        return y;
    }

    /// <summary>
    /// The self-adaptable encoding as one fused op (<see cref="IComputeBackend.SaeEncode"/>): for x [N, F], weights and biases
    /// [F, H], scoreWeights [H, heads] and featureLogits [F * heads] (or null), returns the encoded atoms [N, H] and the
    /// coefficients [N * F, heads]. Both are differentiable; the per-feature projections are recomputed in the backward
    /// pass instead of being stored, so memory and traffic are those of the inputs and outputs only. x gets no gradient.
    /// </summary>
    public static (Tensor Encoded, Tensor Coefficients) SaeEncode(Tensor x, Tensor weights, Tensor biases, Tensor scoreWeights,
        Tensor? featureLogits, int heads, float temperature)
    {
        const string operation = nameof(SaeEncode);
        var backend = SameBackend(operation, x, weights, biases, scoreWeights, featureLogits);
        int rows = x.Rows, features = x.Cols, hidden = weights.Cols;
        if (x.RequiresGrad)
            throw new ArgumentException($"{operation}: the input {x.Describe()} requires a gradient, but the encoded features are data and get none.");
        if (weights.Rows != features)
            throw new ArgumentException($"{operation}: input {x.Describe()} has {features} features but weights {weights.Describe()} have {weights.Rows} rows.");
        SameShape(operation, weights, biases);
        if (scoreWeights.Rows != hidden || scoreWeights.Cols != heads)
            throw new ArgumentException($"{operation}: score weights {scoreWeights.Describe()} must be [{hidden}, {heads}].");
        if (featureLogits is not null && featureLogits.Length != features * heads)
            throw new ArgumentException($"{operation}: feature logits {featureLogits.Describe()} must hold {features} x {heads} values.");
        float inverseTemperature = 1f / temperature;
        var encoded = Tensor.Create(backend, rows, hidden);
        var coefficients = Tensor.Create(backend, checked(rows * features), heads);
        backend.SaeEncode(x.Data, weights.Data, biases.Data, scoreWeights.Data, featureLogits?.Data, encoded.Data, coefficients.Data,
            rows, features, hidden, heads, inverseTemperature);

        // One backward step serves both outputs. The coefficients' step runs first (they are recorded as depending on the
        // encoding, so everything downstream of them is done by then): it keeps their gradient for the encoding's step and
        // makes sure that step runs even when the loss reaches the encoder only through the coefficients.
        DeviceBuffer? coefficientGradient = null;
        Autograd.Record(encoded, [weights, biases, scoreWeights, featureLogits], dEncoded =>
        {
            backend.SaeEncodeBackward(x.Data, weights.Data, biases.Data, scoreWeights.Data, coefficients.Data, dEncoded, coefficientGradient,
                weights.RequiresGrad ? weights.GradBuffer(out _) : null, biases.RequiresGrad ? biases.GradBuffer(out _) : null,
                scoreWeights.RequiresGrad ? scoreWeights.GradBuffer(out _) : null,
                featureLogits is { RequiresGrad: true } ? featureLogits.GradBuffer(out _) : null,
                rows, features, hidden, heads, inverseTemperature);
            coefficientGradient?.Dispose();
            coefficientGradient = null;
        });
        Autograd.Record(coefficients, [encoded], dCoefficients =>
        {
            coefficientGradient = backend.Allocate(coefficients.Length);
            backend.Copy(dCoefficients, coefficientGradient);
            encoded.GradBuffer(out _);
        });
        return (encoded, coefficients);
    }
}

