namespace SaGatSr.Kernels.Reference;

/// <summary>
/// Plain single-threaded float64 loops, written for obviousness rather than speed. It is the ground truth
/// the float32 backends are checked against, and the backend the autodiff gradient checks run on.
/// </summary>
public sealed class ReferenceBackend : IComputeBackend
{
    public string Name => "reference (float64, single thread)";

    public DeviceKind Kind => DeviceKind.Reference;

    public DeviceBuffer Allocate(int length) => new ReferenceBuffer(this, length);

    public IndexBuffer AllocateIndices(int length) => new ReferenceIndexBuffer(this, length);

    internal static double[] Data(DeviceBuffer buffer) => ((ReferenceBuffer)buffer).Values;

    internal static int[] Data(IndexBuffer buffer) => ((ReferenceIndexBuffer)buffer).Values;

    public void Upload(DeviceBuffer destination, ReadOnlySpan<float> source)
    {
        var d = Data(destination);
        for (int i = 0; i < source.Length; i++) d[i] = source[i];
    }

    public void Upload(DeviceBuffer destination, ReadOnlySpan<double> source) => source.CopyTo(Data(destination));

    public void Download(DeviceBuffer source, Span<float> destination)
    {
        var s = Data(source);
        for (int i = 0; i < destination.Length; i++) destination[i] = (float)s[i];
    }

    public void Download(DeviceBuffer source, Span<double> destination) =>
        Data(source).AsSpan(0, destination.Length).CopyTo(destination);

    public void Upload(IndexBuffer destination, ReadOnlySpan<int> source) => source.CopyTo(Data(destination));

    public void Download(IndexBuffer source, Span<int> destination) =>
        Data(source).AsSpan(0, destination.Length).CopyTo(destination);

    public void Synchronize()
    {
    }

    public void Fill(DeviceBuffer x, double value) => Array.Fill(Data(x), value);

    public void Copy(DeviceBuffer source, DeviceBuffer destination) => Data(source).CopyTo(Data(destination), 0);

    public void MatMul(DeviceBuffer a, DeviceBuffer b, DeviceBuffer c, int m, int n, int k,
        bool transposeA = false, bool transposeB = false, float beta = 0f)
    {
        double[] A = Data(a), B = Data(b), C = Data(c);
        for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++)
        {
            double sum = 0;
            for (int p = 0; p < k; p++)
            {
                double av = transposeA ? A[p * m + i] : A[i * k + p];
                double bv = transposeB ? B[j * k + p] : B[p * n + j];
                sum += av * bv;
            }

            C[i * n + j] = beta == 0f ? sum : sum + beta * C[i * n + j];
        }
    }

    public static double Apply(UnaryOp op, double x, double alpha) => op switch
    {
        UnaryOp.Identity => x,
        UnaryOp.Relu => x > 0 ? x : 0,
        UnaryOp.LeakyRelu => x > 0 ? x : alpha * x,
        UnaryOp.Sigmoid => 1 / (1 + Math.Exp(-x)),
        UnaryOp.Tanh => Math.Tanh(x),
        UnaryOp.Silu => x / (1 + Math.Exp(-x)),
        UnaryOp.Softplus => Math.Max(x, 0) + LogOnePlus(Math.Exp(-Math.Abs(x))),
        UnaryOp.Exp => Math.Exp(x),
        UnaryOp.Log => Math.Log(x),
        UnaryOp.Square => x * x,
        UnaryOp.Sqrt => Math.Sqrt(x),
        UnaryOp.Abs => Math.Abs(x),
        UnaryOp.Neg => -x,
        UnaryOp.Scale => alpha * x,
        _ => throw new ArgumentOutOfRangeException(nameof(op)),
    };

    /// <summary>log(1 + t), exact for tiny t where 1 + t rounds to 1 (Math.Log(1 + t) would return 0).</summary>
    private static double LogOnePlus(double t)
    {
        double u = 1 + t;
        return u == 1 ? t : Math.Log(u) * t / (u - 1);
    }

    /// <summary>f'(x), given y = f(x).</summary>
    public static double Derivative(UnaryOp op, double x, double y, double alpha)
    {
        switch (op)
        {
            case UnaryOp.Identity: return 1;
            case UnaryOp.Relu: return x > 0 ? 1 : 0;
            case UnaryOp.LeakyRelu: return x > 0 ? 1 : alpha;
            case UnaryOp.Sigmoid: return y * (1 - y);
            case UnaryOp.Tanh: return 1 - y * y;
            case UnaryOp.Silu:
            {
                double s = 1 / (1 + Math.Exp(-x));
                return s * (1 + x * (1 - s));
            }
            case UnaryOp.Softplus: return 1 / (1 + Math.Exp(-x));
            case UnaryOp.Exp: return y;
            case UnaryOp.Log: return 1 / x;
            case UnaryOp.Square: return 2 * x;
            case UnaryOp.Sqrt: return 0.5 / y;
            case UnaryOp.Abs: return x > 0 ? 1 : x < 0 ? -1 : 0;
            case UnaryOp.Neg: return -1;
            case UnaryOp.Scale: return alpha;
            default: throw new ArgumentOutOfRangeException(nameof(op));
        }
    }

    public static double Apply(BinaryOp op, double a, double b) => op switch
    {
        BinaryOp.Add => a + b,
        BinaryOp.Sub => a - b,
        BinaryOp.Mul => a * b,
        BinaryOp.Div => a / b,
        _ => throw new ArgumentOutOfRangeException(nameof(op)),
    };

    public void Unary(UnaryOp op, DeviceBuffer x, DeviceBuffer y, float alpha = 0f)
    {
        double[] X = Data(x), Y = Data(y);
        for (int i = 0; i < x.Length; i++) Y[i] = Apply(op, X[i], alpha);
    }

    public void UnaryBackward(UnaryOp op, DeviceBuffer x, DeviceBuffer y, DeviceBuffer dy, DeviceBuffer dx,
        float alpha = 0f, bool accumulate = false)
    {
        double[] X = Data(x), Y = Data(y), DY = Data(dy), DX = Data(dx);
        for (int i = 0; i < x.Length; i++)
        {
            double g = DY[i] * Derivative(op, X[i], Y[i], alpha);
            DX[i] = accumulate ? DX[i] + g : g;
        }
    }

    public void Binary(BinaryOp op, DeviceBuffer a, DeviceBuffer b, DeviceBuffer c)
    {
        double[] A = Data(a), B = Data(b), C = Data(c);
        for (int i = 0; i < a.Length; i++) C[i] = Apply(op, A[i], B[i]);
    }

    public void Axpby(float alpha, DeviceBuffer x, float beta, DeviceBuffer y)
    {
        double[] X = Data(x), Y = Data(y);
        for (int i = 0; i < x.Length; i++) Y[i] = alpha * X[i] + (beta == 0f ? 0 : beta * Y[i]);
    }

    public void BroadcastRow(BinaryOp op, DeviceBuffer x, DeviceBuffer v, DeviceBuffer y, int rows, int cols)
    {
        double[] X = Data(x), V = Data(v), Y = Data(y);
        for (int i = 0; i < rows; i++)
        for (int j = 0; j < cols; j++)
            Y[i * cols + j] = Apply(op, X[i * cols + j], V[j]);
    }

    public void BroadcastColumn(BinaryOp op, DeviceBuffer x, DeviceBuffer v, DeviceBuffer y, int rows, int cols)
    {
        double[] X = Data(x), V = Data(v), Y = Data(y);
        for (int i = 0; i < rows; i++)
        for (int j = 0; j < cols; j++)
            Y[i * cols + j] = Apply(op, X[i * cols + j], V[i]);
    }

    public void SumRows(DeviceBuffer x, DeviceBuffer y, int rows, int cols, bool accumulate = false)
    {
        double[] X = Data(x), Y = Data(y);
        for (int i = 0; i < rows; i++)
        {
            double s = 0;
            for (int j = 0; j < cols; j++) s += X[i * cols + j];
            Y[i] = accumulate ? Y[i] + s : s;
        }
    }

    public void SumColumns(DeviceBuffer x, DeviceBuffer y, int rows, int cols, bool accumulate = false)
    {
        double[] X = Data(x), Y = Data(y);
        for (int j = 0; j < cols; j++)
        {
            double s = 0;
            for (int i = 0; i < rows; i++) s += X[i * cols + j];
            Y[j] = accumulate ? Y[j] + s : s;
        }
    }

    public double Sum(DeviceBuffer x) => Data(x).Sum();

    public double Dot(DeviceBuffer x, DeviceBuffer y)
    {
        double[] X = Data(x), Y = Data(y);
        double s = 0;
        for (int i = 0; i < x.Length; i++) s += X[i] * Y[i];
        return s;
    }

    public void GatherRows(DeviceBuffer source, IndexBuffer index, DeviceBuffer destination, int rows, int cols)
    {
        double[] S = Data(source), D = Data(destination);
        int[] I = Data(index);
        for (int i = 0; i < rows; i++)
            Array.Copy(S, (long)I[i] * cols, D, (long)i * cols, cols);
    }

    public void ScatterAddRows(DeviceBuffer source, IndexBuffer index, DeviceBuffer destination, int rows, int cols)
    {
        double[] S = Data(source), D = Data(destination);
        int[] I = Data(index);
        for (int i = 0; i < rows; i++)
        for (int j = 0; j < cols; j++)
            D[I[i] * cols + j] += S[i * cols + j];
    }

    public void SegmentSum(DeviceBuffer source, IndexBuffer offsets, DeviceBuffer destination, int segments, int cols,
        bool accumulate = false)
    {
        double[] S = Data(source), D = Data(destination);
        int[] O = Data(offsets);
        for (int s = 0; s < segments; s++)
        for (int j = 0; j < cols; j++)
        {
            double sum = 0;
            for (int i = O[s]; i < O[s + 1]; i++) sum += S[i * cols + j];
            D[s * cols + j] = accumulate ? D[s * cols + j] + sum : sum;
        }
    }

    public void SegmentSoftmax(DeviceBuffer scores, IndexBuffer offsets, DeviceBuffer probabilities, int segments, int heads)
    {
        double[] S = Data(scores), P = Data(probabilities);
        int[] O = Data(offsets);
        for (int s = 0; s < segments; s++)
        for (int h = 0; h < heads; h++)
        {
            double max = double.NegativeInfinity;
            for (int e = O[s]; e < O[s + 1]; e++) max = Math.Max(max, S[e * heads + h]);
            double total = 0;
            for (int e = O[s]; e < O[s + 1]; e++) total += P[e * heads + h] = Math.Exp(S[e * heads + h] - max);
            for (int e = O[s]; e < O[s + 1]; e++) P[e * heads + h] /= total;
        }
    }

    public void SegmentSoftmaxBackward(DeviceBuffer probabilities, DeviceBuffer dProbabilities, IndexBuffer offsets,
        DeviceBuffer dScores, int segments, int heads, bool accumulate = false)
    {
        double[] P = Data(probabilities), DP = Data(dProbabilities), DS = Data(dScores);
        int[] O = Data(offsets);
        for (int s = 0; s < segments; s++)
        for (int h = 0; h < heads; h++)
        {
            double inner = 0;
            for (int e = O[s]; e < O[s + 1]; e++) inner += P[e * heads + h] * DP[e * heads + h];
            for (int e = O[s]; e < O[s + 1]; e++)
            {
                int at = e * heads + h;
                double g = P[at] * (DP[at] - inner);
                DS[at] = accumulate ? DS[at] + g : g;
            }
        }
    }

    public void SegmentWeightedGatherSum(DeviceBuffer weights, DeviceBuffer values, IndexBuffer sourceIndex,
        IndexBuffer offsets, DeviceBuffer output, int segments, int heads, int headDim)
    {
        double[] W = Data(weights), V = Data(values), Out = Data(output);
        int[] Src = Data(sourceIndex), O = Data(offsets);
        int width = heads * headDim;
        for (int s = 0; s < segments; s++)
        for (int h = 0; h < heads; h++)
        for (int d = 0; d < headDim; d++)
        {
            double sum = 0;
            for (int e = O[s]; e < O[s + 1]; e++) sum += W[e * heads + h] * V[Src[e] * width + h * headDim + d];
            Out[s * width + h * headDim + d] = sum;
        }
    }

    public void SegmentWeightedGatherSumBackward(DeviceBuffer weights, DeviceBuffer values, IndexBuffer sourceIndex,
        IndexBuffer offsets, DeviceBuffer dOutput, DeviceBuffer? dWeights, DeviceBuffer? dValues,
        int segments, int heads, int headDim, bool accumulateWeights = false)
    {
        double[] W = Data(weights), V = Data(values), DO = Data(dOutput);
        double[]? DW = dWeights is null ? null : Data(dWeights), DV = dValues is null ? null : Data(dValues);
        int[] Src = Data(sourceIndex), O = Data(offsets);
        int width = heads * headDim;
        for (int s = 0; s < segments; s++)
        for (int e = O[s]; e < O[s + 1]; e++)
        for (int h = 0; h < heads; h++)
        {
            double dot = 0;
            for (int d = 0; d < headDim; d++)
            {
                int outAt = s * width + h * headDim + d, valueAt = Src[e] * width + h * headDim + d;
                dot += DO[outAt] * V[valueAt];
                if (DV is not null) DV[valueAt] += W[e * heads + h] * DO[outAt];
            }

            if (DW is not null) DW[e * heads + h] = accumulateWeights ? DW[e * heads + h] + dot : dot;
        }
    }

    public void FeatureProjection(UnaryOp activation, DeviceBuffer x, DeviceBuffer weights, DeviceBuffer biases, DeviceBuffer y,
        int rows, int features, int cols, float alpha = 0f)
    {
        Validate.FeatureProjection(this, activation, x, weights, biases, y, rows, features, cols, nameof(FeatureProjection));
        double[] X = Data(x), W = Data(weights), B = Data(biases), Y = Data(y);
        for (int i = 0; i < rows; i++)
        for (int f = 0; f < features; f++)
        for (int j = 0; j < cols; j++)
            Y[(i * features + f) * cols + j] = Apply(activation, X[i * features + f] * W[f * cols + j] + B[f * cols + j], alpha);
    }

    public void FeatureProjectionBackward(UnaryOp activation, DeviceBuffer x, DeviceBuffer weights, DeviceBuffer biases, DeviceBuffer y,
        DeviceBuffer dy, DeviceBuffer? dx, DeviceBuffer? dWeights, DeviceBuffer? dBiases, int rows, int features, int cols,
        float alpha = 0f, bool accumulateX = false)
    {
        const string operation = nameof(FeatureProjectionBackward);
        Validate.FeatureProjection(this, activation, x, weights, biases, y, rows, features, cols, operation);
        Validate.FeatureProjectionGradients(this, dy, dx, dWeights, dBiases, rows, features, cols, operation);
        double[] X = Data(x), W = Data(weights), B = Data(biases), Y = Data(y), DY = Data(dy);
        double[]? DX = dx is null ? null : Data(dx), DW = dWeights is null ? null : Data(dWeights), DB = dBiases is null ? null : Data(dBiases);
        for (int i = 0; i < rows; i++)
        for (int f = 0; f < features; f++)
        {
            int slot = i * features + f;
            double dot = 0;
            for (int j = 0; j < cols; j++)
            {
                int at = slot * cols + j, parameter = f * cols + j;
                double pre = X[slot] * W[parameter] + B[parameter];
                double g = DY[at] * Derivative(activation, pre, Y[at], alpha);
                dot += g * W[parameter];
                if (DW is not null) DW[parameter] += X[slot] * g;
                if (DB is not null) DB[parameter] += g;
            }

            if (DX is not null) DX[slot] = accumulateX ? DX[slot] + dot : dot;
        }
    }

    public void SaeEncode(DeviceBuffer x, DeviceBuffer weights, DeviceBuffer biases, DeviceBuffer scoreWeights, DeviceBuffer? featureLogits,
        DeviceBuffer encoded, DeviceBuffer coefficients, int rows, int features, int hidden, int heads, float inverseTemperature)
    {
        Validate.SaeEncode(this, x, weights, biases, scoreWeights, featureLogits, coefficients, rows, features, hidden, heads,
            inverseTemperature, nameof(SaeEncode));
        Validate.AtLeast(this, encoded, (long)rows * hidden, nameof(encoded), nameof(SaeEncode));
        double[] X = Data(x), S = Data(scoreWeights), E = Data(encoded), C = Data(coefficients);
        double[]? L = featureLogits is null ? null : Data(featureLogits);
        int headDim = hidden / heads;
        for (int r = 0; r < rows; r++)
        {
            var h = SaeProjections(X, Data(weights), Data(biases), r, features, hidden).Hidden;
            for (int k = 0; k < heads; k++)
            {
                var score = new double[features];
                for (int f = 0; f < features; f++)
                {
                    double dot = L?[f * heads + k] ?? 0;
                    for (int c = 0; c < hidden; c++) dot += h[f, c] * S[c * heads + k];
                    score[f] = dot * inverseTemperature;
                }

                double max = features == 0 ? 0 : score.Max(), sum = score.Sum(v => Math.Exp(v - max));
                for (int f = 0; f < features; f++) C[(r * features + f) * heads + k] = Math.Exp(score[f] - max) / sum;
                for (int d = k * headDim; d < (k + 1) * headDim; d++)
                {
                    double mixed = 0;
                    for (int f = 0; f < features; f++) mixed += C[(r * features + f) * heads + k] * h[f, d];
                    E[r * hidden + d] = mixed;
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
        double[] X = Data(x), S = Data(scoreWeights), C = Data(coefficients), DE = Data(dEncoded);
        double[]? DC = dCoefficients is null ? null : Data(dCoefficients);
        int headDim = hidden / heads;
        for (int r = 0; r < rows; r++)
        {
            var (h, pre) = SaeProjections(X, Data(weights), Data(biases), r, features, hidden);
            // dScore[f, k]: the softmax's backward of d(loss)/d(coefficient), times the inverse temperature.
            var dScore = new double[features, heads];
            for (int k = 0; k < heads; k++)
            {
                var dCoefficient = new double[features];
                double mean = 0;
                for (int f = 0; f < features; f++)
                {
                    double g = DC?[(r * features + f) * heads + k] ?? 0;
                    for (int d = k * headDim; d < (k + 1) * headDim; d++) g += DE[r * hidden + d] * h[f, d];
                    dCoefficient[f] = g;
                    mean += C[(r * features + f) * heads + k] * g;
                }

                for (int f = 0; f < features; f++)
                    dScore[f, k] = C[(r * features + f) * heads + k] * (dCoefficient[f] - mean) * inverseTemperature;
            }

            for (int f = 0; f < features; f++)
            for (int c = 0; c < hidden; c++)
            {
                double dh = C[(r * features + f) * heads + c / headDim] * DE[r * hidden + c];
                for (int k = 0; k < heads; k++) dh += dScore[f, k] * S[c * heads + k];
                double dPre = dh * Derivative(UnaryOp.Silu, pre[f, c], h[f, c], 0);
                if (dWeights is not null) Data(dWeights)[f * hidden + c] += dPre * X[r * features + f];
                if (dBiases is not null) Data(dBiases)[f * hidden + c] += dPre;
                if (dScoreWeights is not null)
                    for (int k = 0; k < heads; k++) Data(dScoreWeights)[c * heads + k] += dScore[f, k] * h[f, c];
            }

            if (dFeatureLogits is not null)
                for (int f = 0; f < features; f++)
                for (int k = 0; k < heads; k++) Data(dFeatureLogits)[f * heads + k] += dScore[f, k];
        }
    }

    private static (double[,] Hidden, double[,] Pre) SaeProjections(double[] x, double[] w, double[] b, int row, int features, int hidden)
    {
        var h = new double[features, hidden];
        var pre = new double[features, hidden];
        for (int f = 0; f < features; f++)
        for (int c = 0; c < hidden; c++)
        {
            pre[f, c] = x[row * features + f] * w[f * hidden + c] + b[f * hidden + c];
            h[f, c] = Apply(UnaryOp.Silu, pre[f, c], 0);
        }

        return (h, pre);
    }

    public void CopyColumns(DeviceBuffer source, int sourceCols, int sourceOffset, DeviceBuffer destination,
        int destinationCols, int destinationOffset, int rows, int width, bool accumulate = false)
    {
        double[] S = Data(source), D = Data(destination);
        for (int i = 0; i < rows; i++)
        for (int j = 0; j < width; j++)
        {
            int to = i * destinationCols + destinationOffset + j;
            double v = S[i * sourceCols + sourceOffset + j];
            D[to] = accumulate ? D[to] + v : v;
        }
    }

    public void AdamStep(DeviceBuffer parameters, DeviceBuffer gradients, DeviceBuffer firstMoment,
        DeviceBuffer secondMoment, float learningRate, float beta1, float beta2, float epsilon, float weightDecay, int step)
    {
        double[] P = Data(parameters), G = Data(gradients), M = Data(firstMoment), V = Data(secondMoment);
        double correction1 = 1 - Math.Pow(beta1, step), correction2 = 1 - Math.Pow(beta2, step);
        for (int i = 0; i < P.Length; i++)
        {
            M[i] = beta1 * M[i] + (1 - beta1) * G[i];
            V[i] = beta2 * V[i] + (1 - beta2) * G[i] * G[i];
            double mHat = M[i] / correction1, vHat = V[i] / correction2;
            P[i] -= learningRate * (mHat / (Math.Sqrt(vHat) + epsilon) + weightDecay * P[i]);
        }
    }

    public void Dispose()
    {
    }

    private sealed class ReferenceBuffer(ReferenceBackend owner, int length) : DeviceBuffer(owner, length)
    {
        public double[] Values { get; } = new double[length];

        protected override void Release()
        {
        }
    }

    private sealed class ReferenceIndexBuffer(ReferenceBackend owner, int length) : IndexBuffer(owner, length)
    {
        public int[] Values { get; } = new int[length];

        protected override void Release()
        {
        }
    }
}
