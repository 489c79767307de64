using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace SaGatSr.Kernels.Cpu;

// The SAE encoder on the host. A feature's projection act(x w_f + b_f) and its score depend only on the value x, and
// in a batch most values repeat (an element's descriptors on every site of that element, a crystal's descriptors on all
// its atoms): about half the (atom, feature) slots of a perovskite batch repeat a value. So each distinct (feature,
// value) is projected, scored and differentiated once; per slot only the softmax, the mix and the gradient gather remain.
public sealed partial class SimdCpuBackend
{
    /// <summary>Rows are coded and encoded in chunks whose distinct projections and slopes fit this many floats each.</summary>
    private const int SaeWorkspaceFloats = 1 << 22;

    public void SaeEncode(DeviceBuffer x, DeviceBuffer weights, DeviceBuffer biases, DeviceBuffer scoreWeights, DeviceBuffer? featureLogits,
        DeviceBuffer encoded, DeviceBuffer coefficients, int rows, int features, int hidden, int heads, float inverseTemperature)
    {
        Validate.SaeEncode(this, x, weights, biases, scoreWeights, featureLogits, coefficients, rows, features, hidden, heads,
            inverseTemperature, nameof(SaeEncode));
        Validate.AtLeast(this, encoded, (long)rows * hidden, nameof(encoded), nameof(SaeEncode));
        float[] xs = ((CpuBuffer)x).Values, w = ((CpuBuffer)weights).Values, b = ((CpuBuffer)biases).Values;
        float[] es = ((CpuBuffer)encoded).Values, cs = ((CpuBuffer)coefficients).Values;
        float[]? logits = (featureLogits as CpuBuffer)?.Values;
        if (rows == 0 || hidden == 0) return;
        if (features == 0)
        {
            Array.Clear(es, 0, rows * hidden);
            return;
        }

        var scoreRows = TransposedScores(((CpuBuffer)scoreWeights).Values, hidden, heads);
        int headDim = hidden / heads, chunkRows = SaeChunkRows(features, hidden);
        for (int first = 0; first < rows; first += chunkRows)
        {
            int count = Math.Min(chunkRows, rows - first), chunkStart = first;
            var codes = ValueCodes.Build(this, xs, first, count, features);
            var projections = floatPool.Rent(codes.Distinct * hidden, out _);
            // One chunk: the slopes cost no extra exponential here, and the backward pass that usually follows reuses them.
            var slopes = count == rows ? floatPool.Rent(codes.Distinct * hidden, out _) : null;
            var scores = floatPool.Rent(codes.Distinct * heads, out _);
            bool memoised = false;
            try
            {
                work.ForCost(features, (long)codes.Distinct / features * hidden * 12, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (start, end) =>
                {
                    for (int f = start; f < end; f++)
                    for (int u = codes.Offsets[f]; u < codes.Offsets[f + 1]; u++)
                    {
                        var h = projections.AsSpan(u * hidden, hidden);
                        if (slopes is null)
                            VectorOps.FeatureProjection(UnaryOp.Silu, codes.Values[u], w.AsSpan(f * hidden, hidden), b.AsSpan(f * hidden, hidden), h, 0f);
                        else
                            VectorOps.SiluProjectionWithSlope(codes.Values[u], w.AsSpan(f * hidden, hidden), b.AsSpan(f * hidden, hidden), h,
                                slopes.AsSpan(u * hidden, hidden));
                        for (int k = 0; k < heads; k++)
                            scores[u * heads + k] = (VectorOps.Dot(h, scoreRows.AsSpan(k * hidden, hidden)) + (logits?[f * heads + k] ?? 0f))
                                * inverseTemperature;
                    }
                });
                work.ForCost(count, (long)features * (hidden + 4 * heads), [MethodImpl(MethodImplOptions.AggressiveOptimization)] (start, end) =>
                {
                    var weight = System.Buffers.ArrayPool<float>.Shared.Rent(features);
                    var starts = System.Buffers.ArrayPool<int>.Shared.Rent(features);
                    try
                    {
                        for (int r = start; r < end; r++)
                        {
                            int row = chunkStart + r;
                            var code = codes.Codes.AsSpan(r * features, features);
                            var a = weight.AsSpan(0, features);
                            for (int k = 0; k < heads; k++)
                            {
                                for (int f = 0; f < features; f++)
                                {
                                    a[f] = scores[code[f] * heads + k];
                                    starts[f] = code[f] * hidden + k * headDim;
                                }

                                TensorPrimitives.Subtract(a, TensorPrimitives.Max(a), a);
                                VectorOps.SoftmaxExp(a, a);
                                TensorPrimitives.Divide(a, TensorPrimitives.Sum(a), a);
                                for (int f = 0; f < features; f++) cs[(row * features + f) * heads + k] = a[f];
                                VectorOps.WeightedGatherSum(projections.AsSpan(0, codes.Distinct * hidden), starts.AsSpan(0, features), a,
                                    es.AsSpan(row * hidden + k * headDim, headDim));
                            }
                        }
                    }
                    finally
                    {
                        System.Buffers.ArrayPool<float>.Shared.Return(weight);
                        System.Buffers.ArrayPool<int>.Shared.Return(starts);
                    }
                });
                if (slopes is not null)
                {
                    Interlocked.Exchange(ref saeMemo, SaeMemo.Create(this, xs, w, b, rows, features, hidden, codes, projections, slopes))?.Release(this);
                    memoised = true;
                }
            }
            finally
            {
                Return(scores);
                if (!memoised)
                {
                    Return(projections);
                    if (slopes is not null) Return(slopes);
                    codes.Release(this);
                }
            }
        }
    }

    public void SaeEncodeBackward(DeviceBuffer x, DeviceBuffer weights, DeviceBuffer biases, DeviceBuffer scoreWeights, DeviceBuffer coefficients,
        DeviceBuffer dEncoded, DeviceBuffer? dCoefficients, DeviceBuffer? dWeights, DeviceBuffer? dBiases, DeviceBuffer? dScoreWeights,
        DeviceBuffer? dFeatureLogits, int rows, int features, int hidden, int heads, float inverseTemperature)
    {
        const string operation = nameof(SaeEncodeBackward);
        Validate.SaeEncode(this, x, weights, biases, scoreWeights, null, coefficients, rows, features, hidden, heads, inverseTemperature, operation);
        Validate.SaeEncodeBackward(this, dEncoded, dCoefficients, dWeights, dBiases, dScoreWeights, dFeatureLogits, rows, features, hidden, heads, operation);
        float[] xs = ((CpuBuffer)x).Values, w = ((CpuBuffer)weights).Values, b = ((CpuBuffer)biases).Values;
        float[] cs = ((CpuBuffer)coefficients).Values, des = ((CpuBuffer)dEncoded).Values;
        float[]? dcs = (dCoefficients as CpuBuffer)?.Values;
        float[]? dws = (dWeights as CpuBuffer)?.Values, dbs = (dBiases as CpuBuffer)?.Values;
        float[]? dss = (dScoreWeights as CpuBuffer)?.Values, dls = (dFeatureLogits as CpuBuffer)?.Values;
        if (rows == 0 || features == 0 || hidden == 0) return;
        var scoreRows = TransposedScores(((CpuBuffer)scoreWeights).Values, hidden, heads);
        int headDim = hidden / heads, chunkRows = SaeChunkRows(features, hidden);
        // Features in fixed blocks, each with its own partial score-weight gradient, added in block order (deterministic).
        int blocks = Math.Min(features, ParameterGradientBlocks);
        int featuresPerBlock = (features + blocks - 1) / blocks;
        blocks = (features + featuresPerBlock - 1) / featuresPerBlock;
        var scorePartials = floatPool.Rent(blocks * heads * hidden, out _);
        Array.Clear(scorePartials, 0, blocks * heads * hidden);
        try
        {
            for (int first = 0; first < rows; first += chunkRows)
            {
                int count = Math.Min(chunkRows, rows - first), chunkStart = first;
                var memo = count == rows ? Interlocked.Exchange(ref saeMemo, null) : null;
                if (memo is not null && !memo.Matches(xs, w, b, rows, features, hidden))
                {
                    memo.Release(this);
                    memo = null;
                }

                var codes = memo?.Codes ?? ValueCodes.Build(this, xs, first, count, features);
                var projections = memo?.Projections ?? floatPool.Rent(codes.Distinct * hidden, out _);
                var slopes = memo?.Slopes ?? floatPool.Rent(codes.Distinct * hidden, out _);
                var dScores = floatPool.Rent(count * features * heads, out _);
                try
                {
                    if (memo is null)
                        work.ForCost(features, (long)codes.Distinct / features * hidden * 12, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (start, end) =>
                        {
                            for (int f = start; f < end; f++)
                            for (int u = codes.Offsets[f]; u < codes.Offsets[f + 1]; u++)
                                VectorOps.SiluProjectionWithSlope(codes.Values[u], w.AsSpan(f * hidden, hidden), b.AsSpan(f * hidden, hidden),
                                    projections.AsSpan(u * hidden, hidden), slopes.AsSpan(u * hidden, hidden));
                        });

                    // dScore_f = a_f (g_f - sum_j a_j g_j) / T with g_f = d(loss)/d(a_f), slot by slot.
                    work.ForCost(count, (long)features * heads * (headDim + 6), [MethodImpl(MethodImplOptions.AggressiveOptimization)] (start, end) =>
                    {
                        for (int r = start; r < end; r++)
                        {
                            int row = chunkStart + r;
                            var code = codes.Codes.AsSpan(r * features, features);
                            for (int k = 0; k < heads; k++)
                            {
                                var headGradient = des.AsSpan(row * hidden + k * headDim, headDim);
                                double mean = 0;
                                for (int f = 0; f < features; f++)
                                {
                                    int at = (row * features + f) * heads + k;
                                    float g = VectorOps.Dot(headGradient, projections.AsSpan(code[f] * hidden + k * headDim, headDim)) + (dcs?[at] ?? 0f);
                                    dScores[(r * features + f) * heads + k] = g;
                                    mean += cs[at] * (double)g;
                                }

                                for (int f = 0; f < features; f++)
                                {
                                    int slot = (r * features + f) * heads + k;
                                    dScores[slot] = cs[(row * features + f) * heads + k] * (dScores[slot] - (float)mean) * inverseTemperature;
                                }
                            }
                        }
                    });

                    // Feature by feature, so each distinct value's gradient is gathered from its slots without races:
                    // dh_u = sum over its slots of a dEncoded (head by head) + sum_k dScore_k scoreWeights[:, k].
                    int mostDistinct = codes.MostDistinct;
                    work.For(blocks, 1, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (start, end) =>
                    {
                        var gathered = System.Buffers.ArrayPool<float>.Shared.Rent(mostDistinct * hidden);
                        var gatheredScores = System.Buffers.ArrayPool<float>.Shared.Rent(mostDistinct * heads);
                        var unused = System.Buffers.ArrayPool<float>.Shared.Rent(2 * hidden);
                        var logitSums = new double[heads];
                        try
                        {
                            for (int block = start; block < end; block++)
                            {
                                var scorePartial = scorePartials.AsSpan(block * heads * hidden, heads * hidden);
                                for (int f = block * featuresPerBlock; f < Math.Min(features, (block + 1) * featuresPerBlock); f++)
                                {
                                    int offset = codes.Offsets[f], distinct = codes.Offsets[f + 1] - offset;
                                    Array.Clear(gathered, 0, distinct * hidden);
                                    Array.Clear(gatheredScores, 0, distinct * heads);
                                    Array.Clear(logitSums);
                                    for (int r = 0; r < count; r++)
                                    {
                                        int local = codes.Codes[r * features + f] - offset, row = chunkStart + r;
                                        for (int k = 0; k < heads; k++)
                                        {
                                            VectorOps.AddScaled(des.AsSpan(row * hidden + k * headDim, headDim), cs[(row * features + f) * heads + k],
                                                gathered.AsSpan(local * hidden + k * headDim, headDim));
                                            float dScore = dScores[(r * features + f) * heads + k];
                                            gatheredScores[local * heads + k] += dScore;
                                            logitSums[k] += dScore;
                                        }
                                    }

                                    if (dls is not null)
                                        for (int k = 0; k < heads; k++)
                                            dls[f * heads + k] += (float)logitSums[k];
                                    var dWeightRow = dws is null ? unused.AsSpan(0, hidden) : dws.AsSpan(f * hidden, hidden);
                                    var dBiasRow = dbs is null ? unused.AsSpan(hidden, hidden) : dbs.AsSpan(f * hidden, hidden);
                                    for (int local = 0; local < distinct; local++)
                                    {
                                        int u = offset + local;
                                        var dh = gathered.AsSpan(local * hidden, hidden);
                                        for (int k = 0; k < heads; k++)
                                        {
                                            float dScore = gatheredScores[local * heads + k];
                                            VectorOps.AddScaled(scoreRows.AsSpan(k * hidden, hidden), dScore, dh);
                                            VectorOps.AddScaled(projections.AsSpan(u * hidden, hidden), dScore, scorePartial.Slice(k * hidden, hidden));
                                        }

                                        if (dws is not null || dbs is not null)
                                            VectorOps.ProjectionParameterStep(codes.Values[u], dh, slopes.AsSpan(u * hidden, hidden), dWeightRow, dBiasRow);
                                    }
                                }
                            }
                        }
                        finally
                        {
                            System.Buffers.ArrayPool<float>.Shared.Return(gathered);
                            System.Buffers.ArrayPool<float>.Shared.Return(gatheredScores);
                            System.Buffers.ArrayPool<float>.Shared.Return(unused);
                        }
                    });
                }
                finally
                {
                    Return(projections);
                    Return(slopes);
                    Return(dScores);
                    codes.Release(this);
                    memo?.ReleaseCopies(this);
                }
            }

            if (dss is not null)
                for (int block = 0; block < blocks; block++)
                for (int k = 0; k < heads; k++)
                for (int c = 0; c < hidden; c++)
                    dss[c * heads + k] += scorePartials[(block * heads + k) * hidden + c];
        }
        finally
        {
            Return(scorePartials);
        }
    }

    // The last one-chunk forward pass's distinct projections and slopes, kept for the backward pass of the same inputs. It
    // holds copies of x, the weights and the biases, and is used only when they are equal bit for bit (a comparison that
    // costs a small fraction of recomputing the projections), so a forward pass of other inputs in between only costs
    // the reuse.
    private SaeMemo? saeMemo;

    private sealed class SaeMemo
    {
        private float[] x = [], weights = [], biases = [];
        private int rows, features, hidden;

        public ValueCodes Codes { get; private set; } = null!;

        public float[] Projections { get; private set; } = [];

        public float[] Slopes { get; private set; } = [];

        public static SaeMemo Create(SimdCpuBackend owner, float[] xs, float[] w, float[] b, int rows, int features, int hidden,
            ValueCodes codes, float[] projections, float[] slopes) => new()
        {
            x = Copy(owner, xs, rows * features),
            weights = Copy(owner, w, features * hidden),
            biases = Copy(owner, b, features * hidden),
            rows = rows,
            features = features,
            hidden = hidden,
            Codes = codes,
            Projections = projections,
            Slopes = slopes,
        };

        public bool Matches(float[] xs, float[] w, float[] b, int rows, int features, int hidden) =>
            rows == this.rows && features == this.features && hidden == this.hidden
            && Same(xs, x, rows * features) && Same(w, weights, features * hidden) && Same(b, biases, features * hidden);

        public void Release(SimdCpuBackend owner)
        {
            ReleaseCopies(owner);
            Codes.Release(owner);
            owner.Return(Projections);
            owner.Return(Slopes);
        }

        /// <summary>Returns only the input copies: the caller took over the codes, projections and slopes.</summary>
        public void ReleaseCopies(SimdCpuBackend owner)
        {
            owner.Return(x);
            owner.Return(weights);
            owner.Return(biases);
        }

        private static float[] Copy(SimdCpuBackend owner, float[] source, int length)
        {
            var copy = owner.floatPool.Rent(length, out _);
            Array.Copy(source, copy, length);
            return copy;
        }

        // Bits, not values: NaN equals itself, and -0 differs from 0 as the codes tell them apart.
        private static bool Same(float[] a, float[] b, int length) =>
            MemoryMarshal.AsBytes(a.AsSpan(0, length)).SequenceEqual(MemoryMarshal.AsBytes(b.AsSpan(0, length)));
    }

    private static int SaeChunkRows(int features, int hidden) => Math.Max(1, SaeWorkspaceFloats / Math.Max(1, features * hidden));

    /// <summary>scoreWeights [hidden, heads] as [heads, hidden], so each head's score is one contiguous dot product.</summary>
    private static float[] TransposedScores(float[] scoreWeights, int hidden, int heads)
    {
        var rowsOfHeads = new float[heads * hidden];
        for (int c = 0; c < hidden; c++)
        for (int k = 0; k < heads; k++)
            rowsOfHeads[k * hidden + c] = scoreWeights[c * heads + k];
        return rowsOfHeads;
    }

    /// <summary>
    /// A dictionary coding of rows [first, first + count) of a row-major [rows, features] matrix: the distinct values of
    /// feature f are Values[Offsets[f] .. Offsets[f + 1]), in order of first appearance, and Codes[r * features + f] is
    /// the index of slot (first + r, f)'s value in Values. Values are told apart by their bits, so equal codes give
    /// bit-identical projections.
    /// </summary>
    private sealed class ValueCodes
    {
        private ValueCodes(int[] codes, float[] values, int[] offsets)
        {
            Codes = codes;
            Values = values;
            Offsets = offsets;
        }

        public int[] Codes { get; }

        public float[] Values { get; }

        public int[] Offsets { get; }

        public int Distinct => Offsets[^1];

        public int MostDistinct
        {
            get
            {
                int most = 0;
                for (int f = 0; f + 1 < Offsets.Length; f++) most = Math.Max(most, Offsets[f + 1] - Offsets[f]);
                return most;
            }
        }

        public static ValueCodes Build(SimdCpuBackend owner, float[] matrix, int first, int count, int features)
        {
            var codes = owner.indexPool.Rent(count * features, out _);
            // Feature f's distinct values first go to firstSeen[f * count ..], then are packed after the counts are known.
            var firstSeen = owner.floatPool.Rent(count * features, out _);
            var offsets = new int[features + 1];
            int tableSize = (int)BitOperations.RoundUpToPowerOf2((uint)Math.Max(2 * count, 16)), shift = 32 - BitOperations.Log2((uint)tableSize);
            owner.work.ForCost(features, (long)count * 8, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (start, end) =>
            {
                // Open addressing on the value's bits; a slot is live when its stamp is the feature being coded.
                var keys = System.Buffers.ArrayPool<uint>.Shared.Rent(tableSize);
                var entries = System.Buffers.ArrayPool<int>.Shared.Rent(tableSize);
                var stamps = System.Buffers.ArrayPool<int>.Shared.Rent(tableSize);
                try
                {
                    Array.Clear(stamps, 0, tableSize);
                    for (int f = start; f < end; f++)
                    {
                        int stamp = f + 1, distinct = 0;
                        for (int r = 0; r < count; r++)
                        {
                            float value = matrix[(first + r) * features + f];
                            uint bits = BitConverter.SingleToUInt32Bits(value);
                            int at = (int)((bits * 2654435769u) >> shift);
                            while (stamps[at] == stamp && keys[at] != bits) at = (at + 1) & (tableSize - 1);
                            if (stamps[at] != stamp)
                            {
                                stamps[at] = stamp;
                                keys[at] = bits;
                                entries[at] = distinct;
                                firstSeen[f * count + distinct++] = value;
                            }

                            codes[r * features + f] = entries[at];
                        }

                        offsets[f + 1] = distinct;
                    }
                }
                finally
                {
                    System.Buffers.ArrayPool<uint>.Shared.Return(keys);
                    System.Buffers.ArrayPool<int>.Shared.Return(entries);
                    System.Buffers.ArrayPool<int>.Shared.Return(stamps);
                }
            });
            for (int f = 0; f < features; f++) offsets[f + 1] += offsets[f];
            var values = owner.floatPool.Rent(Math.Max(offsets[^1], 1), out _);
            for (int f = 0; f < features; f++)
                Array.Copy(firstSeen, f * count, values, offsets[f], offsets[f + 1] - offsets[f]);
            owner.Return(firstSeen);
            for (int r = 0; r < count; r++)
            for (int f = 0; f < features; f++)
                codes[r * features + f] += offsets[f];
            return new ValueCodes(codes, values, offsets);
        }

        public void Release(SimdCpuBackend owner)
        {
            owner.Return(Codes);
            owner.Return(Values);
        }
    }
}
