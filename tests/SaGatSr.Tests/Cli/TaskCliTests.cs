using System.Globalization;
using System.Text.Json;
using SaGatSr.Gat.Materials;

namespace SaGatSr.Tests.Cli;

/// <summary>`train --task classify`, `--where` and several `--target`s, then `predict`, as a user runs them.</summary>
[NonParallelizable]
public class TaskCliTests
{
    private string dataset = "";
    private string work = "";

    [OneTimeSetUp]
    public void MetalsAndNonMetals()
    {
        // 16 metals and 8 non-metals (dir_gap > 0) of the shipped perovskites, each record copied line for line.
        var source = Path.Combine(TestPaths.RepositoryRoot, "data", "perovskites", "perovskites.csv");
        var lines = File.ReadAllLines(source);
        var records = CsvRecords.Read(source).ToArray();
        int gapColumn = Array.IndexOf(records[0].Fields, "dir_gap");
        var chosen = new List<int>();
        int metals = 0, nonMetals = 0;
        for (int r = 1; r + 1 < records.Length && (metals < 16 || nonMetals < 8); r++)
        {
            bool nonMetal = double.Parse(records[r].Fields[gapColumn], CultureInfo.InvariantCulture) > 0;
            if (nonMetal ? nonMetals++ < 8 : metals++ < 16) chosen.Add(r);
        }

        work = TestPaths.NewTemporaryFolder();
        dataset = Path.Combine(work, "perovskites24.csv");
        var text = new List<string>(lines[..(records[1].Line - 1)]);
        foreach (int r in chosen) text.AddRange(lines[(records[r].Line - 1)..(records[r + 1].Line - 1)]);
        File.WriteAllLines(dataset, text);
    }

    private static (int Exit, string Output, string Errors) Run(params string[] args) => CliHarness.Run(args);

    private string[] Train(string output, params string[] more) =>
    [
        "train", dataset, "--out", output, "--epochs", "3", "--hidden", "8", "--heads", "1", "--layers", "1", "--batch-size", "8",
        "--device", "cpu", "--members", "1", .. more,
    ];

    [Test]
    public void AClassifierReportsImbalanceProofMetricsAndPredictsProbabilities()
    {
        string output = Path.Combine(work, "classify");
        var (exit, stdout, stderr) = Run(Train(output, "--target", "dir_gap", "--task", "classify", "--threshold", "0", "--train-ratio", "0.5",
            "--val-ratio", "0.25"));
        Assert.That(exit, Is.EqualTo(0), stderr);
        Assert.That(stderr, Does.Contain("class 1: dir_gap > 0").And.Contain("8 of class 1"));
        Assert.That(stdout, Does.Contain("ROC-AUC").And.Contain("balanced accuracy"));
        Assert.That(File.Exists(Path.Combine(output, "roc.png")), Is.True);
        using var metrics = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "metrics.json")));
        var classification = metrics.RootElement.GetProperty("classification");
        Assert.That(metrics.RootElement.GetProperty("task").GetString(), Is.EqualTo("classification"));
        Assert.That(classification.GetProperty("positive_class").GetString(), Is.EqualTo("dir_gap > 0"));
        Assert.That(classification.GetProperty("test").GetProperty("RocAuc").GetDouble(), Is.InRange(0.0, 1.0));
        double threshold = classification.GetProperty("threshold").GetDouble();

        var predictions = Path.Combine(work, "classes.csv");
        (exit, _, stderr) = Run("predict", Path.Combine(output, "model.sagat"), dataset, "--out", predictions, "--device", "cpu");
        Assert.That(exit, Is.EqualTo(0), stderr);
        var rows = File.ReadAllLines(predictions);
        Assert.That(rows[0], Is.EqualTo("id,file,dir_gap_probability,dir_gap_class"));
        Assert.That(rows.Length, Is.EqualTo(25));
        foreach (var row in rows.Skip(1))
        {
            var fields = row.Split(',');
            double probability = double.Parse(fields[2], CultureInfo.InvariantCulture);
            Assert.That(probability, Is.InRange(0.0, 1.0));
            Assert.That(fields[3], Is.EqualTo(probability >= threshold ? "1" : "0"));
        }
    }

    [Test]
    public void ExplainDistilsTheClassifiersLogitAndScoresTheFormulaAgainstTheClasses()
    {
        string output = Path.Combine(work, "explain-classifier");
        string[] task = ["--target", "dir_gap", "--task", "classify", "--threshold", "0", "--train-ratio", "0.5", "--val-ratio", "0.25"];
        var (exit, _, stderr) = Run(Train(Path.Combine(output, "model"), task));
        Assert.That(exit, Is.EqualTo(0), stderr);
        string[] explain = ["explain", dataset, "--out", output, "--model", Path.Combine(output, "model", "model.sagat"), "--top-k", "3",
            "--rungs", "1", "--max-terms", "1", "--time-limit", "20", "--device", "cpu", .. task];
        string stdout;
        (exit, stdout, stderr) = Run(explain);
        Assert.That(exit, Is.EqualTo(0), stderr);
        Assert.That(stdout, Does.Contain("chosen formula: logit_dir_gap =").And.Contain("test ROC-AUC against the true classes"));
        using var run = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "run.json")));
        var classification = run.RootElement.GetProperty("classification");
        Assert.That(classification.GetProperty("formula_test_roc_auc").GetDouble(), Is.InRange(0.0, 1.0));
        Assert.That(classification.GetProperty("network_test_roc_auc").GetDouble(), Is.InRange(0.0, 1.0));
    }

    [Test]
    public void PredictWithAGateWritesProbabilityTimesTheNonMetalGap()
    {
        string classifier = Path.Combine(work, "gate-classifier"), regressor = Path.Combine(work, "gate-regressor");
        Assert.That(Run(Train(classifier, "--target", "dir_gap", "--task", "classify", "--threshold", "0")).Exit, Is.EqualTo(0));
        Assert.That(Run(Train(regressor, "--target", "dir_gap", "--where", "dir_gap > 0")).Exit, Is.EqualTo(0));
        string classifierModel = Path.Combine(classifier, "model.sagat"), regressorModel = Path.Combine(regressor, "model.sagat");
        var (exit, stdout, stderr) = Run("predict", regressorModel, dataset, "--gate", classifierModel, "--device", "cpu");
        Assert.That(exit, Is.EqualTo(0), stderr);
        var rows = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(rows[0], Is.EqualTo("id,file,dir_gap,dir_gap_probability,dir_gap_if_nonzero"));
        Assert.That(rows, Has.Length.EqualTo(25));
        foreach (var row in rows.Skip(1))
        {
            var v = row.Split(',')[2..].Select(f => double.Parse(f, CultureInfo.InvariantCulture)).ToArray();
            Assert.That(v[0], Is.EqualTo(v[1] * Math.Max(0, v[2])).Within(1e-5 * Math.Max(1, v[0])), row);
        }

        CliHarness.Fails(["predict", classifierModel, dataset, "--gate", regressorModel, "--device", "cpu"], "--task regress");
        CliHarness.Fails(["predict", regressorModel, dataset, "--gate", regressorModel, "--device", "cpu"], "not a classifier");
    }

    [Test]
    public void AModelTrainedOnIdealCellsScreensEachCompositionAsItLearnedIt()
    {
        string output = Path.Combine(work, "ideal");
        var (exit, _, stderr) = Run(Train(output, "--target", "heat_ref", "--ideal-cells"));
        Assert.That(exit, Is.EqualTo(0), stderr);
        var learned = File.ReadAllLines(Path.Combine(output, "predictions.csv")).Skip(1).Select(l => l.Split(','))
            .ToDictionary(f => f[0], f => double.Parse(f[3], CultureInfo.InvariantCulture));
        Assert.That(stderr, Does.Contain($"--ideal-cells: {learned.Count} crystals as ideal cubic cells"));
        // screen builds the same cell for the same composition, so the network gives the value it gave in training.
        var candidates = SaGatSr.Pipeline.CandidateSource.FromFile(dataset);
        var chosen = candidates.Read(0, candidates.Count).First(c => learned.ContainsKey(c.Id));
        string list = Path.Combine(work, "ideal-candidates.csv");
        File.WriteAllText(list, $"id,formula\n{chosen.Id},{chosen.Formula}\n");
        (exit, _, stderr) = Run("screen", Path.Combine(output, "model.sagat"), "--candidates", list, "--states", "all", "--out",
            Path.Combine(work, "ideal-screen"), "--device", "cpu");
        Assert.That(exit, Is.EqualTo(0), stderr);
        var ranked = File.ReadAllLines(Path.Combine(work, "ideal-screen", "ranked.csv"));
        double screened = double.Parse(ranked[1].Split(',')[11], CultureInfo.InvariantCulture);
        Assert.That(screened, Is.EqualTo(learned[chosen.Id]).Within(1e-4 * Math.Max(1, Math.Abs(screened))), chosen.Formula);
    }

    [Test]
    public void AClassColumnOtherThanZeroAndOneNeedsAThreshold()
    {
        CliHarness.Fails(Train(Path.Combine(work, "no-threshold"), "--target", "heat_ref", "--task", "classify"), "heat_ref", "--threshold");
        CliHarness.Fails(Train(Path.Combine(work, "threshold-alone"), "--target", "heat_ref", "--threshold", "0"), "--task classify");
    }

    [Test]
    public void AFilterThatLeavesNoCrystalsSaysWhatTheColumnHolds()
    {
        CliHarness.Fails(Train(Path.Combine(work, "none-left"), "--target", "dir_gap", "--where", "dir_gap > 100"), "leaves none", "'dir_gap' ranges from 0 to");
        CliHarness.Fails(Train(Path.Combine(work, "unknown-column"), "--where", "band_gap > 0"), "no numeric column 'band_gap'");
    }

    [Test]
    public void TheGapOfTheNonMetalsIsLearnedOnThemAlone()
    {
        string output = Path.Combine(work, "non-metals");
        var (exit, _, stderr) = Run(Train(output, "--target", "dir_gap", "--where", "dir_gap > 0"));
        Assert.That(exit, Is.EqualTo(0), stderr);
        Assert.That(stderr, Does.Contain("--where \"dir_gap > 0\": 8 of 24 crystals"));
        var actual = File.ReadAllLines(Path.Combine(output, "predictions.csv")).Skip(1)
            .Select(l => double.Parse(l.Split(',')[2], CultureInfo.InvariantCulture)).ToArray();
        Assert.That(actual, Has.Length.EqualTo(8).And.All.GreaterThan(0));
        using var metrics = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "metrics.json")));
        Assert.That(metrics.RootElement.GetProperty("where").GetString(), Is.EqualTo("dir_gap > 0"));

        // explain must see the crystals the model learned: the same --where, or a message saying so.
        CliHarness.Fails(["explain", dataset, "--out", Path.Combine(work, "explain-unfiltered"), "--model", Path.Combine(output, "model.sagat"),
            "--target", "dir_gap", "--device", "cpu"], "--where \"dir_gap > 0\"");
    }

    [Test]
    public void SeveralTargetsTrainOneNetworkAndPredictEveryTarget()
    {
        string output = Path.Combine(work, "two-targets");
        var (exit, stdout, stderr) = Run(Train(output, "--target", "heat_ref,heat_all"));
        Assert.That(exit, Is.EqualTo(0), stderr);
        Assert.That(stdout, Does.Contain("test heat_ref").And.Contain("test heat_all"));
        Assert.That(File.ReadLines(Path.Combine(output, "predictions.csv")).First(),
            Is.EqualTo("id,split,heat_ref_actual,heat_ref_predicted,heat_all_actual,heat_all_predicted"));
        Assert.That(File.Exists(Path.Combine(output, "parity_heat_all.png")), Is.True);
        var (predictExit, predicted, predictErrors) = Run("predict", Path.Combine(output, "model.sagat"), dataset, "--device", "cpu");
        Assert.That(predictExit, Is.EqualTo(0), predictErrors);
        var rows = predicted.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(rows[0], Is.EqualTo("id,file,heat_ref,heat_all"));
        Assert.That(rows, Has.Length.EqualTo(25));
    }
}
