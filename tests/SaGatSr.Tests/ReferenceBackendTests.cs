using SaGatSr.Kernels;
using SaGatSr.Kernels.Reference;

namespace SaGatSr.Tests;

public class ReferenceBackendTests
{
    [Test]
    public void MatMulOfKnownMatricesIsExact()
    {
        using var backend = new ReferenceBackend();
        var a = backend.Allocate(6);
        var b = backend.Allocate(6);
        var c = backend.Allocate(4);
        backend.Upload(a, new double[] { 1, 2, 3, 4, 5, 6 });
        backend.Upload(b, new double[] { 7, 8, 9, 10, 11, 12 });
        backend.MatMul(a, b, c, 2, 2, 3);
        var result = new double[4];
        backend.Download(c, result);
        Assert.That(result, Is.EqualTo(new double[] { 58, 64, 139, 154 }));
    }
}
