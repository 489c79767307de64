using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime.CPU;
using SaGatSr.Kernels;
using SaGatSr.Kernels.Gpu;

namespace SaGatSr.Tests.Kernels;

public sealed class IlgpuBackendTests
{
    /// <summary>
    /// The default ILGPU CPU device only fits the 4x4-tile matmul; an emulated device with 256-thread groups
    /// runs the 16x16-tile kernel that GPUs use, so its indexing is checked without a GPU.
    /// </summary>
    [Test]
    public void SixteenBySixteenTileMatMulMatchesReference([Values] bool transposeA, [Values] bool transposeB)
    {
        var context = Context.Create(b => b.CPU(CPUDevice.AMD).EnableAlgorithms());
        using var backend = new IlgpuBackend(context, context.CreateCPUAccelerator(0), DeviceKind.IlgpuCpu);
        int seed = TestContext.CurrentContext.Random.Next();
        TestContext.Out.WriteLine($"random seed {seed}");
        using var h = new Harness(backend, seed);
        const int m = 19, n = 35, k = 21;
        var a = h.Tensor(m * k);
        var b = h.Tensor(k * n);
        var c = h.Tensor(m * n);
        h.CheckLinear((be, v) => be.MatMul(v.B(a), v.B(b), v.B(c), m, n, k, transposeA, transposeB, beta: 1f), c);
    }

    [Test]
    public void NameSaysWhichAcceleratorRuns()
    {
        using var backend = Devices.Create("ilgpu-cpu");
        Assert.That(backend.Name, Does.StartWith("ilgpu-cpu: "));
    }
}
