using System.Numerics;
using System.Runtime.CompilerServices;
using System.Numerics.Tensors;

namespace SaGatSr.Kernels.Cpu;

/// <summary>
/// The float32 host backend: vectorised with TensorPrimitives / Vector&lt;T&gt; and multithreaded with fixed,
/// size-based partitions. Deterministic: each output element is produced by one chunk in a fixed order, and
/// scatters (ScatterAddRows, dValues) are regrouped by destination in a stable order instead of racing.
/// </summary>
public sealed partial class SimdCpuBackend : IComputeBackend
{
    /// <summary>Partial sums of Sum/Dot are taken over blocks of this many elements, then added in block order.</summary>
    private const int ReductionBlock = 8192;

    /// <summary>Row blocks of FeatureProjectionBackward, each with its own partial parameter gradients.</summary>
    private const int ParameterGradientBlocks = 8;

    private readonly BufferPool<float[]> floatPool;
    private readonly BufferPool<int[]> indexPool;
    private readonly Work work;

    /// <param name="threads">most threads one operation uses; 0: all cores. Members of an ensemble train side by side with
    /// one each: on two cores that is 1.4x the throughput of taking turns with two (an epoch scales 1.45 s -> 1.04 s).</param>
    public SimdCpuBackend(long maxPooledBytes = 1L << 30, int threads = 0)
    {
        if (threads < 0) throw new ArgumentOutOfRangeException(nameof(threads), threads, "threads must be 0 (all cores) or positive");
        work = new Work(threads);
        floatPool = new BufferPool<float[]>(n => new float[n], _ => { }, maxPooledBytes / sizeof(float));
        indexPool = new BufferPool<int[]>(n => new int[n], _ => { }, maxPooledBytes / sizeof(int));
    }

    public string Name => $"cpu: SIMD float32, {work.Threads} thread{(work.Threads == 1 ? "" : "s")}, {Vector<float>.Count}-wide vectors";

    public DeviceKind Kind => DeviceKind.Cpu;

    public DeviceBuffer Allocate(int length)
    {
        Validate.NonNegative(length, nameof(length), nameof(Allocate));
        var array = floatPool.Rent(length, out _);
        Array.Clear(array, 0, length);
        return new CpuBuffer(this, array, length);
    }

    public IndexBuffer AllocateIndices(int length)
    {
        Validate.NonNegative(length, nameof(length), nameof(AllocateIndices));
        var array = indexPool.Rent(length, out _);
        Array.Clear(array, 0, length);
        return new CpuIndexBuffer(this, array, length);
    }

    private float[] Data(DeviceBuffer buffer, string name, string operation)
    {
        Validate.Owned(this, buffer, name, operation);
        return ((CpuBuffer)buffer).Values;
    }

    private int[] Data(IndexBuffer buffer, string name, string operation)
    {
        Validate.Owned(this, buffer, name, operation);
        return ((CpuIndexBuffer)buffer).Values;
    }

    private static Span<float> Span(DeviceBuffer buffer) => ((CpuBuffer)buffer).Values.AsSpan(0, buffer.Length);

    public void Upload(DeviceBuffer destination, ReadOnlySpan<float> source)
    {
        var d = Data(destination, nameof(destination), nameof(Upload));
        Validate.SpanLength(destination.Length, source.Length, nameof(Upload));
        source.CopyTo(d);
    }

    public void Upload(DeviceBuffer destination, ReadOnlySpan<double> source)
    {
        var d = Data(destination, nameof(destination), nameof(Upload));
        Validate.SpanLength(destination.Length, source.Length, nameof(Upload));
        TensorPrimitives.ConvertTruncating(source, d.AsSpan(0, source.Length));
    }

    public void Download(DeviceBuffer source, Span<float> destination)
    {
        var s = Data(source, nameof(source), nameof(Download));
        Validate.SpanLength(source.Length, destination.Length, nameof(Download));
        s.AsSpan(0, destination.Length).CopyTo(destination);
    }

    public void Download(DeviceBuffer source, Span<double> destination)
    {
        var s = Data(source, nameof(source), nameof(Download));
        Validate.SpanLength(source.Length, destination.Length, nameof(Download));
        TensorPrimitives.ConvertChecked<float, double>(s.AsSpan(0, destination.Length), destination);
    }

    public void Upload(IndexBuffer destination, ReadOnlySpan<int> source)
    {
        var d = Data(destination, nameof(destination), nameof(Upload));
        Validate.SpanLength(destination.Length, source.Length, nameof(Upload));
        source.CopyTo(d);
    }

    public void Download(IndexBuffer source, Span<int> destination)
    {
        var s = Data(source, nameof(source), nameof(Download));
        Validate.SpanLength(source.Length, destination.Length, nameof(Download));
        s.AsSpan(0, destination.Length).CopyTo(destination);
    }

    public void Synchronize()
    {
    }

    public void Fill(DeviceBuffer x, double value)
    {
        Data(x, nameof(x), nameof(Fill));
        Span(x).Fill((float)value);
    }

    public void Copy(DeviceBuffer source, DeviceBuffer destination)
    {
        Validate.SameLength(this, source, destination, nameof(source), nameof(destination), nameof(Copy));
        Span(source).CopyTo(Span(destination));
    }

    public void MatMul(DeviceBuffer a, DeviceBuffer b, DeviceBuffer c, int m, int n, int k,
        bool transposeA = false, bool transposeB = false, float beta = 0f)
    {
        Validate.MatMul(this, a, b, c, m, n, k, beta);
        SimdMatMul.Multiply(work, ((CpuBuffer)a).Values, ((CpuBuffer)b).Values, ((CpuBuffer)c).Values, m, n, k, transposeA, transposeB, beta);
    }

    public void Unary(UnaryOp op, DeviceBuffer x, DeviceBuffer y, float alpha = 0f)
    {
        Validate.SameLength(this, x, y, nameof(x), nameof(y), nameof(Unary));
        float[] xs = ((CpuBuffer)x).Values, ys = ((CpuBuffer)y).Values;
        work.ForCost(x.Length, 8, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (start, end) =>
            VectorOps.Unary(op, xs.AsSpan(start, end - start), ys.AsSpan(start, end - start), alpha));
    }

    public void UnaryBackward(UnaryOp op, DeviceBuffer x, DeviceBuffer y, DeviceBuffer dy, DeviceBuffer dx,
        float alpha = 0f, bool accumulate = false)
    {
        const string operation = nameof(UnaryBackward);
        Validate.SameLength(this, x, y, nameof(x), nameof(y), operation);
        Validate.SameLength(this, x, dy, nameof(x), nameof(dy), operation);
        Validate.SameLength(this, x, dx, nameof(x), nameof(dx), operation);
        float[] xs = ((CpuBuffer)x).Values, ys = ((CpuBuffer)y).Values, dys = ((CpuBuffer)dy).Values, dxs = ((CpuBuffer)dx).Values;
        work.ForCost(x.Length, 8, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (start, end) =>
        {
            int count = end - start;
            VectorOps.UnaryBackward(op, xs.AsSpan(start, count), ys.AsSpan(start, count), dys.AsSpan(start, count),
                dxs.AsSpan(start, count), alpha, accumulate);
        });
    }

    public void Binary(BinaryOp op, DeviceBuffer a, DeviceBuffer b, DeviceBuffer c)
    {
        Validate.SameLength(this, a, b, nameof(a), nameof(b), nameof(Binary));
        Validate.SameLength(this, a, c, nameof(a), nameof(c), nameof(Binary));
        float[] av = ((CpuBuffer)a).Values, bv = ((CpuBuffer)b).Values, cv = ((CpuBuffer)c).Values;
        work.ForCost(a.Length, 1, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (start, end) =>
            VectorOps.Binary(op, av.AsSpan(start, end - start), bv.AsSpan(start, end - start), cv.AsSpan(start, end - start)));
    }

    public void Axpby(float alpha, DeviceBuffer x, float beta, DeviceBuffer y)
    {
        Validate.SameLength(this, x, y, nameof(x), nameof(y), nameof(Axpby));
        float[] xs = ((CpuBuffer)x).Values, ys = ((CpuBuffer)y).Values;
        work.ForCost(x.Length, 1, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (start, end) =>
        {
            var xSpan = xs.AsSpan(start, end - start);
            var ySpan = ys.AsSpan(start, end - start);
            if (beta == 0f)
                TensorPrimitives.Multiply(xSpan, alpha, ySpan);
            else
            {
                TensorPrimitives.Multiply(ySpan, beta, ySpan);
                TensorPrimitives.MultiplyAdd(xSpan, alpha, ySpan, ySpan);
            }
        });
    }

    public void BroadcastRow(BinaryOp op, DeviceBuffer x, DeviceBuffer v, DeviceBuffer y, int rows, int cols)
    {
        Validate.Matrix(this, x, y, rows, cols, (long)rows * cols, nameof(BroadcastRow));
        Validate.AtLeast(this, v, cols, nameof(v), nameof(BroadcastRow));
        float[] xs = ((CpuBuffer)x).Values, vs = ((CpuBuffer)v).Values, ys = ((CpuBuffer)y).Values;
        work.ForCost(rows, cols, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (start, end) =>
        {
            for (int i = start; i < end; i++)
                VectorOps.Binary(op, xs.AsSpan(i * cols, cols), vs.AsSpan(0, cols), ys.AsSpan(i * cols, cols));
        });
    }

    public void BroadcastColumn(BinaryOp op, DeviceBuffer x, DeviceBuffer v, DeviceBuffer y, int rows, int cols)
    {
        Validate.Matrix(this, x, y, rows, cols, (long)rows * cols, nameof(BroadcastColumn));
        Validate.AtLeast(this, v, rows, nameof(v), nameof(BroadcastColumn));
        float[] xs = ((CpuBuffer)x).Values, vs = ((CpuBuffer)v).Values, ys = ((CpuBuffer)y).Values;
        work.ForCost(rows, cols, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (start, end) =>
        {
            for (int i = start; i < end; i++)
                VectorOps.Binary(op, xs.AsSpan(i * cols, cols), vs[i], ys.AsSpan(i * cols, cols));
        });
    }

    public void SumRows(DeviceBuffer x, DeviceBuffer y, int rows, int cols, bool accumulate = false)
    {
        Validate.Matrix(this, x, y, rows, cols, rows, nameof(SumRows));
        float[] xs = ((CpuBuffer)x).Values, ys = ((CpuBuffer)y).Values;
        work.ForCost(rows, cols, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (start, end) =>
        {
            for (int i = start; i < end; i++)
            {
                float s = TensorPrimitives.Sum<float>(xs.AsSpan(i * cols, cols));
                ys[i] = accumulate ? ys[i] + s : s;
            }
        });
    }

    public void SumColumns(DeviceBuffer x, DeviceBuffer y, int rows, int cols, bool accumulate = false)
    {
        Validate.Matrix(this, x, y, rows, cols, cols, nameof(SumColumns));
        float[] xs = ((CpuBuffer)x).Values, ys = ((CpuBuffer)y).Values;
        // Split by column blocks so each output is summed down its column by one thread, top to bottom.
        const int blockWidth = 256;
        int blocks = (cols + blockWidth - 1) / blockWidth;
        work.ForCost(blocks, (long)rows * Math.Min(cols, blockWidth), [MethodImpl(MethodImplOptions.AggressiveOptimization)] (start, end) =>
        {
            Span<float> sums = stackalloc float[blockWidth];
            for (int block = start; block < end; block++)
            {
                int column0 = block * blockWidth, width = Math.Min(blockWidth, cols - column0);
                var total = sums[..width];
                total.Clear();
                for (int i = 0; i < rows; i++) TensorPrimitives.Add(total, xs.AsSpan(i * cols + column0, width), total);
                var target = ys.AsSpan(column0, width);
                if (accumulate) TensorPrimitives.Add(target, total, target);
                else total.CopyTo(target);
            }
        });
    }

    public double Sum(DeviceBuffer x)
    {
        var xs = Data(x, nameof(x), nameof(Sum));
        return BlockedSum(x.Length, (start, count) => TensorPrimitives.Sum<float>(xs.AsSpan(start, count)));
    }

    public double Dot(DeviceBuffer x, DeviceBuffer y)
    {
        Validate.SameLength(this, x, y, nameof(x), nameof(y), nameof(Dot));
        float[] xs = ((CpuBuffer)x).Values, ys = ((CpuBuffer)y).Values;
        return BlockedSum(x.Length, (start, count) => TensorPrimitives.Dot<float>(xs.AsSpan(start, count), ys.AsSpan(start, count)));
    }

    /// <summary>Float partials over fixed blocks, added in double in block order: deterministic and accurate.</summary>
    private double BlockedSum(int length, Func<int, int, float> partial)
    {
        int blocks = (length + ReductionBlock - 1) / ReductionBlock;
        var partials = new double[blocks];
        work.ForCost(blocks, ReductionBlock, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (start, end) =>
        {
            for (int block = start; block < end; block++)
            {
                int from = block * ReductionBlock;
                partials[block] = partial(from, Math.Min(ReductionBlock, length - from));
            }
        });
        double total = 0;
        foreach (double p in partials) total += p;
        return total;
    }

    public void GatherRows(DeviceBuffer source, IndexBuffer index, DeviceBuffer destination, int rows, int cols)
    {
        const string operation = nameof(GatherRows);
        Validate.Rows(this, source, index, destination, rows, cols, gather: true, operation);
        float[] s = ((CpuBuffer)source).Values, d = ((CpuBuffer)destination).Values;
        int[] at = ((CpuIndexBuffer)index).Values;
        int sourceRows = cols == 0 ? int.MaxValue : source.Length / cols;
        work.ForCost(rows, cols + 4, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (start, end) =>
        {
            for (int i = start; i < end; i++)
            {
                CheckIndex(at[i], sourceRows, i, operation);
                s.AsSpan(at[i] * cols, cols).CopyTo(d.AsSpan(i * cols, cols));
            }
        });
    }

    public void ScatterAddRows(DeviceBuffer source, IndexBuffer index, DeviceBuffer destination, int rows, int cols)
    {
        const string operation = nameof(ScatterAddRows);
        Validate.Rows(this, source, index, destination, rows, cols, gather: false, operation);
        float[] s = ((CpuBuffer)source).Values, d = ((CpuBuffer)destination).Values;
        int[] at = ((CpuIndexBuffer)index).Values;
        int destinationRows = cols == 0 ? int.MaxValue : destination.Length / cols;
        for (int i = 0; i < rows; i++) CheckIndex(at[i], destinationRows, i, operation);
        if (cols == 0) return;
        // Group source rows by destination, keeping source order, so each destination row is summed by one
        // thread in the same order a serial loop would use.
        var (starts, order) = StableGroups(at.AsSpan(0, rows), destinationRows);
        work.ForCost(destinationRows, (long)cols * Math.Max(1, rows / Math.Max(1, destinationRows)) + 1, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (start, end) =>
        {
            for (int r = start; r < end; r++)
            {
                var target = d.AsSpan(r * cols, cols);
                for (int g = starts[r]; g < starts[r + 1]; g++)
                    TensorPrimitives.Add(target, s.AsSpan(order[g] * cols, cols), target);
            }
        });
    }

    /// <summary>Counting sort of item positions by key: items with key r are order[starts[r]..starts[r+1]), ascending.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static (int[] Starts, int[] Order) StableGroups(ReadOnlySpan<int> keys, int keyCount)
    {
        var starts = new int[keyCount + 1];
        foreach (int key in keys) starts[key + 1]++;
        for (int r = 0; r < keyCount; r++) starts[r + 1] += starts[r];
        var next = starts.AsSpan(0, keyCount).ToArray();
        var order = new int[keys.Length];
        for (int i = 0; i < keys.Length; i++) order[next[keys[i]]++] = i;
        return (starts, order);
    }

    private static void CheckIndex(int index, int rowCount, int position, string operation)
    {
        if ((uint)index >= (uint)rowCount)
            throw new IndexOutOfRangeException($"{operation}: index[{position}] = {index} is outside [0, {rowCount}).");
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void CheckOffsets(int[] offsets, int segments, long rowCount, string operation)
    {
        if (segments == 0) return;
        if (offsets[0] < 0) throw new ArgumentException($"{operation}: offsets[0] = {offsets[0]} is negative.", nameof(offsets));
        for (int s = 0; s < segments; s++)
            if (offsets[s + 1] < offsets[s])
                throw new ArgumentException($"{operation}: offsets decrease at {s + 1} ({offsets[s]} then {offsets[s + 1]}).", nameof(offsets));
        if (offsets[segments] > rowCount)
            throw new ArgumentException($"{operation}: offsets[{segments}] = {offsets[segments]} exceeds the {rowCount} rows.", nameof(offsets));
    }

    public void SegmentSum(DeviceBuffer source, IndexBuffer offsets, DeviceBuffer destination, int segments, int cols,
        bool accumulate = false)
    {
        const string operation = nameof(SegmentSum);
        Validate.Segments(this, offsets, segments, operation);
        Validate.NonNegative(cols, nameof(cols), operation);
        Validate.AtLeast(this, destination, (long)segments * cols, nameof(destination), operation);
        float[] s = Data(source, nameof(source), operation), d = ((CpuBuffer)destination).Values;
        int[] o = ((CpuIndexBuffer)offsets).Values;
        CheckOffsets(o, segments, cols == 0 ? int.MaxValue : source.Length / cols, operation);
        if (cols == 0) return;
        long averageRows = segments == 0 ? 0 : Math.Max(1, o[segments] / segments);
        work.ForCost(segments, averageRows * cols + cols, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (start, end) =>
        {
            float[] sum = new float[cols];
            for (int seg = start; seg < end; seg++)
            {
                var total = sum.AsSpan();
                total.Clear();
                for (int i = o[seg]; i < o[seg + 1]; i++) TensorPrimitives.Add(total, s.AsSpan(i * cols, cols), total);
                var target = d.AsSpan(seg * cols, cols);
                if (accumulate) TensorPrimitives.Add(target, total, target);
                else total.CopyTo(target);
            }
        });
    }

    public void SegmentSoftmax(DeviceBuffer scores, IndexBuffer offsets, DeviceBuffer probabilities, int segments, int heads)
    {
        const string operation = nameof(SegmentSoftmax);
        Validate.Segments(this, offsets, segments, operation);
        Validate.NonNegative(heads, nameof(heads), operation);
        float[] sc = Data(scores, nameof(scores), operation), p = Data(probabilities, nameof(probabilities), operation);
        int[] o = ((CpuIndexBuffer)offsets).Values;
        CheckOffsets(o, segments, heads == 0 ? int.MaxValue : Math.Min(scores.Length, probabilities.Length) / heads, operation);
        if (heads == 0) return;
        long averageRows = segments == 0 ? 0 : Math.Max(1, o[segments] / segments);
        work.ForCost(segments, averageRows * heads * 4 + 1, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (start, end) =>
        {
            Span<float> max = stackalloc float[heads], scale = stackalloc float[heads];
            // A chunk's segments are one contiguous [edges, heads] block: shift each segment by its maxima,
            // exponentiate the whole block in one vectorised call, then normalise each segment.
            for (int seg = start; seg < end; seg++)
            {
                var input = sc.AsSpan(o[seg] * heads, (o[seg + 1] - o[seg]) * heads);
                var shifted = p.AsSpan(o[seg] * heads, input.Length);
                max.Fill(float.NegativeInfinity);
                for (int i = 0, h = 0; i < input.Length; i++, h = h + 1 == heads ? 0 : h + 1)
                    if (input[i] > max[h]) max[h] = input[i];
                for (int i = 0, h = 0; i < input.Length; i++, h = h + 1 == heads ? 0 : h + 1)
                    shifted[i] = input[i] - max[h];
            }

            var chunk = p.AsSpan(o[start] * heads, (o[end] - o[start]) * heads);
            VectorOps.SoftmaxExp(chunk, chunk);
            for (int seg = start; seg < end; seg++)
            {
                var block = p.AsSpan(o[seg] * heads, (o[seg + 1] - o[seg]) * heads);
                scale.Clear();
                for (int i = 0, h = 0; i < block.Length; i++, h = h + 1 == heads ? 0 : h + 1)
                    scale[h] += block[i];
                for (int h = 0; h < heads; h++) scale[h] = 1f / scale[h];
                for (int i = 0, h = 0; i < block.Length; i++, h = h + 1 == heads ? 0 : h + 1)
                    block[i] *= scale[h];
            }
        });
    }

    public void SegmentSoftmaxBackward(DeviceBuffer probabilities, DeviceBuffer dProbabilities, IndexBuffer offsets,
        DeviceBuffer dScores, int segments, int heads, bool accumulate = false)
    {
        const string operation = nameof(SegmentSoftmaxBackward);
        Validate.Segments(this, offsets, segments, operation);
        Validate.NonNegative(heads, nameof(heads), operation);
        float[] p = Data(probabilities, nameof(probabilities), operation), dp = Data(dProbabilities, nameof(dProbabilities), operation);
        float[] ds = Data(dScores, nameof(dScores), operation);
        int[] o = ((CpuIndexBuffer)offsets).Values;
        int rowsAvailable = Math.Min(Math.Min(probabilities.Length, dProbabilities.Length), dScores.Length);
        CheckOffsets(o, segments, heads == 0 ? int.MaxValue : rowsAvailable / heads, operation);
        if (heads == 0) return;
        long averageRows = segments == 0 ? 0 : Math.Max(1, o[segments] / segments);
        work.ForCost(segments, averageRows * heads * 3 + 1, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (start, end) =>
        {
            Span<float> inner = stackalloc float[heads];
            for (int seg = start; seg < end; seg++)
            {
                int e0 = o[seg], e1 = o[seg + 1];
                inner.Clear();
                for (int e = e0; e < e1; e++)
                for (int h = 0; h < heads; h++)
                    inner[h] += p[e * heads + h] * dp[e * heads + h];
                for (int e = e0; e < e1; e++)
                for (int h = 0; h < heads; h++)
                {
                    int at = e * heads + h;
                    float g = p[at] * (dp[at] - inner[h]);
                    ds[at] = accumulate ? ds[at] + g : g;
                }
            }
        });
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void CheckAttention(DeviceBuffer weights, DeviceBuffer values, IndexBuffer sourceIndex, IndexBuffer offsets,
        DeviceBuffer output, int segments, int heads, int headDim, string outputName, string operation)
    {
        Validate.Segments(this, offsets, segments, operation);
        Validate.NonNegative(heads, nameof(heads), operation);
        Validate.NonNegative(headDim, nameof(headDim), operation);
        Validate.Owned(this, values, nameof(values), operation);
        Validate.AtLeast(this, output, (long)segments * heads * headDim, outputName, operation);
        int[] o = ((CpuIndexBuffer)offsets).Values;
        long edges = heads == 0 ? int.MaxValue : weights.Length / heads;
        Validate.Owned(this, weights, nameof(weights), operation);
        CheckOffsets(o, segments, edges, operation);
        int edgeCount = segments == 0 ? 0 : o[segments];
        Validate.AtLeast(this, sourceIndex, edgeCount, nameof(sourceIndex), operation);
        int width = heads * headDim;
        int valueRows = width == 0 ? int.MaxValue : values.Length / width;
        int[] src = ((CpuIndexBuffer)sourceIndex).Values;
        for (int e = (segments == 0 ? 0 : o[0]); e < edgeCount; e++) CheckIndex(src[e], valueRows, e, operation);
    }

    public void SegmentWeightedGatherSum(DeviceBuffer weights, DeviceBuffer values, IndexBuffer sourceIndex,
        IndexBuffer offsets, DeviceBuffer output, int segments, int heads, int headDim)
    {
        const string operation = nameof(SegmentWeightedGatherSum);
        CheckAttention(weights, values, sourceIndex, offsets, output, segments, heads, headDim, nameof(output), operation);
        float[] w = ((CpuBuffer)weights).Values, v = ((CpuBuffer)values).Values, outs = ((CpuBuffer)output).Values;
        int[] src = ((CpuIndexBuffer)sourceIndex).Values, o = ((CpuIndexBuffer)offsets).Values;
        int width = heads * headDim;
        if (width == 0) return;
        long averageRows = segments == 0 ? 0 : Math.Max(1, o[segments] / segments);
        work.ForCost(segments, averageRows * width + width, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (start, end) =>
        {
            for (int seg = start; seg < end; seg++)
            {
                var row = outs.AsSpan(seg * width, width);
                row.Clear();
                for (int e = o[seg]; e < o[seg + 1]; e++)
                {
                    int from = src[e] * width;
                    for (int h = 0; h < heads; h++)
                        VectorOps.AddScaled(v.AsSpan(from + h * headDim, headDim), w[e * heads + h], row.Slice(h * headDim, headDim));
                }
            }
        });
    }

    public void SegmentWeightedGatherSumBackward(DeviceBuffer weights, DeviceBuffer values, IndexBuffer sourceIndex,
        IndexBuffer offsets, DeviceBuffer dOutput, DeviceBuffer? dWeights, DeviceBuffer? dValues,
        int segments, int heads, int headDim, bool accumulateWeights = false)
    {
        const string operation = nameof(SegmentWeightedGatherSumBackward);
        CheckAttention(weights, values, sourceIndex, offsets, dOutput, segments, heads, headDim, nameof(dOutput), operation);
        float[] w = ((CpuBuffer)weights).Values, v = ((CpuBuffer)values).Values, dOut = ((CpuBuffer)dOutput).Values;
        int[] src = ((CpuIndexBuffer)sourceIndex).Values, o = ((CpuIndexBuffer)offsets).Values;
        int width = heads * headDim;
        if (segments == 0 || width == 0) return;
        int e0 = o[0], edgeCount = o[segments];
        long averageRows = Math.Max(1, (edgeCount - e0) / segments);

        if (dWeights is not null)
        {
            Validate.AtLeast(this, dWeights, (long)edgeCount * heads, nameof(dWeights), operation);
            float[] dw = ((CpuBuffer)dWeights).Values;
            work.ForCost(segments, averageRows * width + 1, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (start, end) =>
            {
                for (int seg = start; seg < end; seg++)
                for (int e = o[seg]; e < o[seg + 1]; e++)
                for (int h = 0; h < heads; h++)
                {
                    float dot = VectorOps.Dot(dOut.AsSpan(seg * width + h * headDim, headDim),
                        v.AsSpan(src[e] * width + h * headDim, headDim));
                    int at = e * heads + h;
                    dw[at] = accumulateWeights ? dw[at] + dot : dot;
                }
            });
        }

        if (dValues is not null)
        {
            Validate.AtLeast(this, dValues, values.Length, nameof(dValues), operation);
            float[] dv = ((CpuBuffer)dValues).Values;
            int valueRows = values.Length / width;
            var segmentOf = new int[edgeCount - e0];
            for (int seg = 0; seg < segments; seg++)
                for (int e = o[seg]; e < o[seg + 1]; e++) segmentOf[e - e0] = seg;
            // Edges grouped by source row in ascending edge order: one thread owns each dValues row.
            var (starts, order) = StableGroups(src.AsSpan(e0, edgeCount - e0), valueRows);
            long averageFanOut = Math.Max(1, (edgeCount - e0) / Math.Max(1, valueRows));
            work.ForCost(valueRows, averageFanOut * width + 1, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (start, end) =>
            {
                for (int r = start; r < end; r++)
                for (int g = starts[r]; g < starts[r + 1]; g++)
                {
                    int edge = e0 + order[g], seg = segmentOf[order[g]];
                    for (int h = 0; h < heads; h++)
                        VectorOps.AddScaled(dOut.AsSpan(seg * width + h * headDim, headDim), w[edge * heads + h],
                            dv.AsSpan(r * width + h * headDim, headDim));
                }
            });
        }
    }

    public void FeatureProjection(UnaryOp activation, DeviceBuffer x, DeviceBuffer weights, DeviceBuffer biases, DeviceBuffer y,
        int rows, int features, int cols, float alpha = 0f)
    {
        Validate.FeatureProjection(this, activation, x, weights, biases, y, rows, features, cols, nameof(FeatureProjection));
        float[] xs = ((CpuBuffer)x).Values, w = ((CpuBuffer)weights).Values, b = ((CpuBuffer)biases).Values, ys = ((CpuBuffer)y).Values;
        if (cols == 0) return;
        work.ForCost(rows * features, cols * 8L, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (start, end) =>
        {
            for (int slot = start; slot < end; slot++)
            {
                int f = slot % features;
                VectorOps.FeatureProjection(activation, xs[slot], w.AsSpan(f * cols, cols), b.AsSpan(f * cols, cols),
                    ys.AsSpan(slot * cols, cols), alpha);
            }
        });
    }

    public void FeatureProjectionBackward(UnaryOp activation, DeviceBuffer x, DeviceBuffer weights, DeviceBuffer biases, DeviceBuffer y,
        DeviceBuffer dy, DeviceBuffer? dx, DeviceBuffer? dWeights, DeviceBuffer? dBiases, int rows, int features, int cols,
        float alpha = 0f, bool accumulateX = false)
    {
        const string operation = nameof(FeatureProjectionBackward);
        Validate.FeatureProjection(this, activation, x, weights, biases, y, rows, features, cols, operation);
        Validate.FeatureProjectionGradients(this, dy, dx, dWeights, dBiases, rows, features, cols, operation);
        float[] xs = ((CpuBuffer)x).Values, w = ((CpuBuffer)weights).Values, b = ((CpuBuffer)biases).Values;
        float[] ys = ((CpuBuffer)y).Values, dys = ((CpuBuffer)dy).Values;
        float[]? dxs = (dx as CpuBuffer)?.Values, dws = (dWeights as CpuBuffer)?.Values, dbs = (dBiases as CpuBuffer)?.Values;
        if (cols == 0 || features == 0 || rows == 0) return;
        // Rows are split into a fixed number of blocks (set by the row count alone), each streaming through its rows and
        // summing parameter gradients into its own partial; the partials are then added in block order. Deterministic,
        // with no atomics, and reads dy and y front to back.
        int parameters = features * cols;
        int blocks = Math.Min(rows, ParameterGradientBlocks);
        int rowsPerBlock = (rows + blocks - 1) / blocks;
        blocks = (rows + rowsPerBlock - 1) / rowsPerBlock;
        var partials = floatPool.Rent(2 * blocks * parameters, out _);
        try
        {
            work.For(blocks, 1, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (start, end) =>
            {
                for (int block = start; block < end; block++)
                {
                    var weightPartial = partials.AsSpan(2 * block * parameters, parameters);
                    var biasPartial = partials.AsSpan((2 * block + 1) * parameters, parameters);
                    weightPartial.Clear();
                    biasPartial.Clear();
                    for (int i = block * rowsPerBlock; i < Math.Min(rows, (block + 1) * rowsPerBlock); i++)
                    for (int f = 0; f < features; f++)
                    {
                        int slot = i * features + f;
                        float dot = VectorOps.FeatureProjectionBackward(activation, xs[slot], w.AsSpan(f * cols, cols), b.AsSpan(f * cols, cols),
                            ys.AsSpan(slot * cols, cols), dys.AsSpan(slot * cols, cols), weightPartial.Slice(f * cols, cols),
                            biasPartial.Slice(f * cols, cols), alpha);
                        if (dxs is not null) dxs[slot] = accumulateX ? dxs[slot] + dot : dot;
                    }
                }
            });
            for (int block = 0; block < blocks; block++)
            {
                if (dws is not null) TensorPrimitives.Add(dws.AsSpan(0, parameters), partials.AsSpan(2 * block * parameters, parameters), dws.AsSpan(0, parameters));
                if (dbs is not null) TensorPrimitives.Add(dbs.AsSpan(0, parameters), partials.AsSpan((2 * block + 1) * parameters, parameters), dbs.AsSpan(0, parameters));
            }
        }
        finally
        {
            Return(partials);
        }
    }

    public void CopyColumns(DeviceBuffer source, int sourceCols, int sourceOffset, DeviceBuffer destination,
        int destinationCols, int destinationOffset, int rows, int width, bool accumulate = false)
    {
        Validate.CopyColumns(this, source, sourceCols, sourceOffset, destination, destinationCols, destinationOffset, rows, width);
        float[] s = ((CpuBuffer)source).Values, d = ((CpuBuffer)destination).Values;
        work.ForCost(rows, width + 4, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (start, end) =>
        {
            for (int i = start; i < end; i++)
            {
                var from = s.AsSpan(i * sourceCols + sourceOffset, width);
                var to = d.AsSpan(i * destinationCols + destinationOffset, width);
                if (accumulate) TensorPrimitives.Add(to, from, to);
                else from.CopyTo(to);
            }
        });
    }

    public void AdamStep(DeviceBuffer parameters, DeviceBuffer gradients, DeviceBuffer firstMoment, DeviceBuffer secondMoment,
        float learningRate, float beta1, float beta2, float epsilon, float weightDecay, int step)
    {
        Validate.AdamStep(this, parameters, gradients, firstMoment, secondMoment, step);
        float[] p = ((CpuBuffer)parameters).Values, g = ((CpuBuffer)gradients).Values;
        float[] m = ((CpuBuffer)firstMoment).Values, v = ((CpuBuffer)secondMoment).Values;
        var update = AdamUpdate.Create(learningRate, beta1, beta2, epsilon, weightDecay, step);
        work.ForCost(parameters.Length, 16, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (start, end) => update.Apply(p, g, m, v, start, end));
    }

    public void Dispose()
    {
        saeMemo = null;
        floatPool.Dispose();
        indexPool.Dispose();
    }

    private void Return(float[] array) => floatPool.Return(array, array.Length);

    private void Return(int[] array) => indexPool.Return(array, array.Length);

    private sealed class CpuBuffer(SimdCpuBackend owner, float[] values, int length) : DeviceBuffer(owner, length)
    {
        public float[] Values { get; } = values;

        protected override void Release() => owner.Return(Values);
    }

    private sealed class CpuIndexBuffer(SimdCpuBackend owner, int[] values, int length) : IndexBuffer(owner, length)
    {
        public int[] Values { get; } = values;

        protected override void Release() => owner.Return(Values);
    }
}
