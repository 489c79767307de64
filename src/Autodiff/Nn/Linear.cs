using SaGatSr.Kernels;

namespace SaGatSr.Autodiff;

/// <summary>y = x W + b with W [in, out] Glorot-uniform and b zero.</summary>
public sealed class Linear : Module
{
    public Linear(IComputeBackend backend, int inFeatures, int outFeatures, Random rng, bool bias = true)
    {
        if (inFeatures <= 0 || outFeatures <= 0)
            throw new ArgumentException($"Linear needs positive sizes, got {inFeatures} -> {outFeatures}.");
        InFeatures = inFeatures;
        OutFeatures = outFeatures;
        Weight = AddParameter("weight",
            Tensor.Parameter(backend, Init.GlorotUniform(rng, inFeatures, outFeatures, inFeatures * outFeatures), inFeatures, outFeatures));
        if (bias) Bias = AddParameter("bias", Tensor.Parameter(backend, new float[outFeatures], outFeatures));
    }

    public int InFeatures { get; }

    public int OutFeatures { get; }

    public Tensor Weight { get; }

    public Tensor? Bias { get; }

    public Tensor Forward(Tensor x) => Ops.Linear(x, Weight, Bias);
}
