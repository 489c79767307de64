using SaGatSr.Kernels;

namespace SaGatSr.Tests.Kernels;

public sealed class DevicesTests
{
    [TestCase("cpu", DeviceKind.Cpu)]
    [TestCase(" Reference ", DeviceKind.Reference)]
    [TestCase("ilgpu-cpu", DeviceKind.IlgpuCpu)]
    public void CreatesTheRequestedBackend(string spec, DeviceKind kind)
    {
        using var backend = Devices.Create(spec);
        Assert.That(backend.Kind, Is.EqualTo(kind));
        Assert.That(backend.Name, Is.Not.Empty);
    }

    [Test]
    public void AutoPicksAGpuWhenPresentElseTheSimdCpu()
    {
        using var backend = Devices.Create("auto");
        bool gpuPresent = Devices.Describe().Any(line => line.StartsWith("cuda:") || line.StartsWith("opencl:"));
        Assert.That(backend.Kind, gpuPresent ? Is.AnyOf(DeviceKind.Cuda, DeviceKind.OpenCl) : Is.EqualTo(DeviceKind.Cpu));
    }

    [Test]
    public void UnknownSpecListsTheValidOnes()
    {
        var error = Assert.Throws<ArgumentException>(() => Devices.Create("tpu"));
        Assert.That(error!.Message, Does.Contain("'tpu'").And.Contain("ilgpu-cpu"));
    }

    [Test]
    public void AbsentGpuGivesAnErrorListingPresentDevices()
    {
        var described = Devices.Describe();
        Assert.That(described, Has.Some.StartsWith("cpu:"));
        if (described.Any(line => line.StartsWith("cuda:")))
            Assert.Ignore("a CUDA device is present here");
        var error = Assert.Throws<InvalidOperationException>(() => Devices.Create("cuda"));
        Assert.That(error!.Message, Does.Contain("not available").And.Contain("cpu:"));
    }

    [Test]
    public void NullSpecReadsTheEnvironmentVariable()
    {
        string? previous = Environment.GetEnvironmentVariable(Devices.EnvironmentVariable);
        try
        {
            Environment.SetEnvironmentVariable(Devices.EnvironmentVariable, "reference");
            using var backend = Devices.Create();
            Assert.That(backend.Kind, Is.EqualTo(DeviceKind.Reference));
        }
        finally
        {
            Environment.SetEnvironmentVariable(Devices.EnvironmentVariable, previous);
        }
    }
}
