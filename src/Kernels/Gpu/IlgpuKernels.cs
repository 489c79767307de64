using System.Reflection;
using ILGPU;
using ILGPU.Algorithms;

namespace SaGatSr.Kernels.Gpu;

/// <summary>
/// Every ILGPU kernel of <see cref="IlgpuBackend"/>. Methods ending in "Kernel" are implicitly grouped
/// (one thread per output element, Index1D first); those ending in "GroupedKernel" are explicitly grouped
/// and use shared memory. Ops arrive as ints so one kernel serves every op with a uniform branch.
/// </summary>
internal static class IlgpuKernels
{
    /// <summary>Edge of the square shared-memory tiles of the matmul kernel (one thread per element of C).</summary>
    public const int Tile = 16;

    /// <summary>Tile edge for accelerators with fewer than Tile * Tile threads per group.</summary>
    public const int SmallTile = 4;

    /// <summary>Rows per block in the first pass of SumColumns, so tall matrices with few columns still fill a GPU.</summary>
    public const int ColumnBlockRows = 256;

    /// <summary>Rows per block in the first pass of the feature projection's parameter gradients (thousands of atoms in a batch).</summary>
    public const int ProjectionBlockRows = 64;

    /// <summary>Slots (atom, feature) per block of the SAE's score-weight gradient.</summary>
    public const int SaeScoreBlockSlots = 256;

    /// <summary>A matmul with fewer tile groups than this splits its depth so that the GPU fills (weight gradients: k = rows).</summary>
    public const int MinMatMulGroups = 256;

    /// <summary>Threads producing the partial sums that Sum and Dot reduce in a second pass.</summary>
    public const int ReductionThreads = 4096;

    /// <summary>All kernel entry points, for tests that compile each of them to PTX and OpenCL C.</summary>
    internal static IReadOnlyList<MethodInfo> All { get; } = typeof(IlgpuKernels)
        .GetMethods(BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic)
        .Where(m => m.Name.EndsWith("Kernel", StringComparison.Ordinal))
        .OrderBy(m => m.Name, StringComparer.Ordinal)
        .ToArray();

    internal static bool IsExplicitlyGrouped(MethodInfo kernel) => kernel.Name.EndsWith("GroupedKernel", StringComparison.Ordinal);

    public static void FillKernel(Index1D i, ArrayView<float> x, float value) => x[i] = value;

    public static void CopyKernel(Index1D i, ArrayView<float> source, ArrayView<float> destination) => destination[i] = source[i];

    /// <summary>
    /// C = op(A) op(B) + beta C with 16x16 tiles of op(A) and op(B) staged in shared memory (GPUs). Grid z splits the
    /// depth into chunks of <paramref name="depthChunk"/>: split z writes its partial product to c[z * m * n ...], for
    /// <see cref="MatMulSplitSumKernel"/> to add (one chunk covering k writes C itself).
    /// </summary>
    public static void MatMulGroupedKernel(ArrayView<float> a, ArrayView<float> b, ArrayView<float> c,
        int m, int n, int k, int transposeA, int transposeB, float beta, int depthChunk) =>
        MatMulTiled(SharedMemory.Allocate<float>(Tile * Tile), SharedMemory.Allocate<float>(Tile * Tile), Tile,
            a, b, c, m, n, k, transposeA, transposeB, beta, depthChunk);

    /// <summary>
    /// The same with 4x4 tiles, for accelerators whose groups hold fewer than 256 threads: ILGPU's CPU
    /// accelerator runs one OS thread per group thread, and 16 of them keep a small machine usable.
    /// </summary>
    public static void MatMulSmallTileGroupedKernel(ArrayView<float> a, ArrayView<float> b, ArrayView<float> c,
        int m, int n, int k, int transposeA, int transposeB, float beta, int depthChunk) =>
        MatMulTiled(SharedMemory.Allocate<float>(SmallTile * SmallTile), SharedMemory.Allocate<float>(SmallTile * SmallTile), SmallTile,
            a, b, c, m, n, k, transposeA, transposeB, beta, depthChunk);

    /// <summary>One thread per element of C; ragged edges load zeros into the tiles.</summary>
    private static void MatMulTiled(ArrayView<float> tileA, ArrayView<float> tileB, int tile, ArrayView<float> a,
        ArrayView<float> b, ArrayView<float> c, int m, int n, int k, int transposeA, int transposeB, float beta, int depthChunk)
    {
        int tx = Group.IdxX, ty = Group.IdxY;
        int row = Grid.IdxY * tile + ty, column = Grid.IdxX * tile + tx;
        int depthStart = Grid.IdxZ * depthChunk, depthEnd = XMath.Min(k, depthStart + depthChunk);
        float sum = 0f;
        for (int t = depthStart; t < depthEnd; t += tile)
        {
            int ak = t + tx, bk = t + ty;
            tileA[ty * tile + tx] = row < m && ak < depthEnd ? (transposeA != 0 ? a[ak * m + row] : a[row * k + ak]) : 0f;
            tileB[ty * tile + tx] = bk < depthEnd && column < n ? (transposeB != 0 ? b[column * k + bk] : b[bk * n + column]) : 0f;
            Group.Barrier();
            for (int p = 0; p < tile; p++) sum += tileA[ty * tile + p] * tileB[p * tile + tx];
            Group.Barrier();
        }

        if (row < m && column < n)
        {
            long at = (long)Grid.IdxZ * m * n + row * n + column;
            c[at] = beta == 0f ? sum : sum + beta * c[at];
        }
    }

    /// <summary>Adds the depth splits' partial products in split order: C = sum_z partials[z] + beta C.</summary>
    public static void MatMulSplitSumKernel(Index1D i, ArrayView<float> partials, ArrayView<float> c, int splits, int size, float beta)
    {
        float sum = 0f;
        for (int z = 0; z < splits; z++) sum += partials[(long)z * size + i];
        c[i] = beta == 0f ? sum : sum + beta * c[i];
    }

    private static float Sigmoid(float x) => 1f / (1f + XMath.Exp(-x));

    /// <summary>Odd Taylor series near 0 (relative accuracy), 1 - 2 / (exp(2|x|) + 1) beyond.</summary>
    private static float Tanh(float x)
    {
        float ax = XMath.Abs(x);
        if (ax < 0.25f)
        {
            float x2 = x * x;
            return x * (1f + x2 * (-1f / 3 + x2 * (2f / 15 + x2 * (-17f / 315 + x2 * (62f / 2835)))));
        }

        float far = 1f - 2f / (XMath.Exp(ax + ax) + 1f);
        return x < 0f ? -far : far;
    }

    /// <summary>
    /// Natural log to about an ulp. XMath.Log lowers to PTX's lg2.approx, whose absolute error of ~1e-7 is a large relative
    /// error where log(x) is small (x near 1), so the mantissa's log comes from the atanh series instead.
    /// </summary>
    private static float Log(float x)
    {
        if (!(x > 0f) || x == float.PositiveInfinity) return x == 0f ? float.NegativeInfinity : x + (x - x); // NaN for x < 0 or NaN
        int exponent = 0;
        if (x < 1.17549435e-38f)
        {
            x *= 8388608f; // subnormal: scale by 2^23 into the normal range
            exponent = -23;
        }

        int bits = (int)Interop.FloatAsInt(x);
        exponent += (bits >> 23) - 127;
        float mantissa = Interop.IntAsFloat((uint)((bits & 0x007FFFFF) | 0x3F800000));
        if (mantissa > 1.41421356f)
        {
            mantissa *= 0.5f;
            exponent++;
        }

        // log m = 2 atanh(s), s = (m - 1) / (m + 1), |s| <= 0.172: five odd terms leave a relative error below 1e-8.
        float s = (mantissa - 1f) / (mantissa + 1f), s2 = s * s;
        float series = s * (2f + s2 * (2f / 3 + s2 * (2f / 5 + s2 * (2f / 7 + s2 * (2f / 9)))));
        return series + exponent * 0.693147181f;
    }

    /// <summary>log(1 + t), exact for t so small that 1 + t rounds to 1.</summary>
    private static float LogOnePlus(float t)
    {
        float u = 1f + t;
        return u == 1f ? t : Log(u) * t / (u - 1f);
    }

    private static float Apply(int op, float x, float alpha) => (UnaryOp)op switch
    {
        UnaryOp.Identity => x,
        UnaryOp.Relu => x > 0f ? x : 0f,
        UnaryOp.LeakyRelu => x > 0f ? x : alpha * x,
        UnaryOp.Sigmoid => Sigmoid(x),
        UnaryOp.Tanh => Tanh(x),
        UnaryOp.Silu => x / (1f + XMath.Exp(-x)),
        UnaryOp.Softplus => XMath.Max(x, 0f) + LogOnePlus(XMath.Exp(-XMath.Abs(x))),
        UnaryOp.Exp => XMath.Exp(x),
        UnaryOp.Log => Log(x),
        UnaryOp.Square => x * x,
        UnaryOp.Sqrt => XMath.Sqrt(x),
        UnaryOp.Abs => XMath.Abs(x),
        UnaryOp.Neg => -x,
        _ => alpha * x,
    };

    private static float Derivative(int op, float x, float y, float alpha)
    {
        switch ((UnaryOp)op)
        {
            case UnaryOp.Identity: return 1f;
            case UnaryOp.Relu: return x > 0f ? 1f : 0f;
            case UnaryOp.LeakyRelu: return x > 0f ? 1f : alpha;
            case UnaryOp.Sigmoid: return y * (1f - y);
            case UnaryOp.Tanh: return (1f - y) * (1f + y); // no cancellation as |y| -> 1, unlike 1 - y*y
            case UnaryOp.Silu:
            {
                float s = Sigmoid(x);
                return s * (1f + x * (1f - s));
            }
            case UnaryOp.Softplus: return Sigmoid(x);
            case UnaryOp.Exp: return y;
            case UnaryOp.Log: return 1f / x;
            case UnaryOp.Square: return x + x;
            case UnaryOp.Sqrt: return 0.5f / y;
            case UnaryOp.Abs: return x > 0f ? 1f : x < 0f ? -1f : 0f;
            case UnaryOp.Neg: return -1f;
            default: return alpha;
        }
    }

    private static float Combine(int op, float a, float b) => (BinaryOp)op switch
    {
        BinaryOp.Add => a + b,
        BinaryOp.Sub => a - b,
        BinaryOp.Mul => a * b,
        _ => a / b,
    };

    public static void UnaryKernel(Index1D i, ArrayView<float> x, ArrayView<float> y, int op, float alpha) =>
        y[i] = Apply(op, x[i], alpha);

    public static void UnaryBackwardKernel(Index1D i, ArrayView<float> x, ArrayView<float> y, ArrayView<float> dy,
        ArrayView<float> dx, int op, float alpha, int accumulate)
    {
        float g = dy[i] * Derivative(op, x[i], y[i], alpha);
        dx[i] = accumulate != 0 ? dx[i] + g : g;
    }

    public static void BinaryKernel(Index1D i, ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, int op) =>
        c[i] = Combine(op, a[i], b[i]);

    public static void AxpbyKernel(Index1D i, float alpha, ArrayView<float> x, float beta, ArrayView<float> y) =>
        y[i] = beta == 0f ? alpha * x[i] : alpha * x[i] + beta * y[i];

    /// <summary>y[i,j] = x[i,j] op v[j] (perRow = 0) or x[i,j] op v[i] (perRow = 1).</summary>
    public static void BroadcastKernel(Index1D i, ArrayView<float> x, ArrayView<float> v, ArrayView<float> y,
        int cols, int op, int perRow) =>
        y[i] = Combine(op, x[i], v[perRow != 0 ? i.X / cols : i.X % cols]);

    public static void SumRowsKernel(Index1D row, ArrayView<float> x, ArrayView<float> y, int cols, int accumulate)
    {
        float s = 0f;
        for (int j = 0; j < cols; j++) s += x[row * cols + j];
        y[row] = accumulate != 0 ? y[row] + s : s;
    }

    /// <summary>First pass of SumColumns: thread (block, column) sums ColumnBlockRows rows of one column.</summary>
    public static void PartialColumnSumsKernel(Index1D i, ArrayView<float> x, ArrayView<float> partials, int rows, int cols)
    {
        int block = i.X / cols, column = i.X % cols;
        int firstRow = block * ColumnBlockRows, lastRow = XMath.Min(rows, firstRow + ColumnBlockRows);
        float s = 0f;
        for (int r = firstRow; r < lastRow; r++) s += x[r * cols + column];
        partials[i] = s;
    }

    /// <summary>Second pass: each column adds its block sums in block order.</summary>
    public static void FinishColumnSumsKernel(Index1D column, ArrayView<float> partials, ArrayView<float> y, int blocks,
        int cols, int accumulate)
    {
        float s = 0f;
        for (int b = 0; b < blocks; b++) s += partials[b * cols + column];
        y[column] = accumulate != 0 ? y[column] + s : s;
    }

    /// <summary>First pass of Sum/Dot: thread t sums elements t, t + T, t + 2T, ... (times y when useY is 1).</summary>
    public static void PartialSumKernel(Index1D t, ArrayView<float> x, ArrayView<float> y, ArrayView<float> partials,
        int length, int useY)
    {
        float s = 0f;
        for (int j = t; j < length; j += ReductionThreads) s += useY != 0 ? x[j] * y[j] : x[j];
        partials[t] = s;
    }

    /// <summary>Second pass: one thread adds the partial sums in double, in a fixed order.</summary>
    public static void FinishSumKernel(Index1D t, ArrayView<float> partials, ArrayView<double> result)
    {
        double s = 0;
        for (int j = 0; j < ReductionThreads; j++) s += partials[j];
        result[0] = s;
    }

    public static void GatherRowsKernel(Index1D i, ArrayView<float> source, ArrayView<int> index,
        ArrayView<float> destination, int cols) =>
        destination[i] = source[index[i / cols] * cols + i % cols];

    public static void ScatterAddRowsKernel(Index1D i, ArrayView<float> source, ArrayView<int> index,
        ArrayView<float> destination, int cols) =>
        Atomic.Add(ref destination[index[i / cols] * cols + i % cols], source[i]);

    public static void SegmentSumKernel(Index1D i, ArrayView<float> source, ArrayView<int> offsets,
        ArrayView<float> destination, int cols, int accumulate)
    {
        int segment = i / cols, j = i % cols;
        float s = 0f;
        for (int e = offsets[segment]; e < offsets[segment + 1]; e++) s += source[e * cols + j];
        destination[i] = accumulate != 0 ? destination[i] + s : s;
    }

    /// <summary>One thread per (segment, head): max, exponentials and their sum, then normalise.</summary>
    public static void SegmentSoftmaxKernel(Index1D i, ArrayView<float> scores, ArrayView<int> offsets,
        ArrayView<float> probabilities, int heads)
    {
        int segment = i / heads, h = i % heads;
        int e0 = offsets[segment], e1 = offsets[segment + 1];
        float max = float.NegativeInfinity;
        for (int e = e0; e < e1; e++) max = XMath.Max(max, scores[e * heads + h]);
        float total = 0f;
        for (int e = e0; e < e1; e++)
        {
            float p = XMath.Exp(scores[e * heads + h] - max);
            probabilities[e * heads + h] = p;
            total += p;
        }

        float inverse = 1f / total;
        for (int e = e0; e < e1; e++) probabilities[e * heads + h] *= inverse;
    }

    public static void SegmentSoftmaxBackwardKernel(Index1D i, ArrayView<float> probabilities, ArrayView<float> dProbabilities,
        ArrayView<int> offsets, ArrayView<float> dScores, int heads, int accumulate)
    {
        int segment = i / heads, h = i % heads;
        int e0 = offsets[segment], e1 = offsets[segment + 1];
        float inner = 0f;
        for (int e = e0; e < e1; e++) inner += probabilities[e * heads + h] * dProbabilities[e * heads + h];
        for (int e = e0; e < e1; e++)
        {
            int at = e * heads + h;
            float g = probabilities[at] * (dProbabilities[at] - inner);
            dScores[at] = accumulate != 0 ? dScores[at] + g : g;
        }
    }

    /// <summary>One thread per output element (segment, h * headDim + d), summing over the segment's edges.</summary>
    public static void SegmentWeightedGatherSumKernel(Index1D i, ArrayView<float> weights, ArrayView<float> values,
        ArrayView<int> sourceIndex, ArrayView<int> offsets, ArrayView<float> output, int heads, int headDim)
    {
        int width = heads * headDim;
        int segment = i / width, j = i % width, h = j / headDim;
        float s = 0f;
        for (int e = offsets[segment]; e < offsets[segment + 1]; e++)
            s += weights[e * heads + h] * values[sourceIndex[e] * width + j];
        output[i] = s;
    }

    /// <summary>
    /// The same for head widths that are a multiple of 4, four adjacent columns per thread: one load of the edge's index and
    /// weight serves four value loads, and four independent loads per thread keep enough bytes in flight to fill HBM.
    /// </summary>
    public static void SegmentWeightedGatherSumFourColumnsKernel(Index1D i, ArrayView<float> weights, ArrayView<float> values,
        ArrayView<int> sourceIndex, ArrayView<int> offsets, ArrayView<float> output, int heads, int headDim)
    {
        int width = heads * headDim, quarter = width / 4;
        int segment = i / quarter, j = i % quarter * 4, h = j / headDim;
        float s0 = 0f, s1 = 0f, s2 = 0f, s3 = 0f;
        for (int e = offsets[segment]; e < offsets[segment + 1]; e++)
        {
            float w = weights[e * heads + h];
            int row = sourceIndex[e] * width + j;
            s0 += w * values[row];
            s1 += w * values[row + 1];
            s2 += w * values[row + 2];
            s3 += w * values[row + 3];
        }

        int at = segment * width + j;
        output[at] = s0;
        output[at + 1] = s1;
        output[at + 2] = s2;
        output[at + 3] = s3;
    }

    /// <summary>
    /// dWeights: one thread per (edge, head), a dot product over the head's columns. The edge's segment is found by binary
    /// search in the offsets, so no thread walks a whole segment (SAE segments hold every feature of an atom).
    /// </summary>
    public static void SegmentWeightedGatherSumWeightsKernel(Index1D i, ArrayView<float> values, ArrayView<int> sourceIndex,
        ArrayView<int> offsets, ArrayView<float> dOutput, ArrayView<float> dWeights, int heads, int headDim, int accumulate, int segments)
    {
        int edge = i / heads, h = i % heads;
        if (edge >= offsets[segments]) return;
        // The last segment starting at or before the edge; empty segments before it share its offset and lose the search.
        int low = 0, high = segments;
        while (high - low > 1)
        {
            int middle = (low + high) >> 1;
            if (offsets[middle] <= edge) low = middle;
            else high = middle;
        }

        int width = heads * headDim;
        int output = low * width + h * headDim, value = sourceIndex[edge] * width + h * headDim;
        float dot = 0f;
        for (int d = 0; d < headDim; d++) dot += dOutput[output + d] * values[value + d];
        dWeights[i] = accumulate != 0 ? dWeights[i] + dot : dot;
    }

    /// <summary>dValues: one thread per (segment, column); rows shared between segments are added atomically.</summary>
    public static void SegmentWeightedGatherSumValuesKernel(Index1D i, ArrayView<float> weights, ArrayView<int> sourceIndex,
        ArrayView<int> offsets, ArrayView<float> dOutput, ArrayView<float> dValues, int heads, int headDim)
    {
        int width = heads * headDim;
        int segment = i / width, j = i % width, h = j / headDim;
        float gradient = dOutput[i];
        for (int e = offsets[segment]; e < offsets[segment + 1]; e++)
            Atomic.Add(ref dValues[sourceIndex[e] * width + j], weights[e * heads + h] * gradient);
    }

    /// <summary>One thread per output element (slot, j) of the per-feature projection.</summary>
    public static void FeatureProjectionKernel(Index1D i, ArrayView<float> x, ArrayView<float> weights, ArrayView<float> biases,
        ArrayView<float> y, int features, int cols, int op, float alpha)
    {
        int slot = i / cols, parameter = slot % features * cols + i % cols;
        y[i] = Apply(op, x[slot] * weights[parameter] + biases[parameter], alpha);
    }

    /// <summary>dx of the per-feature projection: one thread per slot, a dot product over its columns.</summary>
    public static void FeatureProjectionInputKernel(Index1D slot, ArrayView<float> x, ArrayView<float> weights,
        ArrayView<float> biases, ArrayView<float> y, ArrayView<float> dy, ArrayView<float> dx, int features, int cols, int op,
        float alpha, int accumulate)
    {
        int f = slot % features;
        float dot = 0f;
        for (int j = 0; j < cols; j++)
        {
            int at = slot * cols + j, parameter = f * cols + j;
            float pre = x[slot] * weights[parameter] + biases[parameter];
            dot += dy[at] * Derivative(op, pre, y[at], alpha) * weights[parameter];
        }

        dx[slot] = accumulate != 0 ? dx[slot] + dot : dot;
    }

    /// <summary>
    /// dWeights and dBiases of the per-feature projection, first pass: thread (block, parameter) sums the rows of one
    /// block of <see cref="ProjectionBlockRows"/>; weight sums go to partials[i], bias sums to partials[blocks * parameters + i].
    /// </summary>
    public static void FeatureProjectionParameterPartialKernel(Index1D i, ArrayView<float> x, ArrayView<float> weights,
        ArrayView<float> biases, ArrayView<float> y, ArrayView<float> dy, ArrayView<float> partials, int rows, int features, int cols,
        int op, float alpha, int blocks)
    {
        int parameters = features * cols;
        int block = i / parameters, parameter = i % parameters, f = parameter / cols, j = parameter % cols;
        int firstRow = block * ProjectionBlockRows, lastRow = XMath.Min(rows, firstRow + ProjectionBlockRows);
        float weightSum = 0f, biasSum = 0f;
        for (int r = firstRow; r < lastRow; r++)
        {
            int slot = r * features + f, at = slot * cols + j;
            float pre = x[slot] * weights[parameter] + biases[parameter];
            float g = dy[at] * Derivative(op, pre, y[at], alpha);
            weightSum += x[slot] * g;
            biasSum += g;
        }

        partials[i] = weightSum;
        partials[blocks * parameters + i] = biasSum;
    }

    /// <summary>Second pass: each parameter adds its block sums in block order to the gradients it is asked for.</summary>
    public static void FeatureProjectionParameterFinishKernel(Index1D parameter, ArrayView<float> partials, ArrayView<float> dWeights,
        ArrayView<float> dBiases, int parameters, int blocks, int hasWeights, int hasBiases)
    {
        float weightSum = 0f, biasSum = 0f;
        for (int b = 0; b < blocks; b++)
        {
            weightSum += partials[b * parameters + parameter];
            biasSum += partials[(blocks + b) * parameters + parameter];
        }

        if (hasWeights != 0) dWeights[parameter] += weightSum;
        if (hasBiases != 0) dBiases[parameter] += biasSum;
    }

    /// <summary>SAE scores, one thread per (row, feature) slot: (h_rf · scoreWeights[:, k] + logit) / T into coefficients[slot * heads + k].</summary>
    public static void SaeScoresKernel(Index1D slot, ArrayView<float> x, ArrayView<float> weights, ArrayView<float> biases,
        ArrayView<float> scoreWeights, ArrayView<float> featureLogits, ArrayView<float> coefficients, int features, int hidden, int heads,
        float inverseTemperature, int hasLogits)
    {
        int f = slot % features;
        for (int k = 0; k < heads; k++) coefficients[slot * heads + k] = hasLogits != 0 ? featureLogits[f * heads + k] : 0f;
        // Each projection once, added into every head's score.
        for (int c = 0; c < hidden; c++)
        {
            float h = Apply((int)UnaryOp.Silu, x[slot] * weights[f * hidden + c] + biases[f * hidden + c], 0f);
            for (int k = 0; k < heads; k++) coefficients[slot * heads + k] += h * scoreWeights[c * heads + k];
        }

        for (int k = 0; k < heads; k++) coefficients[slot * heads + k] *= inverseTemperature;
    }

    /// <summary>In place, one thread per (row, head): the scores of the row's features become their softmax.</summary>
    public static void SaeSoftmaxKernel(Index1D i, ArrayView<float> coefficients, int features, int heads)
    {
        int r = i / heads, k = i % heads;
        float max = float.NegativeInfinity;
        for (int f = 0; f < features; f++) max = XMath.Max(max, coefficients[(r * features + f) * heads + k]);
        float sum = 0f;
        for (int f = 0; f < features; f++)
        {
            int at = (r * features + f) * heads + k;
            float e = XMath.Exp(coefficients[at] - max);
            coefficients[at] = e;
            sum += e;
        }

        for (int f = 0; f < features; f++) coefficients[(r * features + f) * heads + k] /= sum;
    }

    /// <summary>encoded[r, c] = sum_f coefficient(r, f, head of c) * h_rf[c], one thread per output element.</summary>
    public static void SaeMixKernel(Index1D i, ArrayView<float> x, ArrayView<float> weights, ArrayView<float> biases,
        ArrayView<float> coefficients, ArrayView<float> encoded, int features, int hidden, int heads)
    {
        int r = i / hidden, c = i % hidden, k = c / (hidden / heads);
        float sum = 0f;
        for (int f = 0; f < features; f++)
        {
            int slot = r * features + f;
            sum += coefficients[slot * heads + k] * Apply((int)UnaryOp.Silu, x[slot] * weights[f * hidden + c] + biases[f * hidden + c], 0f);
        }

        encoded[i] = sum;
    }

    /// <summary>Backward, per slot: dScores[slot * heads + k] = d(loss)/d(coefficient) = dEncoded[r, head k's slice] · h_rf's slice (+ dCoefficients).</summary>
    public static void SaeCoefficientGradientKernel(Index1D slot, ArrayView<float> x, ArrayView<float> weights, ArrayView<float> biases,
        ArrayView<float> dEncoded, ArrayView<float> dCoefficients, ArrayView<float> dScores, int features, int hidden, int heads, int hasDCoefficients)
    {
        int r = slot / features, f = slot % features, headDim = hidden / heads;
        for (int k = 0; k < heads; k++)
        {
            float g = hasDCoefficients != 0 ? dCoefficients[slot * heads + k] : 0f;
            for (int c = k * headDim; c < (k + 1) * headDim; c++)
                g += dEncoded[r * hidden + c] * Apply((int)UnaryOp.Silu, x[slot] * weights[f * hidden + c] + biases[f * hidden + c], 0f);
            dScores[slot * heads + k] = g;
        }
    }

    /// <summary>In place, per (row, head): the softmax backward, dScore_f = a_f (g_f - sum_j a_j g_j) / T.</summary>
    public static void SaeScoreGradientKernel(Index1D i, ArrayView<float> coefficients, ArrayView<float> dScores, int features, int heads,
        float inverseTemperature)
    {
        int r = i / heads, k = i % heads;
        float mean = 0f;
        for (int f = 0; f < features; f++)
        {
            int at = (r * features + f) * heads + k;
            mean += coefficients[at] * dScores[at];
        }

        for (int f = 0; f < features; f++)
        {
            int at = (r * features + f) * heads + k;
            dScores[at] = coefficients[at] * (dScores[at] - mean) * inverseTemperature;
        }
    }

    /// <summary>
    /// dWeights and dBiases of the SAE, first pass (finished by <see cref="FeatureProjectionParameterFinishKernel"/>): thread
    /// (block, parameter) sums one block of <see cref="ProjectionBlockRows"/> rows of dPre = (a dEncoded + sum_k dScore_k
    /// scoreWeights[c, k]) * SiLU'(pre).
    /// </summary>
    public static void SaeParameterPartialKernel(Index1D i, ArrayView<float> x, ArrayView<float> weights, ArrayView<float> biases,
        ArrayView<float> scoreWeights, ArrayView<float> coefficients, ArrayView<float> dEncoded, ArrayView<float> dScores, ArrayView<float> partials,
        int rows, int features, int hidden, int heads, int blocks)
    {
        int parameters = features * hidden;
        int block = i / parameters, parameter = i % parameters, f = parameter / hidden, c = parameter % hidden;
        int k = c / (hidden / heads);
        int firstRow = block * ProjectionBlockRows, lastRow = XMath.Min(rows, firstRow + ProjectionBlockRows);
        float weightSum = 0f, biasSum = 0f;
        for (int r = firstRow; r < lastRow; r++)
        {
            int slot = r * features + f;
            float dh = coefficients[slot * heads + k] * dEncoded[r * hidden + c];
            for (int head = 0; head < heads; head++) dh += dScores[slot * heads + head] * scoreWeights[c * heads + head];
            float pre = x[slot] * weights[parameter] + biases[parameter];
            // SiLU's slope needs only pre, not the activation.
            float g = dh * Derivative((int)UnaryOp.Silu, pre, 0f, 0f);
            weightSum += x[slot] * g;
            biasSum += g;
        }

        partials[i] = weightSum;
        partials[blocks * parameters + i] = biasSum;
    }

    /// <summary>
    /// dScoreWeights, first pass: thread (block, c, k) sums dScore(slot, k) * h_slot[c] over one block of
    /// <see cref="SaeScoreBlockSlots"/> slots into partials[i]; <see cref="BlockSumKernel"/> adds the blocks.
    /// </summary>
    public static void SaeScoreWeightPartialKernel(Index1D i, ArrayView<float> x, ArrayView<float> weights, ArrayView<float> biases,
        ArrayView<float> dScores, ArrayView<float> partials, int slots, int features, int hidden, int heads)
    {
        int parameters = hidden * heads;
        int block = i / parameters, c = i % parameters / heads, k = i % heads;
        int first = block * SaeScoreBlockSlots, last = XMath.Min(slots, first + SaeScoreBlockSlots);
        float sum = 0f;
        for (int slot = first; slot < last; slot++)
        {
            int f = slot % features;
            sum += dScores[slot * heads + k] * Apply((int)UnaryOp.Silu, x[slot] * weights[f * hidden + c] + biases[f * hidden + c], 0f);
        }

        partials[i] = sum;
    }

    /// <summary>target[p] += sum over blocks b of partials[b * parameters + p], in block order.</summary>
    public static void BlockSumKernel(Index1D p, ArrayView<float> partials, ArrayView<float> target, int parameters, int blocks)
    {
        float sum = 0f;
        for (int b = 0; b < blocks; b++) sum += partials[b * parameters + p];
        target[p] += sum;
    }

    /// <summary>dFeatureLogits[f * heads + k] += sum over rows of dScore(r, f, k).</summary>
    public static void SaeLogitGradientKernel(Index1D i, ArrayView<float> dScores, ArrayView<float> dFeatureLogits, int rows, int features, int heads)
    {
        float sum = 0f;
        for (int r = 0; r < rows; r++) sum += dScores[r * features * heads + i];
        dFeatureLogits[i] += sum;
    }

    public static void CopyColumnsKernel(Index1D i, ArrayView<float> source, int sourceCols, int sourceOffset,
        ArrayView<float> destination, int destinationCols, int destinationOffset, int width, int accumulate)
    {
        int row = i / width, j = i % width;
        int to = row * destinationCols + destinationOffset + j;
        float v = source[row * sourceCols + sourceOffset + j];
        destination[to] = accumulate != 0 ? destination[to] + v : v;
    }

    public static void AdamStepKernel(Index1D i, ArrayView<float> parameters, ArrayView<float> gradients,
        ArrayView<float> firstMoment, ArrayView<float> secondMoment, float learningRate, float beta1, float beta2,
        float epsilon, float weightDecay, float inverseCorrection1, float inverseCorrection2)
    {
        float g = gradients[i];
        float m = beta1 * firstMoment[i] + (1f - beta1) * g;
        float v = beta2 * secondMoment[i] + (1f - beta2) * g * g;
        firstMoment[i] = m;
        secondMoment[i] = v;
        float p = parameters[i];
        parameters[i] = p - learningRate * (m * inverseCorrection1 / (XMath.Sqrt(v * inverseCorrection2) + epsilon) + weightDecay * p);
    }
}
