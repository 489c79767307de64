using SaGatSr.Mpi;

namespace SaGatSr.Tests.Mpi;

public class MpiBindingTests
{
    [Test]
    public void EveryCollectiveGivesTheExpectedValuesOnTwoRanks()
    {
        var result = MpiRun.Dotnet(2, "SaGatSr.MpiCheck.dll", []);
        Assert.That(result.Exit, Is.EqualTo(0), result.ToString());
        Assert.That(result.Output, Does.Contain("rank 0 of 2: OpenMPI, 2 ranks").And.Contain("rank 1 of 2: OpenMPI, 2 ranks"), result.ToString());
        Assert.That(result.Output, Does.Contain("rank 0 of 2: ok").And.Contain("rank 1 of 2: ok"), result.ToString());
        Assert.That(result.Output, Does.Not.Contain("FAILED"), result.ToString());
    }

    [Test]
    public void WithoutMpirunTheProgramIsOneProcess()
    {
        var result = MpiRun.Dotnet(0, "SaGatSr.MpiCheck.dll", []);
        Assert.That(result.Exit, Is.EqualTo(0), result.ToString());
        Assert.That(result.Output, Does.Contain("rank 0 of 1: single process").And.Contain("rank 0 of 1: ok"), result.ToString());
    }

    [Test]
    public void BlockRangesCoverEveryItemOnce([Values(0, 1, 7, 64, 1000)] int count, [Values(1, 2, 3, 64)] int size)
    {
        int next = 0;
        for (int rank = 0; rank < size; rank++)
        {
            var (start, end) = Communicator.BlockRange(count, rank, size);
            Assert.That(start, Is.EqualTo(next));
            Assert.That(end - start, Is.InRange(count / size, count / size + 1));
            next = end;
        }

        Assert.That(next, Is.EqualTo(count));
    }
}
