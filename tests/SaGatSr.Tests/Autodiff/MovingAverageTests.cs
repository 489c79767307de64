using SaGatSr.Autodiff;
using SaGatSr.Kernels.Reference;

namespace SaGatSr.Tests.Autodiff;

public class MovingAverageTests
{
    [Test]
    public void AveragesFollowTheWarmedUpDecayAndSwapBackExactly()
    {
        using var backend = new ReferenceBackend();
        var rng = new Random(3);
        using var weights = Tensor.Parameter(backend, Enumerable.Range(0, 7).Select(_ => rng.NextDouble()).ToArray(), 7);
        using var average = new ExponentialMovingAverage([weights], 0.95f);
        var expected = weights.ToDoubleArray();
        for (int t = 1; t <= 30; t++)
        {
            var current = Enumerable.Range(0, 7).Select(_ => rng.NextDouble() * 4 - 2).ToArray();
            weights.Upload(current);
            average.Update();
            double decay = Math.Min(0.95, (1.0 + t) / (10.0 + t));
            for (int i = 0; i < expected.Length; i++) expected[i] = decay * expected[i] + (1 - decay) * current[i];
        }

        var last = weights.ToDoubleArray();
        average.Swap();
        Assert.That(weights.ToDoubleArray(), Is.EqualTo(expected).Within(1e-6), "after a swap the weights are the averages");
        average.Swap();
        Assert.That(weights.ToDoubleArray(), Is.EqualTo(last), "a second swap restores the trained weights exactly");
    }

    [Test]
    public void SavedStateRestoresTheAveragesAndCount()
    {
        using var backend = new ReferenceBackend();
        using var weights = Tensor.Parameter(backend, new double[] { 1, 2, 3 }, 3);
        using var average = new ExponentialMovingAverage([weights], 0.5f);
        weights.Upload(new double[] { 5, 5, 5 });
        average.Update();
        using var stream = new MemoryStream();
        average.SaveState(stream);

        // A fresh average starts from the current weights (5, 5, 5); loading must bring back the saved averages.
        using var restored = new ExponentialMovingAverage([weights], 0.5f);
        stream.Position = 0;
        restored.LoadState(stream);
        Assert.That(restored.UpdateCount, Is.EqualTo(1));
        restored.Swap();
        double decay = 2.0 / 11;
        Assert.That(weights.ToDoubleArray(), Is.EqualTo(new[] { 1, 2, 3 }.Select(w => decay * w + (1 - decay) * 5)).Within(1e-6));
        Assert.Throws<InvalidDataException>(() => restored.LoadState(new MemoryStream(stream.ToArray()[..20])));
    }
}
