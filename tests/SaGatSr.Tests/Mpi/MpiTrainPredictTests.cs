using System.Globalization;
using SaGatSr.Cli;

namespace SaGatSr.Tests.Mpi;

/// <summary>`sagatsr train` and `predict` under mpirun -np 2 against the same commands in one process.</summary>
[NonParallelizable]
public class MpiTrainPredictTests
{
    private string work = "";
    private string dataset = "";

    [OneTimeSetUp]
    public void CopySmallDataset()
    {
        work = TestPaths.NewTemporaryFolder();
        dataset = Path.Combine(work, "gap");
        Directory.CreateDirectory(dataset);
        var lines = File.ReadAllLines(Path.Combine(TestPaths.ShippedDataset, "id_prop.csv")).Skip(1)
            .OrderBy(l => new FileInfo(Path.Combine(TestPaths.ShippedDataset, l.Split(',')[0])).Length).Take(16).ToArray();
        foreach (var line in lines)
            File.Copy(Path.Combine(TestPaths.ShippedDataset, line.Split(',')[0]), Path.Combine(dataset, line.Split(',')[0]));
        File.WriteAllLines(Path.Combine(dataset, "id_prop.csv"), lines);
    }

    private static int RunHere(params string[] args)
    {
        var (oldOut, oldError) = (Console.Out, Console.Error);
        Console.SetOut(TextWriter.Null);
        Console.SetError(TextWriter.Null);
        try
        {
            return Program.Run(args);
        }
        finally
        {
            Console.SetOut(oldOut);
            Console.SetError(oldError);
        }
    }

    private string[] TrainArguments(string output) =>
        ["train", dataset, "--out", output, "--epochs", "3", "--hidden", "16", "--layers", "1", "--batch-size", "5", "--device", "cpu", "--patience", "10"];

    private static double[][] NumericColumns(string csv, params int[] columns) =>
        File.ReadAllLines(csv).Skip(1).Select(l => l.Split(','))
            .Select(cells => columns.Select(c => double.Parse(cells[c], CultureInfo.InvariantCulture)).ToArray()).ToArray();

    [Test, Order(1)]
    public void TrainingOnTwoRanksFollowsTheOneRankRun()
    {
        MpiRun.RequireMpirun();
        var single = Path.Combine(work, "train-1");
        Assert.That(RunHere(TrainArguments(single)), Is.EqualTo(0));

        var parallel = Path.Combine(work, "train-2");
        var result = MpiRun.Dotnet(2, "sagatsr.dll", TrainArguments(parallel));
        Assert.That(result.Exit, Is.EqualTo(0), result.ToString());
        Assert.That(result.Output, Does.Contain("on 2 data-parallel ranks"), result.ToString());
        Assert.That(File.Exists(Path.Combine(parallel, "model.sagat")));

        // One process trains the ensemble's members side by side, two ranks train each data parallel in turn. Batches of 5
        // split 3 + 2 between the ranks; only the order of float32 sums differs from one process.
        foreach (var member in new[] { "sae", "fcn", "cgcnn" })
        {
            Assert.That(File.Exists(Path.Combine(parallel, "members", member, "checkpoint.sagat")), member);
            var (a, b) = (NumericColumns(Path.Combine(single, "members", member, "history.csv"), 1, 2),
                NumericColumns(Path.Combine(parallel, "members", member, "history.csv"), 1, 2));
            Assert.That(b.Length, Is.EqualTo(a.Length));
            for (int e = 0; e < a.Length; e++)
                for (int c = 0; c < 2; c++)
                    Assert.That(b[e][c], Is.EqualTo(a[e][c]).Within(1e-5 * (1 + Math.Abs(a[e][c]))), $"{member}, epoch {e + 1}, column {c}");
        }

        var (p, q) = (NumericColumns(Path.Combine(single, "predictions.csv"), 3), NumericColumns(Path.Combine(parallel, "predictions.csv"), 3));
        Assert.That(q.Select(r => r[0]), Is.EqualTo(p.Select(r => r[0])).Within(1e-4));
    }

    [Test, Order(2)]
    public void PredictionOnTwoRanksWritesTheOneRankCsvInInputOrder()
    {
        MpiRun.RequireMpirun();
        var model = Path.Combine(work, "train-1", "model.sagat");
        var bad = Path.Combine(work, "broken.vasp");
        File.WriteAllText(bad, "not a POSCAR\n");
        var files = Directory.GetFiles(dataset, "*.vasp").Order(StringComparer.Ordinal).ToList();
        files.Insert(5, bad);
        var single = Path.Combine(work, "predict-1.csv");
        Assert.That(RunHere(["predict", model, .. files, "--out", single, "--device", "cpu"]), Is.EqualTo(3));

        var parallel = Path.Combine(work, "predict-2.csv");
        var result = MpiRun.Dotnet(2, "sagatsr.dll", ["predict", model, .. files, "--out", parallel, "--device", "cpu"]);
        Assert.That(result.Exit, Is.EqualTo(3), result.ToString());
        Assert.That(result.Errors, Does.Contain("skipped: ").And.Contain("broken.vasp"), result.ToString());
        Assert.That(File.ReadAllText(parallel), Is.EqualTo(File.ReadAllText(single)));
        Assert.That(File.ReadAllLines(parallel).Skip(1).Select(l => l.Split(',')[1]), Is.EqualTo(files.Where(f => f != bad)));
    }

    [Test, Order(3)]
    public void ScreeningOnTwoRanksWritesTheOneRankShortlist()
    {
        MpiRun.RequireMpirun();
        var model = Path.Combine(work, "train-1", "model.sagat");
        string[] Screen(string folder) => ["screen", model, "--a", "Ca,Sr,Ba,K,La", "--b", "Ti,Zr,Nb,Fe", "--x", "O3,O2N,O2F",
            "--out", folder, "--chunk-size", "7", "--device", "cpu"];
        var single = Path.Combine(work, "screen-1");
        Assert.That(RunHere(Screen(single)), Is.EqualTo(0));
        var parallel = Path.Combine(work, "screen-2");
        var result = MpiRun.Dotnet(2, "sagatsr.dll", Screen(parallel));
        Assert.That(result.Exit, Is.EqualTo(0), result.ToString());
        Assert.That(result.Errors, Does.Contain("on 2 ranks"), result.ToString());
        foreach (var file in new[] { "ranked.csv", "dropped.csv" })
            Assert.That(File.ReadAllText(Path.Combine(parallel, file)), Is.EqualTo(File.ReadAllText(Path.Combine(single, file))), file);
        Assert.That(File.ReadAllLines(Path.Combine(single, "ranked.csv")), Has.Length.GreaterThan(5));
    }
}
