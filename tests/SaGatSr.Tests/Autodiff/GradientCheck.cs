using SaGatSr.Autodiff;
using SaGatSr.Kernels;
using SaGatSr.Kernels.Reference;

namespace SaGatSr.Tests.Autodiff;

/// <summary>Random float64 inputs on the reference backend, plus the checker comparing backward with finite differences.</summary>
internal sealed class GradientSetup : IDisposable
{
    private readonly List<IDisposable> owned = [];

    public GradientSetup(int seed)
    {
        Rng = new Random(seed);
        owned.Add(Backend);
    }

    public ReferenceBackend Backend { get; } = new();

    public Random Rng { get; }

    public int Size(int min, int max) => Rng.Next(min, max + 1);

    /// <summary>A parameter with values uniform in [-1, 1].</summary>
    public Tensor Random(params int[] shape) => Parameter(shape, () => Rng.NextDouble() * 2 - 1);

    /// <summary>Values with |x| in [0.2, 1.5] and alternating sign (first positive): away from the kinks at 0 of Relu and Abs.</summary>
    public Tensor AwayFromZero(params int[] shape)
    {
        int next = 0;
        return Parameter(shape, () => (0.2 + 1.3 * Rng.NextDouble()) * (next++ % 2 == 0 ? 1 : -1));
    }

    /// <summary>Values in [0.5, 2] (Log, Sqrt, divisors).</summary>
    public Tensor Positive(params int[] shape) => Parameter(shape, () => 0.5 + 1.5 * Rng.NextDouble());

    public Tensor Parameter(int[] shape, Func<double> draw)
    {
        int length = shape.Aggregate(1, (a, b) => a * b);
        var tensor = Tensor.Parameter(Backend, Enumerable.Range(0, length).Select(_ => draw()).ToArray(), shape);
        owned.Add(tensor);
        return tensor;
    }

    public IndexTensor Indices(int count, int bound) => Indices(Enumerable.Range(0, count).Select(_ => Rng.Next(bound)).ToArray());

    public IndexTensor Indices(int[] values)
    {
        var index = IndexTensor.FromArray(Backend, values);
        owned.Add(index);
        return index;
    }

    /// <summary>
    /// 1 to 5 segments of 0 to 3 rows, so empty and single-row segments are covered; the first has 2 or 3 rows so a
    /// softmax over it has a non-zero gradient.
    /// </summary>
    public Segments RandomSegments()
    {
        int count = Size(1, 5);
        var offsets = new int[count + 1];
        for (int s = 0; s < count; s++) offsets[s + 1] = offsets[s] + (s == 0 ? Size(2, 3) : Size(0, 3));
        var segments = Segments.FromOffsets(Backend, offsets);
        owned.Add(segments);
        return segments;
    }

    public void Dispose()
    {
        for (int i = owned.Count - 1; i >= 0; i--) owned[i].Dispose();
    }
}

internal static class GradientCheck
{
    private const double Step = 1e-5;

    /// <summary>
    /// Checks d/dinputs of loss = sum(f(inputs) * w) for fixed random w: the taped backward pass against central
    /// differences, element by element, and that every input gets a non-trivial gradient.
    /// </summary>
    public static void Check(GradientSetup setup, Tensor[] inputs, Func<Tensor[], Tensor> f, double tolerance = 1e-6)
    {
        var backend = setup.Backend;
        double[] weights;
        using (Tape.NoGrad())
        {
            var probe = f(inputs);
            weights = Enumerable.Range(0, probe.Length).Select(_ => setup.Rng.NextDouble() * 2 - 1).ToArray();
        }

        foreach (var input in inputs) input.ZeroGrad();
        using (var tape = new Tape())
        {
            var output = f(inputs);
            var loss = Ops.Sum(Ops.Mul(output, Tensor.FromArray(backend, weights, output.Shape)));
            tape.Backward(loss);
        }

        double Loss()
        {
            using var _ = Tape.NoGrad();
            var output = f(inputs).ToDoubleArray();
            return output.Select((v, i) => v * weights[i]).Sum();
        }

        for (int which = 0; which < inputs.Length; which++)
        {
            var input = inputs[which];
            var analytic = input.GradToDoubleArray();
            Assert.That(analytic, Is.Not.Null, $"input {which} {input} got no gradient");
            var values = input.ToDoubleArray();
            var numeric = new double[values.Length];
            for (int i = 0; i < values.Length; i++)
            {
                double original = values[i];
                values[i] = original + Step;
                input.Upload(values);
                double plus = Loss();
                values[i] = original - Step;
                input.Upload(values);
                double minus = Loss();
                values[i] = original;
                input.Upload(values);
                numeric[i] = (plus - minus) / (2 * Step);
            }

            for (int i = 0; i < values.Length; i++)
                Assert.That(Math.Abs(analytic![i] - numeric[i]), Is.LessThanOrEqualTo(tolerance * (1 + Math.Abs(numeric[i]))),
                    $"input {which} {input} element {i}: backward {analytic[i]}, finite differences {numeric[i]}");
            Assert.That(analytic!.Max(Math.Abs), Is.GreaterThan(1e-6), $"input {which} {input}: gradient is all zero, the check proves nothing");
        }
    }
}
