using SaGatSr.Autodiff;
using SaGatSr.Gat.Materials;
using SaGatSr.Gat.Model;
using SaGatSr.Gat.Training;
using SaGatSr.Kernels;
using SaGatSr.Kernels.Reference;

namespace SaGatSr.Tests.Gat;

public class SaGatModelTests
{
    private static SaGatConfig SmallConfig(FeatureSet features, int hidden = 8, int heads = 2, int layers = 2, string encoder = "sae",
        string messages = "node") => new()
    {
        FeatureNames = features.Features.Select(f => f.Name).ToArray(),
        FeatureDescriptions = features.Features.Select(f => f.Description).ToArray(),
        Hidden = hidden, Heads = heads, Layers = layers, GaussianCount = new GraphOptions().GaussianCount, Seed = 7, Encoder = encoder, Messages = messages,
    };

    private static double Loss(SaGatModel model, DeviceGraphBatch batch, Tensor target, Tape? tape)
    {
        var (prediction, _) = model.Forward(batch);
        var loss = Ops.MseLoss(prediction, target);
        double value = loss.Item();
        tape?.Backward(loss);
        return value;
    }

    [TestCase("sae", "node")]
    [TestCase("fcn", "node")]
    [TestCase("sae", "edge")]
    public void WholeModelGradientMatchesFiniteDifferencesInFloat64(string encoder, string messages)
    {
        var data = GatTestData.Data(3);
        var samples = GatTestData.Samples(data);
        using var backend = new ReferenceBackend();
        using var model = new SaGatModel(backend, SmallConfig(data.Features, encoder: encoder, messages: messages));
        using var batch = Batches.Upload(backend, samples, [0, 1, 2], data.GraphOptions, data.Features.Count);
        using var target = Tensor.FromArray(backend, new double[] { 0.5, -1.0, 2.0 }, 3, 1);
        using (var tape = new Tape()) Loss(model, batch, target, tape);

        var rng = new Random(11);
        int checkedEntries = 0;
        foreach (var (name, parameter) in model.NamedParameters())
        {
            var analytic = new double[parameter.Length];
            backend.Download(parameter.Grad!, analytic);
            var values = new double[parameter.Length];
            backend.Download(parameter.Data, values);
            for (int trial = 0; trial < 2; trial++)
            {
                int at = rng.Next(parameter.Length);
                const double step = 1e-6;
                double original = values[at];
                values[at] = original + step;
                backend.Upload(parameter.Data, values);
                double plus;
                using (Tape.NoGrad()) plus = Loss(model, batch, target, null);
                values[at] = original - step;
                backend.Upload(parameter.Data, values);
                double minus;
                using (Tape.NoGrad()) minus = Loss(model, batch, target, null);
                values[at] = original;
                backend.Upload(parameter.Data, values);
                double numeric = (plus - minus) / (2 * step);
                Assert.That(analytic[at], Is.EqualTo(numeric).Within(1e-6 + 1e-4 * Math.Abs(numeric)),
                    $"d loss / d {name}[{at}]");
                checkedEntries++;
            }
        }

        Assert.That(checkedEntries, Is.GreaterThan(20));
    }

    [Test]
    public void ImportanceCoefficientsAreASoftmaxOverFeaturesStartingUniform()
    {
        var data = GatTestData.Data(2);
        var samples = GatTestData.Samples(data);
        using var backend = new ReferenceBackend();
        using var model = new SaGatModel(backend, SmallConfig(data.Features));
        using var batch = Batches.Upload(backend, samples, [0, 1], data.GraphOptions, data.Features.Count);
        using var tape = Tape.NoGrad();
        var (_, importance) = model.Forward(batch);
        var coefficients = importance!.ToDoubleArray();
        int features = data.Features.Count;
        Assert.That(coefficients, Has.Length.EqualTo(batch.AtomCount * features));
        for (int atom = 0; atom < batch.AtomCount; atom++)
        {
            var row = coefficients.AsSpan(atom * features, features).ToArray();
            Assert.That(row.Sum(), Is.EqualTo(1.0).Within(1e-12));
            Assert.That(row, Is.All.EqualTo(1.0 / features).Within(1e-12), "zero-initialised scores weigh every feature equally");
        }
    }

    [Test]
    public void AnFcnEncoderEmbedsTheWholeFeatureVectorAndRanksNothing()
    {
        var data = GatTestData.Data(2);
        var samples = GatTestData.Samples(data);
        using var backend = new ReferenceBackend();
        var network = new SaGatModel(backend, SmallConfig(data.Features, encoder: "fcn"));
        Assert.That(network.NamedParameters().Select(p => p.Name), Has.Some.StartWith("fcn.embed.").And.None.StartWith("sae."));
        Assert.That(network.HasImportance, Is.False);
        using var model = new TrainedModel(network, FeatureScaler.Fit(data.Inputs.Select(i => i.Features), data.Features.Count),
            new ModelMetadata(), null);
        using (var batch = Batches.Upload(backend, samples, [0, 1], data.GraphOptions, data.Features.Count))
        using (Tape.NoGrad())
            Assert.That(network.Forward(batch).Importance, Is.Null);
        Assert.That(model.Predict(samples), Has.All.Matches<double>(double.IsFinite));
        var error = Assert.Throws<InvalidOperationException>(() => model.ComputeImportance(samples));
        Assert.That(error!.Message, Does.Contain("fcn").And.Contain("SAE"));
    }

    [Test]
    public void AnUnknownEncoderIsRefusedWithItsName()
    {
        var features = GatTestData.Features;
        var error = Assert.Throws<ArgumentException>(() => SmallConfig(features, encoder: "mlp").Validate());
        Assert.That(error!.Message, Does.Contain("'mlp'"));
    }

    [Test]
    public void AModelFromAnOlderFeatureSetRefusesToPredict()
    {
        // e.g. a model saved before the site and crystal features: its 180 columns would be read out of 195
        var older = new FeatureSet(GatTestData.Features.Features.Take(180).ToArray());
        using var backend = new ReferenceBackend();
        var network = new SaGatModel(backend, SmallConfig(older));
        using var model = new TrainedModel(network, FeatureScaler.Fit([new float[180]], 180), new ModelMetadata(), null);
        var structure = GatTestData.Dataset.Entries[0].Structure;
        Assert.That(() => model.Prepare([structure]), Throws.InstanceOf<InvalidDataException>().With.Message.Contains("retrain"));
    }

    [Test]
    public void PredictionsDoNotDependOnHowCrystalsAreBatched()
    {
        var data = GatTestData.Data(5);
        var samples = GatTestData.Samples(data);
        using var backend = new ReferenceBackend();
        var network = new SaGatModel(backend, SmallConfig(data.Features));
        using var model = new TrainedModel(network, FeatureScaler.Fit(data.Inputs.Select(i => i.Features), data.Features.Count),
            new ModelMetadata(), null);
        var together = model.Predict(samples, batchSize: 5);
        var oneByOne = model.Predict(samples, batchSize: 1);
        Assert.That(oneByOne, Is.EqualTo(together).Within(1e-12));
        Assert.That(together.Distinct().Count(), Is.EqualTo(5), "different crystals get different predictions");
    }
}

public class AcceleratorTrainingTests
{
    /// <summary>
    /// The GPU code path end to end: the loss and every gradient of SA-GAT computed through the ILGPU kernels (on ILGPU's CPU
    /// accelerator without a GPU, and on the GPU that SAGATSR_DEVICE names) match the SIMD CPU backend's.
    /// </summary>
    [TestCaseSource(typeof(TestDevices), nameof(TestDevices.Accelerated))]
    public void ForwardAndBackwardThroughIlgpuKernelsMatchTheSimdBackend(string device)
    {
        var data = GatTestData.Data(2);
        var samples = GatTestData.Samples(data);
        var config = new SaGatConfig
        {
            FeatureNames = data.Features.Features.Select(f => f.Name).ToArray(),
            FeatureDescriptions = data.Features.Features.Select(f => f.Description).ToArray(),
            Hidden = 8, Heads = 2, Layers = 1, GaussianCount = data.GraphOptions.GaussianCount, Seed = 5,
        };
        (double Loss, float[][] Gradients) LossAndGradients(string device)
        {
            using var backend = Devices.Create(device);
            using var model = new SaGatModel(backend, config);
            using var batch = Batches.Upload(backend, samples, [0, 1], data.GraphOptions, config.FeatureCount);
            using var target = Tensor.FromArray(backend, new float[] { 0.5f, -1f }, 2, 1);
            using var tape = new Tape();
            var (prediction, _) = model.Forward(batch);
            var loss = Ops.MseLoss(prediction, target);
            tape.Backward(loss);
            return (loss.Item(), model.Parameters().Select(p => p.GradToArray()!).ToArray());
        }

        var simd = LossAndGradients("cpu");
        var ilgpu = LossAndGradients(device);
        Assert.That(ilgpu.Loss, Is.EqualTo(simd.Loss).Within(1e-5 * Math.Max(1, simd.Loss)));
        // A gradient that vanishes analytically (target-side attention when all of a target's logits share a sign, so
        // LeakyReLU keeps the softmax shift-invariant) is float32 round-off on both sides: compare it on the model's scale.
        double largest = simd.Gradients.Max(g => g.Max(x => Math.Abs(x)));
        for (int p = 0; p < simd.Gradients.Length; p++)
        {
            double scale = Math.Max(simd.Gradients[p].Max(g => Math.Abs(g)), 1e-3 * largest);
            Assert.That(scale, Is.GreaterThan(0), $"parameter {p} gets a gradient");
            Assert.That(ilgpu.Gradients[p], Is.EqualTo(simd.Gradients[p]).Within(1e-4 * scale), $"gradient of parameter {p}");
        }
    }
}
