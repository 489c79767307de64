using System.Reflection;
using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Backends;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.OpenCL;
using ILGPU.Backends.PTX;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;
using ILGPU.Runtime.OpenCL;
using SaGatSr.Kernels.Gpu;

namespace SaGatSr.Tests.Kernels;

/// <summary>
/// Compiles every ILGPU kernel for CUDA (PTX) and OpenCL C without a device, so kernels that only the CPU
/// accelerator can run (unsupported intrinsics, managed calls) are caught on machines without a GPU.
/// </summary>
public sealed class KernelCompilationTests
{
    private static IEnumerable<TestCaseData> Kernels() =>
        IlgpuKernels.All.Select(kernel => new TestCaseData(kernel.Name).SetName($"{{m}}({kernel.Name})"));

    private static EntryPointDescription EntryPoint(string name)
    {
        var kernel = IlgpuKernels.All.Single(k => k.Name == name);
        return IlgpuKernels.IsExplicitlyGrouped(kernel)
            ? EntryPointDescription.FromExplicitlyGroupedKernel(kernel)
            : EntryPointDescription.FromImplicitlyGroupedKernel(kernel);
    }

    private static Context CreateContext() => Context.Create(b => b.EnableAlgorithms().Math(MathMode.Default));

    [Test]
    public void EveryBackendKernelIsListed()
    {
        Assert.That(IlgpuKernels.All, Has.Count.GreaterThanOrEqualTo(20));
        Assert.That(IlgpuKernels.All.Select(k => k.Name), Does.Contain(nameof(IlgpuKernels.MatMulGroupedKernel)));
        Assert.That(IlgpuKernels.All.Count(IlgpuKernels.IsExplicitlyGrouped), Is.EqualTo(2));
    }

    [TestCaseSource(nameof(Kernels))]
    public void CompilesToPtx(string name)
    {
        using var context = CreateContext();
        using var backend = new PTXBackend(context, new CudaCapabilityContext(CudaArchitecture.SM_70), CudaArchitecture.SM_70,
            CudaInstructionSet.ISA_70, nvvmAPI: null);
        var compiled = (PTXCompiledKernel)backend.Compile(EntryPoint(name), default);
        Assert.That(compiled.PTXAssembly, Does.Contain(".entry").And.Contain(compiled.Name));
        if (IlgpuKernels.IsExplicitlyGrouped(IlgpuKernels.All.Single(k => k.Name == name)))
            Assert.That(compiled.PTXAssembly, Does.Contain(".shared").And.Contain("bar.sync"));
        if (name == nameof(IlgpuKernels.ScatterAddRowsKernel))
            Assert.That(compiled.PTXAssembly, Does.Contain("atom.").Or.Contain("red."));
    }

    [TestCaseSource(nameof(Kernels))]
    public void CompilesToOpenClC(string name)
    {
        using var context = CreateContext();
        // Every capability on: code generation only, no device is asked what it supports.
        var constructor = typeof(CLCapabilityContext).GetConstructors().Single(c => c.GetParameters().All(p => p.ParameterType == typeof(bool)));
        var capabilities = (CLCapabilityContext)constructor.Invoke(constructor.GetParameters().Select(_ => (object)true).ToArray());
        using var backend = new CLBackend(context, capabilities, CLDeviceVendor.Other, CLCVersion.CL20);
        var compiled = (CLCompiledKernel)backend.Compile(EntryPoint(name), default);
        Assert.That(compiled.Source, Does.Contain("kernel").And.Contain(compiled.Name));
    }
}
