using System.IO.Compression;
using SaGatSr.Gat.Model;
using SaGatSr.Gat.Training;
using SaGatSr.Kernels;

namespace SaGatSr.Tests.Gat;

public class TrainerTests
{
    private static readonly SaGatConfig Small = new() { Hidden = 16, Heads = 2, Layers = 2, Seed = 3 };

    private static TrainingOptions Options(int epochs, string? checkpoints = null) => new()
    {
        Epochs = epochs, BatchSize = 4, LearningRate = 3e-3f, Seed = 5, CheckpointDirectory = checkpoints, Patience = 1000,
        LearningRatePatience = 2,
    };

    [Test]
    public void TrainingOnTheCpuIsDeterministicBitForBit()
    {
        var data = GatTestData.Data(12);
        using var backend = Devices.Create("cpu");
        var first = Trainer.Train(backend, data, Small, Options(3));
        first.Model.Dispose();
        var second = Trainer.Train(backend, data, Small, Options(3));
        second.Model.Dispose();
        Assert.That(WithoutTimes(second.History), Is.EqualTo(WithoutTimes(first.History)));
        Assert.That(second.Test.Predicted, Is.EqualTo(first.Test.Predicted));
    }

    /// <summary>Epoch records without their wall times, which no two runs share.</summary>
    private static EpochRecord[] WithoutTimes(IEnumerable<EpochRecord> history) => history.Select(h => h with { Seconds = 0 }).ToArray();

    [Test]
    public void LearnsTheTrainingSetFarBetterThanTheMean()
    {
        var data = GatTestData.Data(16);
        using var backend = Devices.Create("cpu");
        var options = Options(60) with { TrainRatio = 1.0, ValidationRatio = 0.0 };
        var result = Trainer.Train(backend, data, Small, options);
        using var model = result.Model;
        double mean = result.Train.Actual.Average();
        double meanMae = result.Train.Actual.Average(a => Math.Abs(a - mean));
        Assert.That(result.Train.Metrics.Mae, Is.LessThan(0.5 * meanMae));
        Assert.That(result.History[^1].TrainLoss, Is.LessThan(result.History[0].TrainLoss));
    }

    [TestCase("plateau", 0f, 0f)]
    [TestCase("cosine", 0.9f, 0.3f)]
    public void ResumingFromACheckpointGivesTheSameRunAsNeverStopping(string schedule, float ema, float dropout)
    {
        var data = GatTestData.Data(12);
        using var backend = Devices.Create("cpu");
        var architecture = Small with { Dropout = dropout };
        TrainingOptions Run(int epochs, string? folder) => Options(epochs, folder) with { Schedule = schedule, WarmupEpochs = 1, EmaDecay = ema };
        var uninterrupted = Trainer.Train(backend, data, architecture, Run(4, null));
        uninterrupted.Model.Dispose();

        var folder = TestPaths.NewTemporaryFolder();
        // The cosine schedule spans --epochs, so the interrupted run is the 4-epoch run cancelled after 2 epochs.
        using (var cancel = new CancellationTokenSource())
        {
            var stopAfterTwo = new SynchronousProgress(p => { if (p.Batch == 0 && p.Epoch == 2) cancel.Cancel(); });
            Assert.Throws<OperationCanceledException>(() => Trainer.Train(backend, data, architecture, Run(4, folder), stopAfterTwo, cancel.Token));
        }

        Assert.That(File.Exists(Path.Combine(folder, Trainer.CheckpointFileName)));
        var resumed = Trainer.Train(backend, data, architecture, Run(4, folder));
        using var model = resumed.Model;
        Assert.That(resumed.ResumedFromCheckpoint);
        Assert.That(WithoutTimes(resumed.History), Is.EqualTo(WithoutTimes(uninterrupted.History)));
        Assert.That(resumed.Test.Predicted, Is.EqualTo(uninterrupted.Test.Predicted));
    }

    private sealed class SynchronousProgress(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }

    [TestCase(0f)]
    [TestCase(0.9f)]
    public void TheSavedModelIsTheOneThatWasValidatedBest(float ema)
    {
        var data = GatTestData.Data(12);
        using var backend = Devices.Create("cpu");
        var result = Trainer.Train(backend, data, Small, Options(5) with { EmaDecay = ema, Schedule = "cosine" });
        using var model = result.Model;
        Assert.That(result.Validation.Metrics.Mae, Is.EqualTo(result.History[result.BestEpoch - 1].ValidationMae).Within(1e-12),
            "validation MAE of the returned model = the best epoch's recorded one");
        Assert.That(result.History.Select(h => h.Seconds), Is.Ordered.And.All.GreaterThan(0));
    }

    [Test]
    public void ARunThatStoppedEarlyOnlyEvaluatesWhenResumed()
    {
        var data = GatTestData.Data(12);
        using var backend = Devices.Create("cpu");
        string folder = TestPaths.NewTemporaryFolder();
        // A large rate and no patience: the plateau schedule stops at the first epoch without a better validation MAE.
        var options = Options(200, folder) with { Schedule = "plateau", Patience = 1, LearningRate = 3e-2f };
        var first = Trainer.Train(backend, data, Small, options);
        first.Model.Dispose();
        Assume.That(first.StoppedEarly, Is.True, "the first run stops early");
        var again = Trainer.Train(backend, data, Small, options);
        using var model = again.Model;
        Assert.That((again.ResumedFromCheckpoint, again.StoppedEarly), Is.EqualTo((true, true)));
        Assert.That(WithoutTimes(again.History), Is.EqualTo(WithoutTimes(first.History)), "no epoch trained after the stop");
        Assert.That(again.Test.Predicted, Is.EqualTo(first.Test.Predicted));
    }

    [Test]
    public void TheCosineScheduleWarmsUpLinearlyThenDecaysToTheMinimum()
    {
        var options = new TrainingOptions { Epochs = 10, LearningRate = 1e-2f, MinLearningRate = 1e-4f, Schedule = "cosine", WarmupEpochs = 2 };
        const int steps = 5;
        var rates = Enumerable.Range(0, options.Epochs * steps).Select(s => (double)Trainer.LearningRateAt(options, s, steps)).ToArray();
        for (int s = 0; s < 2 * steps; s++) Assert.That(rates[s], Is.EqualTo(1e-2 * (s + 1) / 10).Within(1e-9), $"warm-up step {s}");
        Assert.That(rates[2 * steps], Is.EqualTo(1e-2).Within(1e-9), "the peak right after warm-up");
        Assert.That(rates.Skip(2 * steps), Is.Ordered.Descending);
        Assert.That(rates[6 * steps], Is.EqualTo(1e-4 + 0.5 * (1e-2 - 1e-4)).Within(1e-9), "halfway through the decay");
        Assert.That(Trainer.LearningRateAt(options, options.Epochs * steps, steps), Is.EqualTo(1e-4f).Within(1e-9));
    }

    [Test]
    public void TrainingOptionsOutsideTheirRangeAreRefusedByName()
    {
        Assert.That(Assert.Throws<ArgumentException>(() => new TrainingOptions { Schedule = "step" }.Validate())!.Message, Does.Contain("--schedule"));
        Assert.That(Assert.Throws<ArgumentException>(() => new TrainingOptions { EmaDecay = 1f }.Validate())!.Message, Does.Contain("--ema"));
        Assert.That(Assert.Throws<ArgumentException>(() => new TrainingOptions { Epochs = 5, WarmupEpochs = 5 }.Validate())!.Message, Does.Contain("--warmup"));
    }

    [Test]
    public void TheDefaultWarmUpShrinksWithShortRuns()
    {
        Assert.That(new TrainingOptions { Epochs = 150 }.Warmup, Is.EqualTo(5));
        var shortRun = new TrainingOptions { Epochs = 3 };
        Assert.DoesNotThrow(shortRun.Validate);
        Assert.That(shortRun.Warmup, Is.EqualTo(0.3).Within(1e-12));
        Assert.That(new TrainingOptions { Epochs = 3, WarmupEpochs = 1 }.Warmup, Is.EqualTo(1));
    }

    [Test]
    public void ANonFiniteNumberStopsTrainingWithAMessage()
    {
        var data = GatTestData.Data(10);
        var options = Options(2, TestPaths.NewTemporaryFolder());
        var split = DataSplit.ByRatio(data.Inputs.Count, options.TrainRatio, options.ValidationRatio, options.Seed);
        // An overflowing feature of a validation crystal: the scaler (fitted on training crystals) lets it through.
        var poisoned = data.Inputs.Select(i => (i.Graph, (float[])i.Features.Clone())).ToArray();
        poisoned[split.Validation[0]].Item2[0] = float.PositiveInfinity;
        using var backend = Devices.Create("cpu");
        var error = Assert.Throws<TrainingDivergedException>(() => Trainer.Train(backend, data with { Inputs = poisoned }, Small, options));
        Assert.That(error!.Message, Does.Contain("epoch 1"));
    }

    [Test]
    public void SavedModelsPredictExactlyLikeTheOriginal()
    {
        var data = GatTestData.Data(8);
        using var backend = Devices.Create("cpu");
        var result = Trainer.Train(backend, data, Small, Options(2));
        using var model = result.Model;
        var path = Path.Combine(TestPaths.NewTemporaryFolder(), "model.sagat");
        ModelFile.Save(path, model);
        using var loaded = ModelFile.Load(path, backend);
        var samples = GatTestData.Dataset.Entries.Take(5).Select(e => e.Structure).ToArray();
        Assert.That(loaded.Predict(loaded.Prepare(samples)), Is.EqualTo(model.Predict(model.Prepare(samples))));
        Assert.That(loaded.Importance!.Select(f => f.Name), Is.EqualTo(model.Importance!.Select(f => f.Name)));
        Assert.That(loaded.Metadata.Test, Is.EqualTo(model.Metadata.Test));
    }

    [Test]
    public void AnInterruptedWriteLeavesThePreviousFileIntact()
    {
        var path = Path.Combine(TestPaths.NewTemporaryFolder(), "checkpoint.sagat");
        ModelFile.WriteAtomically(path, zip => ModelFile.WriteText(zip, "progress.json", "first"));
        Assert.Throws<IOException>(() => ModelFile.WriteAtomically(path, zip =>
        {
            ModelFile.WriteText(zip, "progress.json", "second, half written");
            throw new IOException("disk full");
        }));
        using (var zip = ZipFile.OpenRead(path))
            Assert.That(ModelFile.ReadText(zip, path, "progress.json"), Is.EqualTo("first"));
        Assert.That(Directory.GetFiles(Path.GetDirectoryName(path)!), Has.Length.EqualTo(1), "no temporary file is left behind");
    }

    [Test]
    public void LoadingSomethingThatIsNotAModelSaysSo()
    {
        var path = Path.Combine(TestPaths.NewTemporaryFolder(), "model.sagat");
        File.WriteAllText(path, "not a zip");
        using var backend = Devices.Create("cpu");
        var error = Assert.Throws<InvalidDataException>(() => ModelFile.Load(path, backend));
        Assert.That(error!.Message, Does.StartWith(path));
    }

    [Test]
    public void AModelWrittenBeforeTheEncoderSettingsExistedLoadsAsItWasTrained()
    {
        var data = GatTestData.Data(6);
        using var backend = Devices.Create("cpu");
        var result = Trainer.Train(backend, data, Small with { SaeFeatureLogits = false, SaeTemperature = 1f }, Options(1));
        using var model = result.Model;
        string folder = TestPaths.NewTemporaryFolder(), path = Path.Combine(folder, "old.sagat");
        ModelFile.Save(path, model);
        // Rewrite config.json as an older version wrote it: without the two settings (and without an integrity manifest).
        using (var zip = ZipFile.Open(path, ZipArchiveMode.Update))
        {
            zip.GetEntry(FileIntegrity.ManifestEntry)!.Delete();
            var entry = zip.GetEntry("config.json")!;
            string json;
            using (var reader = new StreamReader(entry.Open())) json = reader.ReadToEnd();
            var node = System.Text.Json.Nodes.JsonNode.Parse(json)!.AsObject();
            Assert.That(node.Remove(nameof(SaGatConfig.SaeFeatureLogits)) && node.Remove(nameof(SaGatConfig.SaeTemperature)));
            entry.Delete();
            using var writer = new StreamWriter(zip.CreateEntry("config.json").Open());
            writer.Write(node.ToJsonString());
        }

        using var loaded = ModelFile.Load(path, backend);
        Assert.That((loaded.Config.SaeFeatureLogits, loaded.Config.SaeTemperature), Is.EqualTo((false, 1f)));
        var samples = loaded.Prepare(GatTestData.Dataset.Entries.Take(6).Select(e => e.Structure).ToArray());
        Assert.That(loaded.Predict(samples), Is.EqualTo(model.Predict(samples)));
        Assert.That(new SaGatConfig().SaeFeatureLogits && new SaGatConfig().SaeTemperature < 1, "new models use the sharper encoder");
    }

    [Test]
    public void AMultiHeadEncoderRanksFeaturesWithCoefficientsThatSumToOneAndRoundTrips()
    {
        var data = GatTestData.Data(6);
        using var backend = Devices.Create("cpu");
        var result = Trainer.Train(backend, data, Small with { SaeHeads = 4 }, Options(2));
        using var model = result.Model;
        var samples = model.Prepare(GatTestData.Dataset.Entries.Take(6).Select(e => e.Structure).ToArray());
        var importance = model.ComputeImportance(samples);
        Assert.That(importance.Sum(f => f.Mean), Is.EqualTo(1).Within(1e-4), "the heads' mean coefficients of an atom sum to 1");
        Assert.That(importance.Max(f => f.Mean), Is.GreaterThan(importance.Min(f => f.Mean)), "training moved the coefficients apart");
        string path = Path.Combine(TestPaths.NewTemporaryFolder(), "heads.sagat");
        ModelFile.Save(path, model);
        using var loaded = ModelFile.Load(path, backend);
        Assert.That(loaded.Config.SaeHeads, Is.EqualTo(4));
        Assert.That(loaded.Predict(samples), Is.EqualTo(model.Predict(samples)));
    }

    [TestCase("cosine", 12, 7)]
    [TestCase("plateau", 12, 2)]
    public void PatienceWaitsForTheSecondHalfOfACosineRun(string schedule, int epochs, int expectedEpochs)
    {
        // A learning rate far below the weights' rounding leaves them unchanged, so no epoch improves on the first and
        // patience 1 stops at epoch 2 unless the schedule holds it.
        var data = GatTestData.Data(6);
        using var backend = Devices.Create("cpu");
        var result = Trainer.Train(backend, data, Small, Options(epochs) with { Schedule = schedule, Patience = 1, LearningRate = 1e-30f, MinLearningRate = 1e-30f });
        using var model = result.Model;
        Assert.That(result.History, Has.Count.EqualTo(expectedEpochs));
        Assert.That(result.StoppedEarly);
    }
}
