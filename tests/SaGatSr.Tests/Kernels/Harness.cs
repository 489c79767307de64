using SaGatSr.Kernels;
using SaGatSr.Kernels.Reference;

namespace SaGatSr.Tests.Kernels;

/// <summary>One logical tensor held three times: on the backend under test, on the float64 reference, and
/// on the reference with absolute values (run through the same op, that gives the sum of |terms| bound).</summary>
internal sealed class Trio(DeviceBuffer actual, DeviceBuffer expected, DeviceBuffer magnitude, float[] values)
{
    public DeviceBuffer Actual { get; } = actual;
    public DeviceBuffer Expected { get; } = expected;
    public DeviceBuffer Magnitude { get; } = magnitude;
    public float[] Values { get; } = values;
    public int Length => Values.Length;
}

internal sealed class IndexPair(IndexBuffer actual, IndexBuffer expected, int[] values)
{
    public IndexBuffer Actual { get; } = actual;
    public IndexBuffer Expected { get; } = expected;
    public int[] Values { get; } = values;
}

/// <summary>Which copy of each tensor an op runs on; <see cref="S"/> maps scalars (|s| in the magnitude run).</summary>
internal sealed class View(int which)
{
    public DeviceBuffer B(Trio t) => which switch { 0 => t.Actual, 1 => t.Expected, _ => t.Magnitude };
    public DeviceBuffer? Maybe(Trio? t) => t is null ? null : B(t);
    public IndexBuffer I(IndexPair p) => which == 0 ? p.Actual : p.Expected;
    public float S(float s) => which == 2 ? Math.Abs(s) : s;
}

/// <summary>Runs one op on a float32 backend and on the reference, and checks float32 against float64.</summary>
internal sealed class Harness : IDisposable
{
    public const double Tolerance = 1e-5;

    private readonly List<IDisposable> owned = [];

    public Harness(IComputeBackend backend, int seed)
    {
        Backend = backend;
        Random = new Random(seed);
    }

    public IComputeBackend Backend { get; }
    public ReferenceBackend Reference { get; } = new();
    public Random Random { get; }

    public Trio Tensor(int length, double low = -1, double high = 1) =>
        Tensor(Enumerable.Range(0, length).Select(_ => (float)(low + (high - low) * Random.NextDouble())).ToArray());

    public Trio Tensor(float[] values)
    {
        var actual = Own(Backend.Allocate(values.Length));
        var expected = Own(Reference.Allocate(values.Length));
        var magnitude = Own(Reference.Allocate(values.Length));
        Backend.Upload(actual, values);
        Reference.Upload(expected, values);
        Reference.Upload(magnitude, values.Select(Math.Abs).ToArray());
        return new Trio(actual, expected, magnitude, values);
    }

    public IndexPair Indices(int[] values)
    {
        var actual = Own(Backend.AllocateIndices(values.Length));
        var expected = Own(Reference.AllocateIndices(values.Length));
        Backend.Upload(actual, values);
        Reference.Upload(expected, values);
        return new IndexPair(actual, expected, values);
    }

    /// <summary>Offsets of <paramref name="segments"/> segments of random sizes in [0, maxSize], some empty.</summary>
    public int[] Offsets(int segments, int maxSize)
    {
        var offsets = new int[segments + 1];
        for (int s = 0; s < segments; s++)
            offsets[s + 1] = offsets[s] + (Random.Next(5) == 0 ? 0 : Random.Next(maxSize + 1));
        return offsets;
    }

    public int[] RandomIndices(int count, int range) => Enumerable.Range(0, count).Select(_ => Random.Next(range)).ToArray();

    private T Own<T>(T item) where T : IDisposable
    {
        owned.Add(item);
        return item;
    }

    /// <summary>
    /// For ops that are sums of products of the inputs: error bound tol * (the op on |inputs|, |scalars|).
    /// </summary>
    public void CheckLinear(Action<IComputeBackend, View> op, params Trio[] outputs)
    {
        op(Backend, new View(0));
        op(Reference, new View(1));
        op(Reference, new View(2));
        foreach (var output in outputs) Compare(output, Download(Reference, output.Magnitude));
    }

    /// <summary>For elementwise ops: relative error bound per element (plus <paramref name="absolute"/>).</summary>
    public void CheckElementwise(Action<IComputeBackend, View> op, Trio output, double absolute = 0)
    {
        op(Backend, new View(0));
        op(Reference, new View(1));
        var expected = Download(Reference, output.Expected);
        Compare(output, expected.Select(e => Math.Abs(e) + absolute / Tolerance).ToArray());
    }

    public void Compare(Trio output, double[] magnitude)
    {
        var actual = new float[output.Length];
        Backend.Download(output.Actual, actual);
        var expected = Download(Reference, output.Expected);
        int failures = 0;
        string first = "";
        for (int i = 0; i < actual.Length; i++)
        {
            double error = Math.Abs(actual[i] - expected[i]);
            bool bothNaN = double.IsNaN(expected[i]) && float.IsNaN(actual[i]);
            bool sameInfinity = double.IsInfinity(expected[i]) && actual[i] == expected[i];
            if (bothNaN || sameInfinity || error <= Tolerance * magnitude[i]) continue;
            if (failures++ == 0) first = $"element {i}: got {actual[i]:R}, expected {expected[i]:R} (bound {Tolerance * magnitude[i]:E3})";
        }

        Assert.That(failures, Is.Zero, $"{failures} of {actual.Length} elements out of tolerance; first at {first}");
    }

    public static double[] Download(IComputeBackend backend, DeviceBuffer buffer)
    {
        var values = new double[buffer.Length];
        backend.Download(buffer, values);
        return values;
    }

    public void Dispose()
    {
        foreach (var item in owned) item.Dispose();
        Reference.Dispose();
    }
}
