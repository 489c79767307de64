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
}
