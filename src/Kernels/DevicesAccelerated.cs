namespace SaGatSr.Kernels;

public static partial class Devices
{
    private static IComputeBackend CreateAccelerated(string normalized, string spec) => normalized switch
    {
        "auto" => new Cpu.SimdCpuBackend(),
        _ => throw new ArgumentException($"Unknown device '{spec}'; expected one of: {string.Join(", ", Specs)}.", nameof(spec)),
    };
}
