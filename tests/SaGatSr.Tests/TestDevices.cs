using SaGatSr.Kernels;

namespace SaGatSr.Tests;

/// <summary>
/// The devices that tests comparing a backend with the reference run on: always the SIMD CPU and ILGPU's CPU accelerator,
/// plus the device named by SAGATSR_DEVICE when it is a GPU (cuda, opencl), so the same tests validate real hardware.
/// </summary>
public static class TestDevices
{
    private static readonly string? Requested = Environment.GetEnvironmentVariable(Devices.EnvironmentVariable)?.Trim().ToLowerInvariant();

    /// <summary>The GPU requested through SAGATSR_DEVICE, if any.</summary>
    public static string? Gpu { get; } = Requested is "cuda" or "opencl" ? Requested : null;

    /// <summary>Devices whose ops go through the ILGPU kernels: the emulated accelerator and the requested GPU.</summary>
    public static IEnumerable<string> Accelerated => Gpu is null ? ["ilgpu-cpu"] : ["ilgpu-cpu", Gpu];

    /// <summary>Every float32 backend: the SIMD CPU and the accelerated ones.</summary>
    public static IEnumerable<string> Float32 => Accelerated.Prepend("cpu");

    /// <summary>ILGPU's CPU accelerator emulates GPU threads and is slow, so tests give it smaller problems.</summary>
    public static bool IsEmulated(string device) => device == "ilgpu-cpu";
}
