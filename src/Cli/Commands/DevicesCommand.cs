using SaGatSr.Kernels;

namespace SaGatSr.Cli.Commands;

internal static class DevicesCommand
{
    public static int Run(string? device)
    {
        Console.WriteLine("Devices found:");
        foreach (var line in Devices.Describe()) Console.WriteLine($"  {line}");
        using var chosen = Devices.Create(device);
        Console.WriteLine($"Selected ({device ?? Environment.GetEnvironmentVariable("SAGATSR_DEVICE") ?? "auto"}): {chosen.Name}");
        return 0;
    }

    /// <summary>Creates the backend a command computes on, and says which it is (on stderr, so CSV output stays clean).</summary>
    public static IComputeBackend Open(string? device)
    {
        var backend = Devices.Create(device);
        Console.Error.WriteLine($"device: {backend.Name}");
        return backend;
    }
}
