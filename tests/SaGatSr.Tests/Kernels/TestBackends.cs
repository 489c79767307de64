using SaGatSr.Kernels;

namespace SaGatSr.Tests.Kernels;

internal static class TestBackends
{
    public static IComputeBackend Create(string device) => Devices.Create(device);
}
