using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;
using ILGPU.Backends.OpenCL;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;
using ILGPU.Runtime.OpenCL;
using SaGatSr.Kernels.Cpu;
using SaGatSr.Kernels.Gpu;
using SaGatSr.Kernels.Reference;

namespace SaGatSr.Kernels;

/// <summary>Picks a compute backend from a device spec: auto|cuda|opencl|cpu|ilgpu-cpu|reference.</summary>
public static class Devices
{
    public const string EnvironmentVariable = "SAGATSR_DEVICE";

    public static readonly IReadOnlyList<string> Specs = ["auto", "cuda", "opencl", "cpu", "ilgpu-cpu", "reference"];

    /// <summary>
    /// Creates the backend for <paramref name="spec"/>; when null, from the SAGATSR_DEVICE environment variable,
    /// else "auto" (CUDA if present, else an OpenCL GPU if present, else the SIMD CPU backend).
    /// </summary>
    public static IComputeBackend Create(string? spec = null)
    {
        spec ??= Environment.GetEnvironmentVariable(EnvironmentVariable);
        string normalized = string.IsNullOrWhiteSpace(spec) ? "auto" : spec.Trim().ToLowerInvariant();
        return normalized switch
        {
            "cpu" => new SimdCpuBackend(),
            "reference" => new ReferenceBackend(),
            _ => CreateAccelerated(normalized, spec ?? "auto"),
        };
    }

    /// <summary>
    /// A backend for one of several models trained side by side on <paramref name="backend"/>'s device: on the CPU a
    /// one-thread SIMD backend, so each model has a core of its own; null elsewhere, where the models take turns on the
    /// one device.
    /// </summary>
    public static IComputeBackend? CreateSideBySide(IComputeBackend backend) =>
        backend is SimdCpuBackend && Environment.ProcessorCount > 1 ? new SimdCpuBackend(threads: 1) : null;

    private static IComputeBackend CreateAccelerated(string normalized, string spec)
    {
        switch (normalized)
        {
            case "ilgpu-cpu":
            {
                var context = CreateContext(b => b.CPU(CPUDevice.Default));
                return new IlgpuBackend(context, context.CreateCPUAccelerator(0), DeviceKind.IlgpuCpu);
            }
            case "cuda":
            case "opencl":
            case "auto":
            {
                var context = CreateContext(b => b.Cuda().OpenCL(IsUsableOpenClGpu));
                var cuda = context.Devices.FirstOrDefault(d => d.AcceleratorType == AcceleratorType.Cuda);
                var openCl = context.Devices.FirstOrDefault(d => d.AcceleratorType == AcceleratorType.OpenCL);
                var chosen = normalized switch { "cuda" => cuda, "opencl" => openCl, _ => cuda ?? openCl };
                if (chosen is null)
                {
                    context.Dispose();
                    if (normalized == "auto") return new SimdCpuBackend();
                    throw new InvalidOperationException(
                        $"Device '{spec}' is not available. Present: {string.Join("; ", Describe())}.");
                }

                var kind = chosen.AcceleratorType == AcceleratorType.Cuda ? DeviceKind.Cuda : DeviceKind.OpenCl;
                return new IlgpuBackend(context, chosen.CreateAccelerator(context), kind);
            }
            default:
                throw new ArgumentException($"Unknown device '{spec}'; expected one of: {string.Join(", ", Specs)}.", nameof(spec));
        }
    }

    /// <summary>ILGPU refuses OpenCL CPU devices (e.g. PoCL); only GPUs it supports are considered.</summary>
    private static bool IsUsableOpenClGpu(CLDevice device) =>
        device.DeviceType == CLDeviceType.CL_DEVICE_TYPE_GPU && device.CLStdVersion >= CLBackend.MinimumVersion &&
        device.Capabilities.GenericAddressSpace;

    private static Context CreateContext(Action<Context.Builder> accelerators)
    {
        GpuDriverLibraries.Register();
        return Context.Create(b =>
        {
            accelerators(b);
            b.EnableAlgorithms().Math(MathMode.Default);
        });
    }

    /// <summary>One line per device found, always including the host backends, for `sagatsr devices`.</summary>
    public static IReadOnlyList<string> Describe()
    {
        using var cpu = new SimdCpuBackend();
        var lines = new List<string> { cpu.Name, "reference: float64, single thread", "ilgpu-cpu: ILGPU CPU accelerator (emulated GPU threads)" };
        var refused = new List<string>();
        bool Usable(CLDevice device)
        {
            bool usable = IsUsableOpenClGpu(device);
            if (!usable && device.DeviceType == CLDeviceType.CL_DEVICE_TYPE_GPU)
                refused.Add($"opencl (not usable by ILGPU): {device.Name}, OpenCL C {device.CLStdVersion}, " +
                            $"generic address space {(device.Capabilities.GenericAddressSpace ? "yes" : "no")}");
            return usable;
        }

        try
        {
            using var context = CreateContext(b => b.Cuda().OpenCL(Usable));
            // The CPU accelerator is listed above as ilgpu-cpu; only real GPUs are added here.
            foreach (var device in context.Devices.Where(d => d.AcceleratorType != AcceleratorType.CPU))
            {
                string prefix = device.AcceleratorType switch
                {
                    AcceleratorType.Cuda => "cuda",
                    AcceleratorType.OpenCL => "opencl",
                    _ => device.AcceleratorType.ToString().ToLowerInvariant(),
                };
                lines.Add($"{prefix}: {device.Name} ({device.MemorySize / (1 << 20)} MiB)");
            }

            lines.AddRange(refused);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            lines.Add($"(GPU detection failed: {e.Message})");
        }

        return lines;
    }
}
