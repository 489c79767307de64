using SaGatSr.Gat;
using SaGatSr.Gat.Model;
using SaGatSr.Gat.Training;
using SaGatSr.Kernels;

namespace SaGatSr.Tests.Gat;

public class EnsembleTests
{
    private const int Crystals = 20;
    private static readonly SaGatConfig Small = new() { Hidden = 16, Heads = 2, Layers = 1 };

    private static TrainingOptions Options(string? folder = null) => new()
    {
        Epochs = 3, BatchSize = 4, LearningRate = 3e-3f, Seed = 5, Patience = 1000, CheckpointDirectory = folder,
    };

    private static Dictionary<string, TrainingData> Data() => new() { ["sae"] = GatTestData.Data(Crystals), ["cgcnn"] = GatTestData.CgcnnData(Crystals) };

    [Test]
    public void MembersTrainedSideBySideEqualEachTrainedAloneAndTheirMeanIsThePrediction()
    {
        var data = Data();
        var members = EnsembleMember.Recipe(["sae", "fcn", "cgcnn"], 5);
        using var backend = Devices.Create("cpu");
        using var ensemble = EnsembleTrainer.Train(backend, data, Small, Options(), members);
        Assert.That(ensemble.Model.Members.Select(m => m.Network.Backend.Name), Is.All.Contains("1 thread,"),
            "on the CPU each member trains on a core of its own");
        for (int m = 0; m < members.Length; m++)
        {
            var member = members[m];
            var alone = Trainer.Train(backend, data[member.Featurizer], Small with { Encoder = member.Encoder, Seed = member.Seed },
                Options() with { Split = ensemble.Split, Seed = member.Seed });
            using var model = alone.Model;
            Assert.That(ensemble.Split.Test.Select(i => ensemble.MemberPredictions[m][i]), Is.EqualTo(alone.Test.Predicted),
                $"{member.Name}: side by side, bit for bit the network trained alone");
        }

        var test = ensemble.Split.Test;
        for (int j = 0; j < test.Length; j++)
        {
            var values = ensemble.MemberPredictions.Select(p => p[test[j]]).ToArray();
            double mean = values.Average();
            double std = Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Length - 1));
            Assert.That(ensemble.Test.Predicted[j], Is.EqualTo(mean).Within(1e-12));
            Assert.That(ensemble.Test.Std![j], Is.EqualTo(ensemble.Model.Metadata.SpreadScale * std).Within(1e-12));
        }

        Assert.That(ensemble.Model.Metadata.SpreadScale, Is.GreaterThan(0));
        Assert.That(members.Select(m => m.Seed).Distinct().Count(), Is.EqualTo(3), "each member has a seed of its own");
    }

    [Test]
    public void AnEnsembleFileRoundTripsThroughThePredictorWithItsSpread()
    {
        var data = Data();
        using var backend = Devices.Create("cpu");
        var folder = TestPaths.NewTemporaryFolder();
        using var trained = EnsembleTrainer.Train(backend, data, Small, Options(folder), EnsembleMember.Recipe(["sae", "fcn", "sae"], 7));
        Assert.That(trained.Model.Metadata.Members.Select(m => m.Name), Is.EqualTo(new[] { "sae", "fcn", "sae-2" }));
        foreach (var name in new[] { "sae", "fcn", "sae-2" })
            Assert.That(File.Exists(Path.Combine(folder, "members", name, Trainer.CheckpointFileName)), name);
        var path = Path.Combine(folder, "model.sagat");
        ModelFile.SaveEnsemble(path, trained.Model);

        using var predictor = SaGatPredictor.Load(path, backend);
        Assert.That(predictor.HasUncertainty);
        Assert.That(predictor.Ensemble.Members, Has.Count.EqualTo(3));
        Assert.That(predictor.Importance, Is.Not.Null, "the SAE member ranks the features");
        var structures = GatTestData.Structures(Crystals);
        var loaded = predictor.PredictWithUncertainty(structures);
        var expected = EnsembleModel.Combine(trained.MemberPredictions, trained.Model.Metadata.SpreadScale);
        Assert.That(loaded.Mean, Is.EqualTo(expected.Mean).Within(1e-9));
        Assert.That(loaded.Std, Is.EqualTo(expected.Std).Within(1e-9));
        Assert.That(loaded.Std, Is.All.GreaterThan(0));
        Assert.That(predictor.Predict(structures), Is.EqualTo(loaded.Mean));

        var error = Assert.Throws<InvalidDataException>(() => ModelFile.Load(path, backend));
        Assert.That(error!.Message, Does.StartWith(path).And.Contain("ensemble"));
    }

    [Test]
    public void ASingleNetworkFileIsAnEnsembleOfOneWithoutSpread()
    {
        var data = GatTestData.Data(Crystals);
        using var backend = Devices.Create("cpu");
        var result = Trainer.Train(backend, data, Small, Options());
        using var model = result.Model;
        var path = Path.Combine(TestPaths.NewTemporaryFolder(), "single.sagat");
        ModelFile.Save(path, model);

        using var predictor = SaGatPredictor.Load(path, backend);
        Assert.That(predictor.HasUncertainty, Is.False);
        var structures = GatTestData.Structures(Crystals);
        var predictions = predictor.PredictWithUncertainty(structures);
        Assert.That(predictions.Std, Is.All.NaN);
        Assert.That(predictions.Mean, Is.EqualTo(model.Predict(model.Prepare(structures))), "one member's mean is its prediction, bit for bit");
    }

    [Test]
    public void ARerunResumesEveryMemberFromItsCheckpoint()
    {
        var data = Data();
        using var backend = Devices.Create("cpu");
        var folder = TestPaths.NewTemporaryFolder();
        var members = EnsembleMember.Recipe(["fcn", "cgcnn"], 3);
        // A constant rate, so two epochs and two more are the four-epoch run (a cosine spans --epochs).
        TrainingOptions Run(int epochs, string? checkpoints) => Options(checkpoints) with { Epochs = epochs, Schedule = "plateau" };
        using var first = EnsembleTrainer.Train(backend, data, Small, Run(2, folder), members);
        using var second = EnsembleTrainer.Train(backend, data, Small, Run(4, folder), members);
        using var uninterrupted = EnsembleTrainer.Train(backend, data, Small, Run(4, null), members);
        Assert.That(second.MemberResults.Select(r => r.ResumedFromCheckpoint), Is.All.True);
        Assert.That(second.MemberResults.Select(r => r.History.Count), Is.All.EqualTo(4));
        Assert.That(second.Test.Predicted, Is.EqualTo(uninterrupted.Test.Predicted), "a resumed ensemble is the uninterrupted one");
    }

    [Test]
    public void MembersAreNamedByKindAndBadRecipesAreRefused()
    {
        Assert.That(EnsembleMember.DefaultKinds(EnsembleMember.DefaultCount), Is.EqualTo(new[] { "sae", "fcn", "cgcnn", "fcn", "cgcnn" }));
        var members = EnsembleMember.Recipe([.. EnsembleMember.DefaultKinds(3), "sae"], 42);
        Assert.That(members.Select(m => (m.Name, m.Encoder, m.Featurizer, m.Seed)), Is.EqualTo(new[]
        {
            ("sae", "sae", "sae", 42), ("fcn", "fcn", "sae", 43), ("cgcnn", "fcn", "cgcnn", 44), ("sae-2", "sae", "sae", 45),
        }));
        Assert.That(() => EnsembleMember.Recipe(["sae", "gcn"], 1), Throws.ArgumentException.With.Message.Contains("'gcn'"));
        using var backend = Devices.Create("cpu");
        Assert.That(() => EnsembleTrainer.Train(backend, new Dictionary<string, TrainingData> { ["sae"] = GatTestData.Data(6) }, Small, Options(),
            EnsembleMember.Recipe(["sae", "cgcnn"], 1)), Throws.ArgumentException.With.Message.Contains("'cgcnn' features"));
    }
}

public class UncertaintyMetricsTests
{
    [Test]
    public void SpearmanRanksWithTiesAtTheirMeanRank()
    {
        Assert.That(UncertaintyMetrics.Spearman([1, 2, 3, 4], [10, 20, 30, 45]), Is.EqualTo(1).Within(1e-12));
        Assert.That(UncertaintyMetrics.Spearman([1, 2, 3, 4], [4, 3, 2, 1]), Is.EqualTo(-1).Within(1e-12));
        // ranks (0, 1.5, 1.5, 3) against (0, 1, 2, 3): 4.5 / sqrt(4.5 * 5)
        Assert.That(UncertaintyMetrics.Spearman([1, 2, 2, 3], [1, 2, 3, 4]), Is.EqualTo(4.5 / Math.Sqrt(22.5)).Within(1e-12));
    }

    [Test]
    public void NormalQuantilesAreTheTabulatedOnes()
    {
        Assert.That(UncertaintyMetrics.NormalQuantile(0.95), Is.EqualTo(UncertaintyMetrics.Z90).Within(1e-6));
        Assert.That(UncertaintyMetrics.NormalQuantile(0.84), Is.EqualTo(UncertaintyMetrics.Z68).Within(1e-6));
        Assert.That(UncertaintyMetrics.NormalQuantile(0.975), Is.EqualTo(1.959963984540054).Within(1e-6));
    }

    /// <summary>Errors drawn with a std three times the raw spread: the scale finds the three, and the scaled spread covers
    /// what it says on fresh crystals.</summary>
    [Test]
    public void TheCalibrationScaleMakesIntervalsCoverWhatTheySay()
    {
        int seed = TestContext.CurrentContext.Random.Next();
        TestContext.Out.WriteLine($"random seed {seed}");
        var random = new Random(seed);
        (double[] Actual, double[] Mean, double[] Spread) Draw(int n)
        {
            var spread = Enumerable.Range(0, n).Select(_ => 0.1 + random.NextDouble()).ToArray();
            var mean = Enumerable.Range(0, n).Select(_ => random.NextDouble()).ToArray();
            var actual = mean.Select((m, i) => m + 3 * spread[i] * Gaussian(random)).ToArray();
            return (actual, mean, spread);
        }

        var calibration = Draw(20000);
        double scale = UncertaintyMetrics.CalibrationScale(calibration.Actual, calibration.Mean, calibration.Spread);
        Assert.That(scale, Is.EqualTo(3).Within(0.1));
        var fresh = Draw(20000);
        var std = fresh.Spread.Select(s => scale * s).ToArray();
        var metrics = UncertaintyMetrics.Compute(fresh.Actual, fresh.Mean, std);
        Assert.That(metrics.Coverage90, Is.EqualTo(0.90).Within(0.01));
        Assert.That(metrics.Coverage68, Is.EqualTo(0.68).Within(0.015));
        Assert.That(metrics.SpearmanErrorSpread, Is.GreaterThan(0.2), "larger spreads do hold larger errors");
        Assert.That(metrics.TopDecileErrorRatio, Is.GreaterThan(1.5));
        foreach (var (nominal, observed) in UncertaintyMetrics.ReliabilityCurve(fresh.Actual, fresh.Mean, std))
            Assert.That(observed, Is.EqualTo(nominal).Within(0.02), $"nominal {nominal}");
    }

    [Test]
    public void TheTopDecileRatioComparesTheMostUncertainTenthWithTheRest()
    {
        // 20 crystals: the 2 with the largest std have errors 5 and 3, the other 18 error 1.
        var std = Enumerable.Range(0, 20).Select(i => (double)i).ToArray();
        var actual = std.Select(s => s >= 18 ? (s == 19 ? 5.0 : 3.0) : 1.0).ToArray();
        var metrics = UncertaintyMetrics.Compute(actual, new double[20], std);
        Assert.That(metrics.TopDecileErrorRatio, Is.EqualTo(4.0).Within(1e-12));
    }

    private static double Gaussian(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
