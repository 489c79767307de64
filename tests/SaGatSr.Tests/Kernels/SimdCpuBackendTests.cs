using SaGatSr.Kernels;
using SaGatSr.Kernels.Cpu;

namespace SaGatSr.Tests.Kernels;

/// <summary>Properties specific to the SIMD host backend: bitwise determinism, pooling and argument errors.</summary>
public sealed class SimdCpuBackendTests
{
    /// <summary>Runs the scatter-like and reduction ops on sizes big enough to use every core; returns all result bits.</summary>
    private static List<float[]> RunScatterHeavyWorkload(SimdCpuBackend backend, int seed)
    {
        var random = new Random(seed);
        DeviceBuffer Random(int length)
        {
            var buffer = backend.Allocate(length);
            backend.Upload(buffer, Enumerable.Range(0, length).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray());
            return buffer;
        }

        IndexBuffer Indices(int[] values)
        {
            var buffer = backend.AllocateIndices(values.Length);
            backend.Upload(buffer, values);
            return buffer;
        }

        float[] Read(DeviceBuffer buffer)
        {
            var values = new float[buffer.Length];
            backend.Download(buffer, values);
            return values;
        }

        const int nodes = 3000, edgesPerNode = 12, heads = 4, headDim = 16, width = heads * headDim;
        int edges = nodes * edgesPerNode;
        var offsets = Indices(Enumerable.Range(0, nodes + 1).Select(i => i * edgesPerNode).ToArray());
        var sources = Indices(Enumerable.Range(0, edges).Select(_ => random.Next(nodes)).ToArray());
        using var a = Random(300 * 257);
        using var b = Random(257 * 190);
        using var c = backend.Allocate(300 * 190);
        backend.MatMul(a, b, c, 300, 190, 257);
        using var scores = Random(edges * heads);
        using var probabilities = backend.Allocate(edges * heads);
        backend.SegmentSoftmax(scores, offsets, probabilities, nodes, heads);
        using var values = Random(nodes * width);
        using var output = backend.Allocate(nodes * width);
        backend.SegmentWeightedGatherSum(probabilities, values, sources, offsets, output, nodes, heads, headDim);
        using var dOutput = Random(nodes * width);
        using var dWeights = backend.Allocate(edges * heads);
        using var dValues = backend.Allocate(nodes * width);
        backend.SegmentWeightedGatherSumBackward(probabilities, values, sources, offsets, dOutput, dWeights, dValues, nodes, heads, headDim);
        using var edgeFeatures = Random(edges * width);
        using var scattered = backend.Allocate(nodes * width);
        backend.ScatterAddRows(edgeFeatures, sources, scattered, edges, width);
        using var columnSums = backend.Allocate(width);
        backend.SumColumns(edgeFeatures, columnSums, edges, width);
        float total = (float)backend.Sum(edgeFeatures), dot = (float)backend.Dot(edgeFeatures, edgeFeatures);
        offsets.Dispose();
        sources.Dispose();
        return [Read(c), Read(probabilities), Read(output), Read(dWeights), Read(dValues), Read(scattered), Read(columnSums), [total, dot]];
    }

    [Test]
    public void ResultsAreBitwiseIdenticalAcrossRunsAndThreadCounts()
    {
        int seed = TestContext.CurrentContext.Random.Next();
        TestContext.Out.WriteLine($"random seed {seed}");
        using var backend = new SimdCpuBackend();
        var first = RunScatterHeavyWorkload(backend, seed);
        var second = RunScatterHeavyWorkload(backend, seed);
        // More eagerly injected pool threads change which thread runs which chunk.
        ThreadPool.GetMinThreads(out int workers, out int io);
        ThreadPool.SetMinThreads(16, io);
        List<float[]> third;
        try
        {
            third = RunScatterHeavyWorkload(backend, seed);
        }
        finally
        {
            ThreadPool.SetMinThreads(workers, io);
        }

        // A one-thread backend (an ensemble member training beside others) runs the same chunks inline.
        using var oneThread = new SimdCpuBackend(threads: 1);
        var fourth = RunScatterHeavyWorkload(oneThread, seed);
        Assert.That(oneThread.Name, Does.Contain("1 thread,"));
        for (int i = 0; i < first.Count; i++)
        {
            Assert.That(second[i].Select(BitConverter.SingleToInt32Bits), Is.EqualTo(first[i].Select(BitConverter.SingleToInt32Bits)), $"output {i}, run 2");
            Assert.That(third[i].Select(BitConverter.SingleToInt32Bits), Is.EqualTo(first[i].Select(BitConverter.SingleToInt32Bits)), $"output {i}, run 3");
            Assert.That(fourth[i].Select(BitConverter.SingleToInt32Bits), Is.EqualTo(first[i].Select(BitConverter.SingleToInt32Bits)), $"output {i}, one thread");
        }
    }

    [Test]
    public void BufferPoolRoundsLengthsToQuarterPowerOfTwoClasses()
    {
        Assert.Multiple(() =>
        {
            Assert.That(BufferPool<float[]>.Capacity(1), Is.EqualTo(64));
            Assert.That(BufferPool<float[]>.Capacity(64), Is.EqualTo(64));
            Assert.That(BufferPool<float[]>.Capacity(65), Is.EqualTo(80));
            Assert.That(BufferPool<float[]>.Capacity(128), Is.EqualTo(128));
            Assert.That(BufferPool<float[]>.Capacity(1000), Is.EqualTo(1024));
            Assert.That(BufferPool<float[]>.Capacity(1025), Is.EqualTo(1280));
        });
    }

    [Test]
    public void DisposedBuffersAreReusedFromThePool()
    {
        int created = 0;
        using var pool = new BufferPool<float[]>(n => { created++; return new float[n]; }, _ => { }, 1 << 20);
        var first = pool.Rent(1000, out int capacity);
        pool.Return(first, capacity);
        var second = pool.Rent(1000, out _);
        Assert.That(second, Is.SameAs(first));
        Assert.That(created, Is.EqualTo(1));
    }

    [Test]
    public void WrongShapesAndIndicesGiveMessagesNamingTheOperation()
    {
        using var backend = new SimdCpuBackend();
        using var small = backend.Allocate(5);
        using var c = backend.Allocate(4);
        var shape = Assert.Throws<ArgumentException>(() => backend.MatMul(small, small, c, 2, 2, 3));
        Assert.That(shape!.Message, Does.Contain("MatMul").And.Contain("a has 5 elements but 6"));

        using var index = backend.AllocateIndices(2);
        backend.Upload(index, new[] { 0, 7 });
        using var destination = backend.Allocate(2);
        var outOfRange = Assert.Throws<IndexOutOfRangeException>(() => backend.GatherRows(small, index, destination, 2, 1));
        Assert.That(outOfRange!.Message, Does.Contain("GatherRows").And.Contain("index[1] = 7"));

        using var offsets = backend.AllocateIndices(3);
        backend.Upload(offsets, new[] { 0, 3, 2 });
        var decreasing = Assert.Throws<ArgumentException>(() => backend.SegmentSum(small, offsets, destination, 2, 1));
        Assert.That(decreasing!.Message, Does.Contain("offsets decrease"));

        using var other = new SimdCpuBackend();
        using var foreign = other.Allocate(5);
        Assert.That(() => backend.Copy(foreign, small), Throws.ArgumentException.With.Message.Contains("belongs to backend"));
    }
}
