using SaGatSr.Kernels.Cpu;
using SaGatSr.Kernels.Reference;

namespace SaGatSr.Kernels;

/// <summary>Picks a compute backend from a device spec: auto|cuda|opencl|cpu|ilgpu-cpu|reference.</summary>
public static partial class Devices
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
            _ => CreateAccelerated(normalized, spec!),
        };
    }
}
