using SaGatSr.Autodiff;
using SaGatSr.Kernels;
using SaGatSr.Kernels.Reference;

namespace SaGatSr.Tests.Autodiff;

public class TrainingTests
{
    private sealed class Mlp : Module
    {
        public Mlp(IComputeBackend backend, int hidden, Random rng, bool withScale = false)
        {
            if (withScale) AddParameter("scale", Tensor.Parameter(backend, [1f], 1));
            Layer1 = AddModule("layer1", new Linear(backend, 2, hidden, rng));
            Layer2 = AddModule("layer2", new Linear(backend, hidden, 1, rng));
        }

        public Linear Layer1 { get; }

        public Linear Layer2 { get; }

        public Tensor Forward(Tensor x) => Layer2.Forward(Ops.Tanh(Layer1.Forward(x)));
    }

    [Test]
    public void SmallMlpLearnsASmoothFunctionWithAdam()
    {
        using var backend = new ReferenceBackend();
        var rng = new Random(7);
        const int samples = 64;
        var inputs = new double[samples * 2];
        var targets = new double[samples];
        for (int i = 0; i < samples; i++)
        {
            double a = rng.NextDouble() * 2 - 1, b = rng.NextDouble() * 2 - 1;
            inputs[2 * i] = a;
            inputs[2 * i + 1] = b;
            targets[i] = Math.Sin(2 * a) * b + 0.5 * a * a;
        }

        using var model = new Mlp(backend, 16, rng);
        using var optimizer = new Adam(model.Parameters(), learningRate: 0.02f);
        using var x = Tensor.FromArray(backend, inputs, samples, 2);
        using var y = Tensor.FromArray(backend, targets, samples, 1);
        double first = 0, last = 0;
        for (int step = 0; step < 300; step++)
        {
            using var tape = new Tape();
            var loss = Ops.MseLoss(model.Forward(x), y);
            optimizer.ZeroGrad();
            tape.Backward(loss);
            optimizer.Step();
            last = loss.Item();
            if (step == 0) first = last;
        }

        Assert.That(last, Is.LessThan(first * 0.05), $"loss went from {first} to {last}");
        Assert.That(optimizer.StepCount, Is.EqualTo(300));
    }

    [TestCase(0f)]
    [TestCase(0.25f)]
    public void AdamStepsMatchHandComputedUpdates(float weightDecay)
    {
        using var backend = new ReferenceBackend();
        double[] start = [0.5, -1.0, 2.0], gradient = [1.0, -2.0, 0.5];
        using var p = Tensor.Parameter(backend, start, 3);
        using var c = Tensor.FromArray(backend, gradient, 3);
        const float learningRate = 0.125f, beta1 = 0.75f, beta2 = 0.875f, epsilon = 1e-8f;
        using var adam = new Adam([p], learningRate, beta1, beta2, epsilon, weightDecay);
        var expected = (double[])start.Clone();
        var m = new double[3];
        var v = new double[3];
        for (int t = 1; t <= 3; t++)
        {
            using (var tape = new Tape())
            {
                adam.ZeroGrad();
                tape.Backward(Ops.Sum(Ops.Mul(p, c))); // gradient = c
            }

            adam.Step();
            for (int i = 0; i < 3; i++)
            {
                m[i] = beta1 * m[i] + (1 - beta1) * gradient[i];
                v[i] = beta2 * v[i] + (1 - beta2) * gradient[i] * gradient[i];
                double mHat = m[i] / (1 - Math.Pow(beta1, t)), vHat = v[i] / (1 - Math.Pow(beta2, t));
                expected[i] -= learningRate * (mHat / (Math.Sqrt(vHat) + epsilon) + weightDecay * expected[i]);
            }

            if (t == 1 && weightDecay == 0)
            {
                // Known answer: Adam's first step moves every weight by the learning rate against its gradient's sign.
                var moved = p.ToDoubleArray().Select((value, i) => start[i] - value).ToArray();
                Assert.That(moved, Is.EqualTo(gradient.Select(g => learningRate * Math.Sign(g))).Within(1e-7));
            }

            Assert.That(p.ToDoubleArray(), Is.EqualTo(expected).Within(1e-12), $"after step {t}");
        }
    }

    [Test]
    public void ClipGradNormScalesAllGradientsTogether()
    {
        using var backend = new ReferenceBackend();
        using var a = Tensor.Parameter(backend, [1.0, 1.0], 2);
        using var b = Tensor.Parameter(backend, [1.0], 1);
        using var adam = new Adam([a, b]);
        using (var tape = new Tape())
        {
            using var ca = Tensor.FromArray(backend, [3.0, 0.0], 2);
            using var cb = Tensor.FromArray(backend, [-4.0], 1);
            tape.Backward(Ops.Add(Ops.Sum(Ops.Mul(a, ca)), Ops.Sum(Ops.Mul(b, cb))));
        }

        Assert.That(adam.ClipGradNorm(10), Is.EqualTo(5).Within(1e-12));
        Assert.That(a.GradToDoubleArray(), Is.EqualTo(new[] { 3.0, 0.0 }), "below the limit nothing changes");
        Assert.That(adam.ClipGradNorm(1), Is.EqualTo(5).Within(1e-12));
        Assert.That(a.GradToDoubleArray(), Is.EqualTo(new[] { 0.6, 0.0 }).Within(1e-7));
        Assert.That(b.GradToDoubleArray(), Is.EqualTo(new[] { -0.8 }).Within(1e-7));
        Assert.That(() => adam.ClipGradNorm(0), Throws.InstanceOf<ArgumentOutOfRangeException>());
    }

    [Test]
    public void SavedParametersAndAdamStateResumeTrainingExactly()
    {
        using var backend = new ReferenceBackend();
        using var x = Tensor.FromArray(backend, Init.Uniform(new Random(3), 1, 8), 4, 2);
        using var y = Tensor.FromArray(backend, Init.Uniform(new Random(4), 1, 4), 4, 1);
        void Step(Mlp model, Adam adam)
        {
            using var tape = new Tape();
            adam.ZeroGrad();
            tape.Backward(Ops.MseLoss(model.Forward(x), y));
            adam.Step();
        }

        using var original = new Mlp(backend, 5, new Random(1));
        using var originalAdam = new Adam(original.Parameters(), 0.01f, weightDecay: 0.01f);
        for (int i = 0; i < 3; i++) Step(original, originalAdam);
        var parameterBytes = new MemoryStream();
        var stateBytes = new MemoryStream();
        original.SaveParameters(parameterBytes);
        originalAdam.SaveState(stateBytes);

        using var resumed = new Mlp(backend, 5, new Random(2));
        using var resumedAdam = new Adam(resumed.Parameters(), 0.01f, weightDecay: 0.01f);
        parameterBytes.Position = 0;
        stateBytes.Position = 0;
        resumed.LoadParameters(parameterBytes);
        resumedAdam.LoadState(stateBytes);
        Assert.That(resumedAdam.StepCount, Is.EqualTo(3));

        Step(original, originalAdam);
        Step(resumed, resumedAdam);
        foreach (var ((name, expected), (_, actual)) in original.NamedParameters().Zip(resumed.NamedParameters()))
            Assert.That(actual.ToDoubleArray(), Is.EqualTo(expected.ToDoubleArray()), name);
    }

    [Test]
    public void ModulesNameParametersHierarchically()
    {
        using var backend = new ReferenceBackend();
        using var model = new Mlp(backend, 3, new Random(1), withScale: true);
        Assert.That(model.NamedParameters().Select(p => p.Name),
            Is.EqualTo(new[] { "scale", "layer1.weight", "layer1.bias", "layer2.weight", "layer2.bias" }));
        Assert.That(model.ParameterCount, Is.EqualTo(1 + 2 * 3 + 3 + 3 * 1 + 1));
        Assert.That(model.Layer1.Weight.Shape, Is.EqualTo(new[] { 2, 3 }));
    }

    [Test]
    public void LoadingParametersOfAnotherShapeOrSetFailsClearlyAndChangesNothing()
    {
        using var backend = new ReferenceBackend();
        using var small = new Mlp(backend, 3, new Random(1));
        using var large = new Mlp(backend, 4, new Random(2));
        using var scaled = new Mlp(backend, 3, new Random(3), withScale: true);
        var bytes = new MemoryStream();
        small.SaveParameters(bytes);
        var before = large.Layer2.Bias!.ToDoubleArray();

        bytes.Position = 0;
        Assert.That(() => large.LoadParameters(bytes),
            Throws.InstanceOf<InvalidDataException>().With.Message.Contains("'layer1.weight' has shape [2, 3] in the file but [2, 4]"));
        Assert.That(large.Layer2.Bias!.ToDoubleArray(), Is.EqualTo(before), "a failed load leaves the model as it was");
        bytes.Position = 0;
        Assert.That(() => scaled.LoadParameters(bytes), Throws.InstanceOf<InvalidDataException>().With.Message.Contains("lacks: scale"));
        var truncated = new MemoryStream(bytes.ToArray()[..^5]);
        Assert.That(() => small.LoadParameters(truncated), Throws.InstanceOf<InvalidDataException>().With.Message.Contains("ends early"));
        Assert.That(() => small.LoadParameters(new MemoryStream([1, 2, 3])), Throws.InstanceOf<InvalidDataException>());
    }

    [Test]
    public void AdamStateForOtherParametersIsRejected()
    {
        using var backend = new ReferenceBackend();
        using var a = new Mlp(backend, 3, new Random(1));
        using var b = new Mlp(backend, 4, new Random(1));
        using var adamA = new Adam(a.Parameters());
        using var adamB = new Adam(b.Parameters());
        var bytes = new MemoryStream();
        adamA.SaveState(bytes);
        bytes.Position = 0;
        Assert.That(() => adamB.LoadState(bytes), Throws.InstanceOf<InvalidDataException>().With.Message.Contains("has 6 values"));
    }
}
