using SaGatSr.Gat.Materials;
using SaGatSr.Gat.Model;
using SaGatSr.Gat.Training;
using SaGatSr.Kernels;

namespace SaGatSr.Tests.Gat;

/// <summary>Classification and several targets in one network, and the metrics and filters around them.</summary>
public class TaskTests
{
    private static readonly SaGatConfig Small = new() { Hidden = 16, Heads = 2, Layers = 2, Seed = 3 };

    private static TrainingOptions Options(int epochs) => new()
    {
        Epochs = epochs, BatchSize = 4, LearningRate = 3e-3f, Seed = 5, Patience = 1000, TrainRatio = 1.0, ValidationRatio = 0.0,
    };

    /// <summary>The crystals of <see cref="GatTestData.Data"/> labelled 1 where their gap is above the mean (many are 0).</summary>
    private static TrainingData LargerGaps(int count)
    {
        var data = GatTestData.Data(count);
        double mean = data.Targets.Average();
        var labels = data.Targets.Select(t => t > mean ? 1.0 : 0.0).ToArray();
        Assert.That(labels.Count(l => l == 1), Is.InRange(2, count - 2), "both classes in the test data");
        return data with { Targets = labels, Task = TargetTask.Classification };
    }

    [Test]
    public void AClassifierLearnsWhichCrystalsHaveTheLargerGaps()
    {
        var data = LargerGaps(16);
        using var backend = Devices.Create("cpu");
        var result = Trainer.Train(backend, data, Small, Options(60));
        using var model = result.Model;
        Assert.That(model.IsClassifier, Is.True);
        Assert.That(result.Train.Predicted, Has.All.InRange(0.0, 1.0));
        Assert.That(ClassificationMetrics.AreaUnderRoc(result.Train.Actual, result.Train.Predicted), Is.GreaterThanOrEqualTo(0.9));
        Assert.That(result.History[^1].TrainLoss, Is.LessThan(0.7 * result.History[0].TrainLoss));
    }

    [Test]
    public void AClassifierWithOneClassInTrainingIsRefusedByName()
    {
        var data = LargerGaps(8) with { Targets = Enumerable.Repeat(0.0, 8).ToArray() };
        using var backend = Devices.Create("cpu");
        var error = Assert.Throws<ArgumentException>(() => Trainer.Train(backend, data, Small, Options(1)))!;
        Assert.That(error.Message, Does.Contain("band_gap").And.Contain("0 of class 1"));
    }

    [Test]
    public void TheClassWeightIsTakenOutOfThePredictedProbability()
    {
        // Weighting class 1 by 24 puts the balanced optimum's logit log 24 higher than the true odds' logit.
        var encoding = new TargetEncoding([new TargetScaler(0, 1)], Classify: true, PositiveWeight: 24);
        Assert.That(encoding.Restore(0, Math.Log(24)), Is.EqualTo(0.5).Within(1e-12));
        Assert.That(encoding.Restore(0, 0), Is.EqualTo(1 / 25.0).Within(1e-12));
        Assert.That(new TargetEncoding([new TargetScaler(0, 1)], Classify: true).Restore(0, 0), Is.EqualTo(0.5));
    }

    [Test]
    public void TwoTargetsInOneNetworkAreEachLearnedInTheirOwnUnits()
    {
        var single = GatTestData.Data(16);
        // A second target a thousand times larger and reversed: without per-target scaling it would drown the first.
        var rows = single.Targets.Select(t => new[] { t, 5000 - 1000 * t }).ToArray();
        var data = single with { TargetRows = rows, TargetNames = ["band_gap", "reversed"] };
        using var backend = Devices.Create("cpu");
        var result = Trainer.Train(backend, data, Small, Options(60));
        using var model = result.Model;
        Assert.That(model.Config.Outputs, Is.EqualTo(2));
        Assert.That(model.OutputNames, Is.EqualTo(new[] { "band_gap", "reversed" }));
        var outputs = model.PredictOutputs(GatTestData.Samples(data));
        for (int k = 0; k < 2; k++)
        {
            var actual = rows.Select(r => r[k]).ToArray();
            double mean = actual.Average();
            double meanMae = actual.Average(a => Math.Abs(a - mean));
            Assert.That(RegressionMetrics.Compute(actual, outputs[k]).Mae, Is.LessThan(0.5 * meanMae), $"output {k}");
        }
        Assert.That(outputs[0], Is.EqualTo(model.Predict(GatTestData.Samples(data))), "Predict is the first output");
    }

    [Test]
    public void ClassifiersAndSeveralTargetsSurviveTheModelFile()
    {
        using var backend = Devices.Create("cpu");
        var single = GatTestData.Data(8);
        var twoTargets = single with { TargetRows = single.Targets.Select(t => new[] { t, -t }).ToArray(), TargetNames = ["a", "b"] };
        foreach (var data in new[] { LargerGaps(8), twoTargets })
        {
            var result = Trainer.Train(backend, data, Small, Options(2));
            using var model = result.Model;
            string path = Path.Combine(TestPaths.NewTemporaryFolder(), "model.sagat");
            ModelFile.Save(path, model);
            using var loaded = ModelFile.Load(path, backend);
            Assert.That(loaded.IsClassifier, Is.EqualTo(data.IsClassification));
            Assert.That(loaded.OutputNames, Is.EqualTo(data.OutputNames));
            var samples = GatTestData.Samples(data);
            Assert.That(loaded.PredictOutputs(samples), Is.EqualTo(model.PredictOutputs(samples)));
        }
    }

    [Test]
    public void RocAucCountsCorrectlyOrderedPairsWithTiesAsHalves()
    {
        var rng = new Random(TestContext.CurrentContext.Random.Next());
        for (int trial = 0; trial < 20; trial++)
        {
            int n = rng.Next(2, 40);
            var labels = Enumerable.Range(0, n).Select(i => i == 0 ? 1.0 : i == 1 ? 0.0 : rng.Next(2)).ToArray();
            // Scores on a coarse grid, so ties happen.
            var scores = Enumerable.Range(0, n).Select(_ => rng.Next(6) / 5.0).ToArray();
            double pairs = 0, wins = 0;
            for (int p = 0; p < n; p++)
                for (int q = 0; q < n; q++)
                    if (labels[p] == 1 && labels[q] == 0)
                    {
                        pairs++;
                        wins += scores[p] > scores[q] ? 1 : scores[p] == scores[q] ? 0.5 : 0;
                    }

            Assert.That(ClassificationMetrics.AreaUnderRoc(labels, scores), Is.EqualTo(wins / pairs).Within(1e-12));
            var curve = ClassificationMetrics.RocCurve(labels, scores);
            Assert.That(curve[0], Is.EqualTo((0.0, 0.0)));
            Assert.That(curve[^1], Is.EqualTo((1.0, 1.0)));
            double area = 0;
            for (int i = 1; i < curve.Length; i++)
                area += (curve[i].FalsePositiveRate - curve[i - 1].FalsePositiveRate) * (curve[i].TruePositiveRate + curve[i - 1].TruePositiveRate) / 2;
            Assert.That(area, Is.EqualTo(wins / pairs).Within(1e-12), "the trapezoids under the curve are the AUC");
        }
    }

    [Test]
    public void TheChosenThresholdHasTheBestBalancedAccuracyOfAnyCut()
    {
        var rng = new Random(TestContext.CurrentContext.Random.Next());
        for (int trial = 0; trial < 20; trial++)
        {
            int n = rng.Next(4, 50);
            var labels = Enumerable.Range(0, n).Select(i => i < 2 ? i : rng.NextDouble() < 0.2 ? 1.0 : 0.0).ToArray();
            var probabilities = labels.Select(l => Math.Clamp(0.3 * l + 0.7 * rng.NextDouble(), 0, 1)).ToArray();
            double chosen = ClassificationMetrics.ChooseThreshold(labels, probabilities);
            double best = probabilities.Append(1.1).Max(t => ClassificationMetrics.Compute(labels, probabilities, t).BalancedAccuracy);
            Assert.That(ClassificationMetrics.Compute(labels, probabilities, chosen).BalancedAccuracy, Is.EqualTo(best).Within(1e-12));
        }
    }

    [Test]
    public void TheBalancedLogLossWeighsEachClassAsHalf()
    {
        double[] labels = [1, 0, 0, 0];
        double[] probabilities = [0.8, 0.1, 0.2, 0.3];
        double expected = (-Math.Log(0.8) + (-Math.Log(0.9) - Math.Log(0.8) - Math.Log(0.7)) / 3) / 2;
        Assert.That(ClassificationMetrics.BalancedLogLoss(labels, probabilities), Is.EqualTo(expected).Within(1e-12));
        var metrics = ClassificationMetrics.Compute(labels, probabilities, 0.25);
        Assert.That((metrics.Recall, metrics.Precision, metrics.BalancedAccuracy, metrics.Positives), Is.EqualTo((1.0, 0.5, (1 + 2 / 3.0) / 2, 1)));
    }

    [Test]
    public void TwoStageValuesAreTheExpectationOrTheGatedGap()
    {
        double[] probability = [0.9, 0.2, 0.5];
        double[] gap = [2.0, 3.0, -0.4];
        Assert.That(SaGatSr.Pipeline.TwoStage.Combine(probability, gap, 0.5, SaGatSr.Pipeline.TwoStageRule.Expected),
            Is.EqualTo(new[] { 1.8, 0.6, 0.0 }).Within(1e-12), "a negative gap counts as 0");
        Assert.That(SaGatSr.Pipeline.TwoStage.Combine(probability, gap, 0.5, SaGatSr.Pipeline.TwoStageRule.Gate),
            Is.EqualTo(new[] { 2.0, 0.0, 0.0 }));
        Assert.That(() => SaGatSr.Pipeline.TwoStage.ParseRule("average"), Throws.ArgumentException.With.Message.Contains("--combine"));
    }

    [Test]
    public void RowFiltersKeepTheRowsMeetingEveryCondition()
    {
        string[] columns = ["heat_ref", "dir_gap"];
        var filter = RowFilter.Parse("dir_gap > 0, heat_ref<=1.5", columns, "data.csv");
        Assert.That(filter.Accepts([1.0, 0.3]), Is.True);
        Assert.That(filter.Accepts([2.0, 0.3]), Is.False);
        Assert.That(filter.Accepts([1.0, 0.0]), Is.False);
        Assert.That(filter.Accepts([1.0, double.NaN]), Is.False, "a missing value fails its condition");
        Assert.That(RowFilter.Parse("DIR_GAP == 0", columns, "data.csv").Accepts([5, 0]), Is.True, "column names ignore case");
        Assert.That(Assert.Throws<ArgumentException>(() => RowFilter.Parse("band_gap > 0", columns, "data.csv"))!.Message,
            Does.Contain("'band_gap'").And.Contain("data.csv").And.Contain("heat_ref, dir_gap"));
        Assert.That(Assert.Throws<ArgumentException>(() => RowFilter.Parse("dir_gap >> 0", columns, "data.csv"))!.Message, Does.Contain("dir_gap >> 0"));
        Assert.That(Assert.Throws<ArgumentException>(() => RowFilter.Parse("dir_gap > zero", columns, "data.csv"))!.Message, Does.Contain("'zero'"));
    }
}
