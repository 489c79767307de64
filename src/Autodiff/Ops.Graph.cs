using SaGatSr.Kernels;

namespace SaGatSr.Autodiff;

public static partial class Ops
{
    /// <summary>Rows x[index[i]] -> [index.Length, Cols]; indices may repeat.</summary>
    public static Tensor Gather(Tensor x, IndexTensor index)
    {
        var backend = SameBackend(nameof(Gather), x);
        CheckBackend(nameof(Gather), backend, index);
        index.CheckRange(x.Rows, $"Gather from {x.Describe()}");
        var y = Tensor.Create(backend, index.Length, x.Cols);
        backend.GatherRows(x.Data, index.Data, y.Data, index.Length, x.Cols);
        Autograd.Record(y, [x], dy =>
            backend.ScatterAddRows(dy, index.Data, x.GradBuffer(out _), index.Length, x.Cols));
        return y;
    }

    /// <summary>output[index[i]] += x[i] -> [outputRows, Cols].</summary>
    public static Tensor ScatterAdd(Tensor x, IndexTensor index, int outputRows)
    {
        var backend = SameBackend(nameof(ScatterAdd), x);
        CheckBackend(nameof(ScatterAdd), backend, index);
        if (index.Length != x.Rows)
            throw new ArgumentException($"ScatterAdd: {index.Length} indices for the {x.Rows} rows of {x.Describe()}.");
        index.CheckRange(outputRows, "ScatterAdd");
        var y = Tensor.Create(backend, outputRows, x.Cols);
        backend.ScatterAddRows(x.Data, index.Data, y.Data, x.Rows, x.Cols);
        Autograd.Record(y, [x], dy =>
            Autograd.AccumulateGrad(x, g => backend.GatherRows(dy, index.Data, g, x.Rows, x.Cols)));
        return y;
    }

    /// <summary>Sum of the rows of each segment -> [segments.Count, Cols] (0 for empty segments).</summary>
    public static Tensor SegmentSum(Tensor x, Segments segments)
    {
        var backend = CheckSegmentRows(nameof(SegmentSum), x, segments);
        var y = Tensor.Create(backend, segments.Count, x.Cols);
        backend.SegmentSum(x.Data, segments.Offsets.Data, y.Data, segments.Count, x.Cols);
        Autograd.Record(y, [x], dy =>
            Autograd.AccumulateGrad(x, g => backend.GatherRows(dy, segments.RowToSegment.Data, g, x.Rows, x.Cols)));
        return y;
    }

    /// <summary>Mean of the rows of each segment -> [segments.Count, Cols] (0 for empty segments).</summary>
    public static Tensor SegmentMean(Tensor x, Segments segments)
    {
        var backend = CheckSegmentRows(nameof(SegmentMean), x, segments);
        var y = Tensor.Create(backend, segments.Count, x.Cols);
        using (var sums = backend.Allocate(y.Length))
        {
            backend.SegmentSum(x.Data, segments.Offsets.Data, sums, segments.Count, x.Cols);
            backend.BroadcastColumn(BinaryOp.Div, sums, segments.SizesOrOne, y.Data, segments.Count, x.Cols);
        }

        Autograd.Record(y, [x], dy =>
        {
            using var perSegment = backend.Allocate(y.Length);
            backend.BroadcastColumn(BinaryOp.Div, dy, segments.SizesOrOne, perSegment, segments.Count, x.Cols);
            Autograd.AccumulateGrad(x, g => backend.GatherRows(perSegment, segments.RowToSegment.Data, g, x.Rows, x.Cols));
        });
        return y;
    }

    /// <summary>[segments.Count, C] -> [segments.TotalRows, C]: every row gets its segment's row.</summary>
    public static Tensor BroadcastSegments(Tensor perSegment, Segments segments)
    {
        var backend = SameBackend(nameof(BroadcastSegments), perSegment);
        CheckBackend(nameof(BroadcastSegments), backend, segments);
        if (perSegment.Rows != segments.Count)
            throw new ArgumentException($"BroadcastSegments: {perSegment.Describe()} must have one row per segment ({segments.Count}).");
        var y = Tensor.Create(backend, segments.TotalRows, perSegment.Cols);
        backend.GatherRows(perSegment.Data, segments.RowToSegment.Data, y.Data, segments.TotalRows, perSegment.Cols);
        Autograd.Record(y, [perSegment], dy =>
        {
            var grad = perSegment.GradBuffer(out bool fresh);
            backend.SegmentSum(dy, segments.Offsets.Data, grad, segments.Count, perSegment.Cols, accumulate: !fresh);
        });
        return y;
    }

    /// <summary>scores [E, heads]: softmax over the rows of each segment, separately per column.</summary>
    public static Tensor SegmentSoftmax(Tensor scores, Segments segments)
    {
        var backend = CheckSegmentRows(nameof(SegmentSoftmax), scores, segments);
        var y = Tensor.Create(backend, scores.Shape);
        backend.SegmentSoftmax(scores.Data, segments.Offsets.Data, y.Data, segments.Count, scores.Cols);
        Autograd.Record(y, [scores], dy =>
        {
            var grad = scores.GradBuffer(out bool fresh);
            backend.SegmentSoftmaxBackward(y.Data, dy, segments.Offsets.Data, grad, segments.Count, scores.Cols, accumulate: !fresh);
        });
        return y;
    }

    /// <summary>
    /// Attention aggregation: output[s, h*D + d] = sum over rows e of segment s of
    /// weights[e, h] * values[sourceIndex[e], h*D + d]. weights [E, heads], values [N, heads*D] -> [segments.Count, heads*D].
    /// </summary>
    public static Tensor SegmentWeightedGatherSum(Tensor weights, Tensor values, IndexTensor sourceIndex, Segments segments, int heads)
    {
        const string operation = nameof(SegmentWeightedGatherSum);
        var backend = CheckSegmentRows(operation, weights, segments);
        SameBackend(operation, weights, values);
        CheckBackend(operation, backend, sourceIndex);
        if (heads <= 0 || weights.Cols != heads)
            throw new ArgumentException($"{operation}: weights {weights.Describe()} must have one column per head ({heads}).");
        if (values.Cols % heads != 0)
            throw new ArgumentException($"{operation}: values {values.Describe()} have {values.Cols} columns, not a multiple of {heads} heads.");
        if (sourceIndex.Length != segments.TotalRows)
            throw new ArgumentException($"{operation}: {sourceIndex.Length} source indices for {segments.TotalRows} weighted rows.");
        sourceIndex.CheckRange(values.Rows, $"{operation} source indices into {values.Describe()}");
        int headDim = values.Cols / heads;
        var y = Tensor.Create(backend, segments.Count, values.Cols);
        backend.SegmentWeightedGatherSum(weights.Data, values.Data, sourceIndex.Data, segments.Offsets.Data, y.Data,
            segments.Count, heads, headDim);
        Autograd.Record(y, [weights, values], dy =>
        {
            bool freshWeights = false;
            var weightGrad = weights.RequiresGrad ? weights.GradBuffer(out freshWeights) : null;
            var valueGrad = values.RequiresGrad ? values.GradBuffer(out _) : null;
            backend.SegmentWeightedGatherSumBackward(weights.Data, values.Data, sourceIndex.Data, segments.Offsets.Data, dy,
                weightGrad, valueGrad, segments.Count, heads, headDim, accumulateWeights: !freshWeights);
        });
        return y;
    }

    private static IComputeBackend CheckSegmentRows(string operation, Tensor x, Segments segments)
    {
        var backend = SameBackend(operation, x);
        CheckBackend(operation, backend, segments);
        if (x.Rows != segments.TotalRows)
            throw new ArgumentException($"{operation}: {x.Describe()} has {x.Rows} rows but the segments cover {segments.TotalRows}.");
        return backend;
    }
}
