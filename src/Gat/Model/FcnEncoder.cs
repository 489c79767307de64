using SaGatSr.Autodiff;
using SaGatSr.Kernels;

namespace SaGatSr.Gat.Model;

/// <summary>
/// A plain fully connected embedding of an atom's whole feature vector, h_0 = SiLU(x W + b): the baseline the SAE is
/// compared with (the paper's "FCN" embedding), and, on CGCNN's one-hot features, CGCNN's own linear atom embedding.
/// It mixes all features in one product, so it gives no per-feature importance.
/// </summary>
public sealed class FcnEncoder : Module
{
    private readonly Linear embed;

    public FcnEncoder(IComputeBackend backend, int featureCount, int hidden, Random rng)
    {
        embed = AddModule("embed", new Linear(backend, featureCount, hidden, rng));
    }

    /// <returns>h_0 [atoms, hidden].</returns>
    public Tensor Forward(DeviceGraphBatch batch) => Ops.Silu(embed.Forward(batch.AtomFeatures));
}
