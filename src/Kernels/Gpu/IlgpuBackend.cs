using System.Runtime.InteropServices;
using ILGPU;
using ILGPU.Runtime;

namespace SaGatSr.Kernels.Gpu;

/// <summary>
/// float32 backend over one ILGPU accelerator (CUDA, OpenCL or ILGPU's CPU emulation). Kernels are compiled
/// once when the backend is created; buffers are pooled by length class. Launches are asynchronous on the
/// default stream; downloads, Sum, Dot and Synchronize wait for them. Scatter-type ops use atomics, so unlike
/// the host backends their float sums are not bitwise reproducible on a GPU.
/// </summary>
public sealed class IlgpuBackend : IComputeBackend
{
    private readonly Context context;
    private readonly Accelerator accelerator;
    private readonly bool ownsContext;
    private readonly BufferPool<MemoryBuffer1D<float, Stride1D.Dense>> floatPool;
    private readonly BufferPool<MemoryBuffer1D<int, Stride1D.Dense>> indexPool;
    private readonly MemoryBuffer1D<float, Stride1D.Dense> partials;
    private readonly MemoryBuffer1D<double, Stride1D.Dense> reduced;

    private readonly Action<Index1D, ArrayView<float>, float> fill;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>> copy;
    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int, int, int, float, int> matMul;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, int, int, float> matMulSplitSum;
    private readonly int matMulTile;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int, float> featureProjection;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>,
        int, int, int, float, int> featureProjectionInput;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>,
        int, int, int, int, float, int> featureProjectionParameterPartials;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int, int> featureProjectionParameterFinish;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>,
        int, int, int, float, int> saeScores;
    private readonly Action<Index1D, ArrayView<float>, int, int> saeSoftmax;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int> saeMix;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>,
        int, int, int, int> saeCoefficientGradient;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, int, int, float> saeScoreGradient;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>,
        ArrayView<float>, ArrayView<float>, int, int, int, int, int> saeParameterPartials;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int, int> saeScoreWeightPartials;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, int, int> blockSum;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, int, int, int> saeLogitGradient;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, int, float> unary;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, float, int> unaryBackward;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int> binary;
    private readonly Action<Index1D, float, ArrayView<float>, float, ArrayView<float>> axpby;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int> broadcast;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, int, int> sumRows;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, int, int> partialColumnSums;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, int, int, int> finishColumnSums;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int> partialSum;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<double>> finishSum;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<float>, int> gatherRows;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<float>, int> scatterAddRows;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<float>, int, int> segmentSum;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<float>, int> segmentSoftmax;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<int>, ArrayView<float>, int, int> segmentSoftmaxBackward;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<int>, ArrayView<int>, ArrayView<float>, int, int> weightedGatherSum;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<int>, ArrayView<int>, ArrayView<float>, int, int> weightedGatherSumFourColumns;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<int>, ArrayView<float>, ArrayView<float>, int, int, int, int> weightedGatherSumWeights;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<int>, ArrayView<float>, ArrayView<float>, int, int> weightedGatherSumValues;
    private readonly Action<Index1D, ArrayView<float>, int, int, ArrayView<float>, int, int, int, int> copyColumns;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, float, float, float, float, float, float, float> adamStep;

    /// <summary>Wraps <paramref name="accelerator"/>; disposes it (and <paramref name="context"/> when owned) on Dispose.</summary>
    public IlgpuBackend(Context context, Accelerator accelerator, DeviceKind kind, bool ownsContext = true, long maxPooledBytes = 1L << 30)
    {
        this.context = context;
        this.accelerator = accelerator;
        this.ownsContext = ownsContext;
        Kind = kind;
        string prefix = kind switch { DeviceKind.Cuda => "cuda", DeviceKind.OpenCl => "opencl", _ => "ilgpu-cpu" };
        Name = kind == DeviceKind.IlgpuCpu
            ? $"{prefix}: {accelerator.Name}, {accelerator.MaxNumThreadsPerGroup} threads per group"
            : $"{prefix}: {accelerator.Name} ({accelerator.MemorySize / (1 << 20)} MiB)";
        floatPool = new(n => accelerator.Allocate1D<float>(n), b => b.Dispose(), maxPooledBytes / sizeof(float));
        indexPool = new(n => accelerator.Allocate1D<int>(n), b => b.Dispose(), maxPooledBytes / sizeof(int));
        partials = accelerator.Allocate1D<float>(IlgpuKernels.ReductionThreads);
        reduced = accelerator.Allocate1D<double>(1);

        fill = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, float>(IlgpuKernels.FillKernel);
        copy = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>>(IlgpuKernels.CopyKernel);
        matMulTile = accelerator.MaxNumThreadsPerGroup >= IlgpuKernels.Tile * IlgpuKernels.Tile ? IlgpuKernels.Tile : IlgpuKernels.SmallTile;
        matMul = accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int, int, int, float, int>(
            matMulTile == IlgpuKernels.Tile ? IlgpuKernels.MatMulGroupedKernel : IlgpuKernels.MatMulSmallTileGroupedKernel);
        matMulSplitSum = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, int, int, float>(
            IlgpuKernels.MatMulSplitSumKernel);
        unary = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, int, float>(IlgpuKernels.UnaryKernel);
        unaryBackward = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, float, int>(
            IlgpuKernels.UnaryBackwardKernel);
        binary = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int>(IlgpuKernels.BinaryKernel);
        axpby = accelerator.LoadAutoGroupedStreamKernel<Index1D, float, ArrayView<float>, float, ArrayView<float>>(IlgpuKernels.AxpbyKernel);
        broadcast = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int>(
            IlgpuKernels.BroadcastKernel);
        sumRows = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, int, int>(IlgpuKernels.SumRowsKernel);
        partialColumnSums = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, int, int>(
            IlgpuKernels.PartialColumnSumsKernel);
        finishColumnSums = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, int, int, int>(
            IlgpuKernels.FinishColumnSumsKernel);
        partialSum = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int>(
            IlgpuKernels.PartialSumKernel);
        finishSum = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<double>>(IlgpuKernels.FinishSumKernel);
        gatherRows = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<float>, int>(
            IlgpuKernels.GatherRowsKernel);
        scatterAddRows = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<float>, int>(
            IlgpuKernels.ScatterAddRowsKernel);
        segmentSum = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<float>, int, int>(
            IlgpuKernels.SegmentSumKernel);
        segmentSoftmax = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<float>, int>(
            IlgpuKernels.SegmentSoftmaxKernel);
        segmentSoftmaxBackward = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<int>, ArrayView<float>, int, int>(
            IlgpuKernels.SegmentSoftmaxBackwardKernel);
        weightedGatherSum = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<int>, ArrayView<int>, ArrayView<float>, int, int>(
            IlgpuKernels.SegmentWeightedGatherSumKernel);
        weightedGatherSumFourColumns = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<int>, ArrayView<int>, ArrayView<float>, int, int>(
            IlgpuKernels.SegmentWeightedGatherSumFourColumnsKernel);
        weightedGatherSumWeights = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<int>, ArrayView<float>, ArrayView<float>, int, int, int, int>(
            IlgpuKernels.SegmentWeightedGatherSumWeightsKernel);
        weightedGatherSumValues = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<int>, ArrayView<float>, ArrayView<float>, int, int>(
            IlgpuKernels.SegmentWeightedGatherSumValuesKernel);
        featureProjection = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>,
            int, int, int, float>(IlgpuKernels.FeatureProjectionKernel);
        featureProjectionInput = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>,
            ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int, float, int>(IlgpuKernels.FeatureProjectionInputKernel);
        featureProjectionParameterPartials = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>,
            ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int, int, float, int>(IlgpuKernels.FeatureProjectionParameterPartialKernel);
        featureProjectionParameterFinish = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>,
            int, int, int, int>(IlgpuKernels.FeatureProjectionParameterFinishKernel);
        saeScores = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>,
            ArrayView<float>, ArrayView<float>, int, int, int, float, int>(IlgpuKernels.SaeScoresKernel);
        saeSoftmax = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, int, int>(IlgpuKernels.SaeSoftmaxKernel);
        saeMix = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>,
            ArrayView<float>, int, int, int>(IlgpuKernels.SaeMixKernel);
        saeCoefficientGradient = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>,
            ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int, int>(IlgpuKernels.SaeCoefficientGradientKernel);
        saeScoreGradient = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, int, int, float>(
            IlgpuKernels.SaeScoreGradientKernel);
        saeParameterPartials = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>,
            ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int, int, int>(
            IlgpuKernels.SaeParameterPartialKernel);
        saeScoreWeightPartials = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>,
            ArrayView<float>, ArrayView<float>, int, int, int, int>(IlgpuKernels.SaeScoreWeightPartialKernel);
        blockSum = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, int, int>(IlgpuKernels.BlockSumKernel);
        saeLogitGradient = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, int, int, int>(
            IlgpuKernels.SaeLogitGradientKernel);
        copyColumns = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, int, int, ArrayView<float>, int, int, int, int>(
            IlgpuKernels.CopyColumnsKernel);
        adamStep = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, float, float, float, float, float, float, float>(
            IlgpuKernels.AdamStepKernel);
    }

    public string Name { get; }

    public DeviceKind Kind { get; }

    public DeviceBuffer Allocate(int length)
    {
        Validate.NonNegative(length, nameof(length), nameof(Allocate));
        var memory = floatPool.Rent(length, out int capacity);
        var buffer = new GpuBuffer(this, memory, capacity, length);
        if (length > 0) fill(length, buffer.View, 0f);
        return buffer;
    }

    public IndexBuffer AllocateIndices(int length)
    {
        Validate.NonNegative(length, nameof(length), nameof(AllocateIndices));
        var memory = indexPool.Rent(length, out int capacity);
        memory.View.SubView(0, length).MemSetToZero();
        return new GpuIndexBuffer(this, memory, capacity, length);
    }

    private ArrayView<float> View(DeviceBuffer buffer, string name, string operation)
    {
        Validate.Owned(this, buffer, name, operation);
        return ((GpuBuffer)buffer).View;
    }

    private ArrayView<int> View(IndexBuffer buffer, string name, string operation)
    {
        Validate.Owned(this, buffer, name, operation);
        return ((GpuIndexBuffer)buffer).View;
    }

    private static ArrayView<float> V(DeviceBuffer buffer) => ((GpuBuffer)buffer).View;

    private static ArrayView<int> V(IndexBuffer buffer) => ((GpuIndexBuffer)buffer).View;

    public void Upload(DeviceBuffer destination, ReadOnlySpan<float> source)
    {
        var view = View(destination, nameof(destination), nameof(Upload));
        Validate.SpanLength(destination.Length, source.Length, nameof(Upload));
        if (source.Length == 0) return;
        view.SubView(0, source.Length).CopyFromCPU(ref MemoryMarshal.GetReference(source), source.Length);
    }

    public void Upload(DeviceBuffer destination, ReadOnlySpan<double> source)
    {
        var floats = new float[source.Length];
        for (int i = 0; i < floats.Length; i++) floats[i] = (float)source[i];
        Upload(destination, floats);
    }

    public void Download(DeviceBuffer source, Span<float> destination)
    {
        var view = View(source, nameof(source), nameof(Download));
        Validate.SpanLength(source.Length, destination.Length, nameof(Download));
        if (destination.Length == 0) return;
        accelerator.Synchronize();
        view.SubView(0, destination.Length).CopyToCPU(ref MemoryMarshal.GetReference(destination), destination.Length);
    }

    public void Download(DeviceBuffer source, Span<double> destination)
    {
        var floats = new float[destination.Length];
        Download(source, floats);
        for (int i = 0; i < floats.Length; i++) destination[i] = floats[i];
    }

    public void Upload(IndexBuffer destination, ReadOnlySpan<int> source)
    {
        var view = View(destination, nameof(destination), nameof(Upload));
        Validate.SpanLength(destination.Length, source.Length, nameof(Upload));
        if (source.Length == 0) return;
        view.SubView(0, source.Length).CopyFromCPU(ref MemoryMarshal.GetReference(source), source.Length);
    }

    public void Download(IndexBuffer source, Span<int> destination)
    {
        var view = View(source, nameof(source), nameof(Download));
        Validate.SpanLength(source.Length, destination.Length, nameof(Download));
        if (destination.Length == 0) return;
        accelerator.Synchronize();
        view.SubView(0, destination.Length).CopyToCPU(ref MemoryMarshal.GetReference(destination), destination.Length);
    }

    public void Synchronize() => accelerator.Synchronize();

    public void Fill(DeviceBuffer x, double value)
    {
        var view = View(x, nameof(x), nameof(Fill));
        if (x.Length > 0) fill(x.Length, view, (float)value);
    }

    public void Copy(DeviceBuffer source, DeviceBuffer destination)
    {
        Validate.SameLength(this, source, destination, nameof(source), nameof(destination), nameof(Copy));
        if (source.Length > 0) copy(source.Length, V(source), V(destination));
    }

    public void MatMul(DeviceBuffer a, DeviceBuffer b, DeviceBuffer c, int m, int n, int k,
        bool transposeA = false, bool transposeB = false, float beta = 0f)
    {
        Validate.MatMul(this, a, b, c, m, n, k, beta);
        if (m == 0 || n == 0) return;
        int tile = matMulTile;
        int columnGroups = (n + tile - 1) / tile, rowGroups = (m + tile - 1) / tile;
        int splits = DepthSplits(columnGroups * rowGroups, k, tile);
        int chunk = splits == 1 ? Math.Max(k, 1) : ((k + splits - 1) / splits + tile - 1) / tile * tile;
        splits = splits == 1 ? 1 : (k + chunk - 1) / chunk;
        var config = new KernelConfig(new Index3D(columnGroups, rowGroups, splits), new Index3D(tile, tile, 1));
        int ta = transposeA ? 1 : 0, tb = transposeB ? 1 : 0;
        if (splits == 1)
        {
            matMul(config, V(a), V(b), V(c), m, n, k, ta, tb, beta, chunk);
            return;
        }

        // Kernels on one stream run in order, so the scratch can go back to the pool before they finish.
        var partials = floatPool.Rent(splits * m * n, out int capacity);
        matMul(config, V(a), V(b), partials.View, m, n, k, ta, tb, 0f, chunk);
        matMulSplitSum(m * n, partials.View, V(c), splits, m * n, beta);
        floatPool.Return(partials, capacity);
    }

    /// <summary>
    /// How many depth chunks a product of <paramref name="groups"/> tile groups runs in: enough to give the GPU
    /// <see cref="IlgpuKernels.MinMatMulGroups"/> groups, each chunk at least eight tiles deep.
    /// </summary>
    internal static int DepthSplits(int groups, int k, int tile) =>
        groups >= IlgpuKernels.MinMatMulGroups ? 1 : Math.Max(1, Math.Min((IlgpuKernels.MinMatMulGroups + groups - 1) / groups, k / (8 * tile)));

    public void Unary(UnaryOp op, DeviceBuffer x, DeviceBuffer y, float alpha = 0f)
    {
        Validate.SameLength(this, x, y, nameof(x), nameof(y), nameof(Unary));
        if (!Enum.IsDefined(op)) throw new ArgumentOutOfRangeException(nameof(op), op, "Unknown unary op.");
        if (x.Length > 0) unary(x.Length, V(x), V(y), (int)op, alpha);
    }

    public void UnaryBackward(UnaryOp op, DeviceBuffer x, DeviceBuffer y, DeviceBuffer dy, DeviceBuffer dx,
        float alpha = 0f, bool accumulate = false)
    {
        const string operation = nameof(UnaryBackward);
        Validate.SameLength(this, x, y, nameof(x), nameof(y), operation);
        Validate.SameLength(this, x, dy, nameof(x), nameof(dy), operation);
        Validate.SameLength(this, x, dx, nameof(x), nameof(dx), operation);
        if (!Enum.IsDefined(op)) throw new ArgumentOutOfRangeException(nameof(op), op, "Unknown unary op.");
        if (x.Length > 0) unaryBackward(x.Length, V(x), V(y), V(dy), V(dx), (int)op, alpha, accumulate ? 1 : 0);
    }

    public void Binary(BinaryOp op, DeviceBuffer a, DeviceBuffer b, DeviceBuffer c)
    {
        Validate.SameLength(this, a, b, nameof(a), nameof(b), nameof(Binary));
        Validate.SameLength(this, a, c, nameof(a), nameof(c), nameof(Binary));
        if (!Enum.IsDefined(op)) throw new ArgumentOutOfRangeException(nameof(op), op, "Unknown binary op.");
        if (a.Length > 0) binary(a.Length, V(a), V(b), V(c), (int)op);
    }

    public void Axpby(float alpha, DeviceBuffer x, float beta, DeviceBuffer y)
    {
        Validate.SameLength(this, x, y, nameof(x), nameof(y), nameof(Axpby));
        if (x.Length > 0) axpby(x.Length, alpha, V(x), beta, V(y));
    }

    public void BroadcastRow(BinaryOp op, DeviceBuffer x, DeviceBuffer v, DeviceBuffer y, int rows, int cols) =>
        Broadcast(op, x, v, y, rows, cols, perRow: false, nameof(BroadcastRow));

    public void BroadcastColumn(BinaryOp op, DeviceBuffer x, DeviceBuffer v, DeviceBuffer y, int rows, int cols) =>
        Broadcast(op, x, v, y, rows, cols, perRow: true, nameof(BroadcastColumn));

    private void Broadcast(BinaryOp op, DeviceBuffer x, DeviceBuffer v, DeviceBuffer y, int rows, int cols, bool perRow, string operation)
    {
        Validate.Matrix(this, x, y, rows, cols, (long)rows * cols, operation);
        Validate.AtLeast(this, v, perRow ? rows : cols, nameof(v), operation);
        if (!Enum.IsDefined(op)) throw new ArgumentOutOfRangeException(nameof(op), op, "Unknown binary op.");
        if (rows * cols > 0) broadcast(rows * cols, V(x), V(v), V(y), cols, (int)op, perRow ? 1 : 0);
    }

    public void SumRows(DeviceBuffer x, DeviceBuffer y, int rows, int cols, bool accumulate = false)
    {
        Validate.Matrix(this, x, y, rows, cols, rows, nameof(SumRows));
        if (rows > 0) sumRows(rows, V(x), V(y), cols, accumulate ? 1 : 0);
    }

    public void SumColumns(DeviceBuffer x, DeviceBuffer y, int rows, int cols, bool accumulate = false)
    {
        Validate.Matrix(this, x, y, rows, cols, cols, nameof(SumColumns));
        if (cols == 0) return;
        int blocks = Math.Max(1, (rows + IlgpuKernels.ColumnBlockRows - 1) / IlgpuKernels.ColumnBlockRows);
        // Kernels on one stream run in order, so the scratch can go back to the pool before they finish.
        var scratch = floatPool.Rent(blocks * cols, out int capacity);
        partialColumnSums(blocks * cols, V(x), scratch.View, rows, cols);
        finishColumnSums(cols, scratch.View, V(y), blocks, cols, accumulate ? 1 : 0);
        floatPool.Return(scratch, capacity);
    }

    public double Sum(DeviceBuffer x)
    {
        var view = View(x, nameof(x), nameof(Sum));
        return Reduce(view, view, x.Length, useY: false);
    }

    public double Dot(DeviceBuffer x, DeviceBuffer y)
    {
        Validate.SameLength(this, x, y, nameof(x), nameof(y), nameof(Dot));
        return Reduce(V(x), V(y), x.Length, useY: true);
    }

    private double Reduce(ArrayView<float> x, ArrayView<float> y, int length, bool useY)
    {
        partialSum(IlgpuKernels.ReductionThreads, x, y, partials.View, length, useY ? 1 : 0);
        finishSum(1, partials.View, reduced.View);
        var result = new double[1];
        accelerator.Synchronize();
        reduced.View.CopyToCPU(result);
        return result[0];
    }

    public void GatherRows(DeviceBuffer source, IndexBuffer index, DeviceBuffer destination, int rows, int cols)
    {
        Validate.Rows(this, source, index, destination, rows, cols, gather: true, nameof(GatherRows));
        if (rows * cols > 0) gatherRows(rows * cols, V(source), V(index), V(destination), cols);
    }

    public void ScatterAddRows(DeviceBuffer source, IndexBuffer index, DeviceBuffer destination, int rows, int cols)
    {
        Validate.Rows(this, source, index, destination, rows, cols, gather: false, nameof(ScatterAddRows));
        if (rows * cols > 0) scatterAddRows(rows * cols, V(source), V(index), V(destination), cols);
    }

    public void SegmentSum(DeviceBuffer source, IndexBuffer offsets, DeviceBuffer destination, int segments, int cols,
        bool accumulate = false)
    {
        const string operation = nameof(SegmentSum);
        Validate.Segments(this, offsets, segments, operation);
        Validate.Owned(this, source, nameof(source), operation);
        Validate.AtLeast(this, destination, (long)segments * cols, nameof(destination), operation);
        if (segments * cols > 0) segmentSum(segments * cols, V(source), V(offsets), V(destination), cols, accumulate ? 1 : 0);
    }

    public void SegmentSoftmax(DeviceBuffer scores, IndexBuffer offsets, DeviceBuffer probabilities, int segments, int heads)
    {
        const string operation = nameof(SegmentSoftmax);
        Validate.Segments(this, offsets, segments, operation);
        Validate.Owned(this, scores, nameof(scores), operation);
        Validate.Owned(this, probabilities, nameof(probabilities), operation);
        if (segments * heads > 0) segmentSoftmax(segments * heads, V(scores), V(offsets), V(probabilities), heads);
    }

    public void SegmentSoftmaxBackward(DeviceBuffer probabilities, DeviceBuffer dProbabilities, IndexBuffer offsets,
        DeviceBuffer dScores, int segments, int heads, bool accumulate = false)
    {
        const string operation = nameof(SegmentSoftmaxBackward);
        Validate.Segments(this, offsets, segments, operation);
        Validate.Owned(this, probabilities, nameof(probabilities), operation);
        Validate.Owned(this, dProbabilities, nameof(dProbabilities), operation);
        Validate.Owned(this, dScores, nameof(dScores), operation);
        if (segments * heads > 0)
            segmentSoftmaxBackward(segments * heads, V(probabilities), V(dProbabilities), V(offsets), V(dScores), heads, accumulate ? 1 : 0);
    }

    public void SegmentWeightedGatherSum(DeviceBuffer weights, DeviceBuffer values, IndexBuffer sourceIndex,
        IndexBuffer offsets, DeviceBuffer output, int segments, int heads, int headDim)
    {
        const string operation = nameof(SegmentWeightedGatherSum);
        CheckAttention(weights, values, sourceIndex, offsets, segments, heads, headDim, operation);
        Validate.AtLeast(this, output, (long)segments * heads * headDim, nameof(output), operation);
        int count = segments * heads * headDim;
        if (count == 0) return;
        if (headDim % 4 == 0) weightedGatherSumFourColumns(count / 4, V(weights), V(values), V(sourceIndex), V(offsets), V(output), heads, headDim);
        else weightedGatherSum(count, V(weights), V(values), V(sourceIndex), V(offsets), V(output), heads, headDim);
    }

    public void SegmentWeightedGatherSumBackward(DeviceBuffer weights, DeviceBuffer values, IndexBuffer sourceIndex,
        IndexBuffer offsets, DeviceBuffer dOutput, DeviceBuffer? dWeights, DeviceBuffer? dValues,
        int segments, int heads, int headDim, bool accumulateWeights = false)
    {
        const string operation = nameof(SegmentWeightedGatherSumBackward);
        CheckAttention(weights, values, sourceIndex, offsets, segments, heads, headDim, operation);
        Validate.AtLeast(this, dOutput, (long)segments * heads * headDim, nameof(dOutput), operation);
        if (dWeights is not null)
        {
            Validate.Owned(this, dWeights, nameof(dWeights), operation);
            // One thread per (edge, head) of the weights; threads past the segments' last edge do nothing.
            if (segments > 0 && heads > 0 && weights.Length > 0)
                weightedGatherSumWeights(weights.Length, V(values), V(sourceIndex), V(offsets), V(dOutput), V(dWeights),
                    heads, headDim, accumulateWeights ? 1 : 0, segments);
        }

        if (dValues is not null)
        {
            Validate.AtLeast(this, dValues, values.Length, nameof(dValues), operation);
            int count = segments * heads * headDim;
            if (count > 0)
                weightedGatherSumValues(count, V(weights), V(sourceIndex), V(offsets), V(dOutput), V(dValues), heads, headDim);
        }
    }

    private void CheckAttention(DeviceBuffer weights, DeviceBuffer values, IndexBuffer sourceIndex, IndexBuffer offsets,
        int segments, int heads, int headDim, string operation)
    {
        Validate.Segments(this, offsets, segments, operation);
        Validate.NonNegative(heads, nameof(heads), operation);
        Validate.NonNegative(headDim, nameof(headDim), operation);
        Validate.Owned(this, weights, nameof(weights), operation);
        Validate.Owned(this, values, nameof(values), operation);
        Validate.Owned(this, sourceIndex, nameof(sourceIndex), operation);
    }

    public void FeatureProjection(UnaryOp activation, DeviceBuffer x, DeviceBuffer weights, DeviceBuffer biases, DeviceBuffer y,
        int rows, int features, int cols, float alpha = 0f)
    {
        Validate.FeatureProjection(this, activation, x, weights, biases, y, rows, features, cols, nameof(FeatureProjection));
        int count = rows * features * cols;
        if (count > 0) featureProjection(count, V(x), V(weights), V(biases), V(y), features, cols, (int)activation, alpha);
    }

    public void FeatureProjectionBackward(UnaryOp activation, DeviceBuffer x, DeviceBuffer weights, DeviceBuffer biases, DeviceBuffer y,
        DeviceBuffer dy, DeviceBuffer? dx, DeviceBuffer? dWeights, DeviceBuffer? dBiases, int rows, int features, int cols,
        float alpha = 0f, bool accumulateX = false)
    {
        const string operation = nameof(FeatureProjectionBackward);
        Validate.FeatureProjection(this, activation, x, weights, biases, y, rows, features, cols, operation);
        Validate.FeatureProjectionGradients(this, dy, dx, dWeights, dBiases, rows, features, cols, operation);
        if (dx is not null && rows * features > 0)
            featureProjectionInput(rows * features, V(x), V(weights), V(biases), V(y), V(dy), V(dx), features, cols, (int)activation,
                alpha, accumulateX ? 1 : 0);
        int parameters = features * cols;
        if ((dWeights ?? dBiases) is { } anyParameterGradient && parameters > 0)
        {
            int blocks = Math.Max(1, (rows + IlgpuKernels.ProjectionBlockRows - 1) / IlgpuKernels.ProjectionBlockRows);
            var partials = floatPool.Rent(2 * blocks * parameters, out int capacity);
            featureProjectionParameterPartials(blocks * parameters, V(x), V(weights), V(biases), V(y), V(dy), partials.View, rows, features, cols,
                (int)activation, alpha, blocks);
            featureProjectionParameterFinish(parameters, partials.View, V(dWeights ?? anyParameterGradient), V(dBiases ?? anyParameterGradient),
                parameters, blocks, dWeights is null ? 0 : 1, dBiases is null ? 0 : 1);
            floatPool.Return(partials, capacity);
        }
    }

    public void SaeEncode(DeviceBuffer x, DeviceBuffer weights, DeviceBuffer biases, DeviceBuffer scoreWeights, DeviceBuffer? featureLogits,
        DeviceBuffer encoded, DeviceBuffer coefficients, int rows, int features, int hidden, int heads, float inverseTemperature)
    {
        Validate.SaeEncode(this, x, weights, biases, scoreWeights, featureLogits, coefficients, rows, features, hidden, heads,
            inverseTemperature, nameof(SaeEncode));
        Validate.AtLeast(this, encoded, (long)rows * hidden, nameof(encoded), nameof(SaeEncode));
        if (rows == 0 || hidden == 0) return;
        if (features > 0)
        {
            saeScores(rows * features, V(x), V(weights), V(biases), V(scoreWeights), V(featureLogits ?? scoreWeights), V(coefficients),
                features, hidden, heads, inverseTemperature, featureLogits is null ? 0 : 1);
            saeSoftmax(rows * heads, V(coefficients), features, heads);
        }

        saeMix(rows * hidden, V(x), V(weights), V(biases), V(coefficients), V(encoded), features, hidden, heads);
    }

    public void SaeEncodeBackward(DeviceBuffer x, DeviceBuffer weights, DeviceBuffer biases, DeviceBuffer scoreWeights, DeviceBuffer coefficients,
        DeviceBuffer dEncoded, DeviceBuffer? dCoefficients, DeviceBuffer? dWeights, DeviceBuffer? dBiases, DeviceBuffer? dScoreWeights,
        DeviceBuffer? dFeatureLogits, int rows, int features, int hidden, int heads, float inverseTemperature)
    {
        const string operation = nameof(SaeEncodeBackward);
        Validate.SaeEncode(this, x, weights, biases, scoreWeights, null, coefficients, rows, features, hidden, heads, inverseTemperature, operation);
        Validate.SaeEncodeBackward(this, dEncoded, dCoefficients, dWeights, dBiases, dScoreWeights, dFeatureLogits, rows, features, hidden, heads, operation);
        int slots = rows * features;
        if (slots == 0 || hidden == 0) return;
        var dScores = floatPool.Rent(slots * heads, out int scoreCapacity);
        saeCoefficientGradient(slots, V(x), V(weights), V(biases), V(dEncoded), V(dCoefficients ?? dEncoded), dScores.View, features, hidden, heads,
            dCoefficients is null ? 0 : 1);
        saeScoreGradient(rows * heads, V(coefficients), dScores.View, features, heads, inverseTemperature);
        int parameters = features * hidden;
        if ((dWeights ?? dBiases) is { } anyParameterGradient)
        {
            int blocks = (rows + IlgpuKernels.ProjectionBlockRows - 1) / IlgpuKernels.ProjectionBlockRows;
            var partials = floatPool.Rent(2 * blocks * parameters, out int capacity);
            saeParameterPartials(blocks * parameters, V(x), V(weights), V(biases), V(scoreWeights), V(coefficients), V(dEncoded), dScores.View,
                partials.View, rows, features, hidden, heads, blocks);
            featureProjectionParameterFinish(parameters, partials.View, V(dWeights ?? anyParameterGradient), V(dBiases ?? anyParameterGradient),
                parameters, blocks, dWeights is null ? 0 : 1, dBiases is null ? 0 : 1);
            floatPool.Return(partials, capacity);
        }

        if (dScoreWeights is not null)
        {
            int blocks = (slots + IlgpuKernels.SaeScoreBlockSlots - 1) / IlgpuKernels.SaeScoreBlockSlots, scoreParameters = hidden * heads;
            var partials = floatPool.Rent(blocks * scoreParameters, out int capacity);
            saeScoreWeightPartials(blocks * scoreParameters, V(x), V(weights), V(biases), dScores.View, partials.View, slots, features, hidden, heads);
            blockSum(scoreParameters, partials.View, V(dScoreWeights), scoreParameters, blocks);
            floatPool.Return(partials, capacity);
        }
        if (dFeatureLogits is not null) saeLogitGradient(features * heads, dScores.View, V(dFeatureLogits), rows, features, heads);
        floatPool.Return(dScores, scoreCapacity);
    }

    public void CopyColumns(DeviceBuffer source, int sourceCols, int sourceOffset, DeviceBuffer destination,
        int destinationCols, int destinationOffset, int rows, int width, bool accumulate = false)
    {
        Validate.CopyColumns(this, source, sourceCols, sourceOffset, destination, destinationCols, destinationOffset, rows, width);
        if (rows * width > 0)
            copyColumns(rows * width, V(source), sourceCols, sourceOffset, V(destination), destinationCols, destinationOffset, width,
                accumulate ? 1 : 0);
    }

    public void AdamStep(DeviceBuffer parameters, DeviceBuffer gradients, DeviceBuffer firstMoment, DeviceBuffer secondMoment,
        float learningRate, float beta1, float beta2, float epsilon, float weightDecay, int step)
    {
        Validate.AdamStep(this, parameters, gradients, firstMoment, secondMoment, step);
        if (parameters.Length == 0) return;
        float inverseCorrection1 = (float)(1 / (1 - Math.Pow(beta1, step)));
        float inverseCorrection2 = (float)(1 / (1 - Math.Pow(beta2, step)));
        adamStep(parameters.Length, V(parameters), V(gradients), V(firstMoment), V(secondMoment), learningRate, beta1, beta2,
            epsilon, weightDecay, inverseCorrection1, inverseCorrection2);
    }

    public void Dispose()
    {
        accelerator.Synchronize();
        floatPool.Dispose();
        indexPool.Dispose();
        partials.Dispose();
        reduced.Dispose();
        accelerator.Dispose();
        if (ownsContext) context.Dispose();
    }

    private void Return(MemoryBuffer1D<float, Stride1D.Dense> memory, int capacity) => floatPool.Return(memory, capacity);

    private void Return(MemoryBuffer1D<int, Stride1D.Dense> memory, int capacity) => indexPool.Return(memory, capacity);

    private sealed class GpuBuffer(IlgpuBackend owner, MemoryBuffer1D<float, Stride1D.Dense> memory, int capacity, int length)
        : DeviceBuffer(owner, length)
    {
        public ArrayView<float> View { get; } = memory.View;

        protected override void Release() => owner.Return(memory, capacity);
    }

    private sealed class GpuIndexBuffer(IlgpuBackend owner, MemoryBuffer1D<int, Stride1D.Dense> memory, int capacity, int length)
        : IndexBuffer(owner, length)
    {
        public ArrayView<int> View { get; } = memory.View;

        protected override void Release() => owner.Return(memory, capacity);
    }
}
