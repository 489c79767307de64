using System.Globalization;
using SaGatSr.Cli;

namespace SaGatSr.Tests.Mpi;

/// <summary>`sagatsr sr` under mpirun -np 2 against the same command in one process.</summary>
[NonParallelizable]
public class MpiSrTests
{
    private string work = "";
    private string table = "";

    [OneTimeSetUp]
    public void WriteTable()
    {
        work = TestPaths.NewTemporaryFolder();
        table = Path.Combine(work, "table.csv");
        var random = new Random(4);
        var lines = new List<string> { "y," + string.Join(',', Enumerable.Range(1, 8).Select(f => $"x{f}")) };
        for (int s = 0; s < 60; s++)
        {
            var x = Enumerable.Range(0, 8).Select(_ => 0.5 + 2.5 * random.NextDouble()).ToArray();
            double y = 2 * (x[0] - x[1]) * (x[2] + x[3]) - 0.7 * x[4] / x[5] + 0.05 * random.NextDouble();
            lines.Add(string.Join(',', new[] { y }.Concat(x).Select(v => v.ToString("R", CultureInfo.InvariantCulture))));
        }

        File.WriteAllLines(table, lines);
    }

    private string[] Arguments(string output, bool exhaustive) =>
    [
        "sr", table, "--target", "y", "--out", output, "--max-terms", "2", "--subspace-size", "15", "--operators", "+,-,*,/,exp,^2,sqrt",
        ..(exhaustive ? new[] { "--exhaustive" } : []),
    ];

    [TestCase(true)]
    [TestCase(false)]
    public void TwoRanksGiveTheOneRankFormulaAndSubspaces(bool exhaustive)
    {
        var single = Path.Combine(work, $"single-{exhaustive}");
        var (oldOut, oldError) = (Console.Out, Console.Error);
        Console.SetOut(TextWriter.Null);
        Console.SetError(TextWriter.Null);
        try
        {
            Assert.That(Program.Run(Arguments(single, exhaustive)), Is.EqualTo(0));
        }
        finally
        {
            Console.SetOut(oldOut);
            Console.SetError(oldError);
        }

        var parallel = Path.Combine(work, $"parallel-{exhaustive}");
        var result = MpiRun.Dotnet(2, "sagatsr.dll", Arguments(parallel, exhaustive));
        Assert.That(result.Exit, Is.EqualTo(0), result.ToString());
        Assert.That(result.Errors, Does.Contain("mpi: OpenMPI, 2 ranks"), result.ToString());
        Assert.That(result.Output, Does.Contain("x 2 MPI ranks"), result.ToString());
        foreach (var file in new[] { "formulas.txt", "subspaces.txt", "pareto.csv" })
            Assert.That(File.ReadAllText(Path.Combine(parallel, file)), Is.EqualTo(File.ReadAllText(Path.Combine(single, file))), file);
        Assert.That(File.ReadAllLines(Path.Combine(single, "subspaces.txt")), Has.Length.EqualTo(30));
    }
}
