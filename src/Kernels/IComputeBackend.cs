namespace SaGatSr.Kernels;

/// <summary>Which kind of device a backend computes on.</summary>
public enum DeviceKind
{
    /// <summary>Plain float64 loops: the ground truth every other backend is tested against.</summary>
    Reference,
    /// <summary>Multithreaded SIMD (System.Numerics.Tensors / Vector&lt;T&gt;) on the host CPU, float32.</summary>
    Cpu,
    /// <summary>ILGPU's CPU accelerator: emulates GPU threads; for testing kernels without a GPU.</summary>
    IlgpuCpu,
    Cuda,
    OpenCl,
}

public enum UnaryOp
{
    Identity,
    Relu,
    /// <summary>x for x &gt; 0, alpha * x otherwise.</summary>
    LeakyRelu,
    Sigmoid,
    Tanh,
    /// <summary>x * sigmoid(x).</summary>
    Silu,
    /// <summary>log(1 + exp(x)), computed without overflow.</summary>
    Softplus,
    Exp,
    /// <summary>Natural log; NaN for x &lt; 0 and -inf at 0, as IEEE gives.</summary>
    Log,
    Square,
    Sqrt,
    Abs,
    Neg,
    /// <summary>alpha * x.</summary>
    Scale,
}

public enum BinaryOp
{
    Add,
    Sub,
    Mul,
    Div,
}

/// <summary>
/// The device layer. Every tensor the layers above use lives in buffers made by one backend; every
/// operation on them is one of these kernels. Shapes are row-major and passed explicitly: kernels know
/// nothing of the model. Reference computes in float64, every other backend in float32.
/// Backends on the host (Reference, Cpu) are deterministic: the same inputs give the same bits,
/// whatever the thread count, because work is split by output element and never summed with atomics.
/// </summary>
public interface IComputeBackend : IDisposable
{
    /// <summary>Human-readable description of the device, e.g. "cuda: NVIDIA H100 (80 GB)".</summary>
    string Name { get; }

    DeviceKind Kind { get; }

    /// <summary>Zero-filled buffer of <paramref name="length"/> elements (from a pool where possible).</summary>
    DeviceBuffer Allocate(int length);

    /// <summary>Zero-filled buffer of int indices.</summary>
    IndexBuffer AllocateIndices(int length);

    void Upload(DeviceBuffer destination, ReadOnlySpan<float> source);
    void Upload(DeviceBuffer destination, ReadOnlySpan<double> source);
    void Download(DeviceBuffer source, Span<float> destination);
    void Download(DeviceBuffer source, Span<double> destination);
    void Upload(IndexBuffer destination, ReadOnlySpan<int> source);
    void Download(IndexBuffer source, Span<int> destination);

    /// <summary>Waits until every queued kernel has finished (a no-op on host backends).</summary>
    void Synchronize();

    void Fill(DeviceBuffer x, double value);

    /// <summary>destination = source (equal lengths).</summary>
    void Copy(DeviceBuffer source, DeviceBuffer destination);

    /// <summary>
    /// C[m,n] = op(A) * op(B) + beta * C, with op(A) of shape [m,k] and op(B) of shape [k,n]. A is stored
    /// [k,m] when <paramref name="transposeA"/>, B is stored [n,k] when <paramref name="transposeB"/>.
    /// beta is 0 (overwrite; C's old contents, even NaN, are ignored) or 1 (accumulate).
    /// </summary>
    void MatMul(DeviceBuffer a, DeviceBuffer b, DeviceBuffer c, int m, int n, int k,
        bool transposeA = false, bool transposeB = false, float beta = 0f);

    /// <summary>y = f(x) elementwise; <paramref name="alpha"/> is the slope of LeakyRelu and the factor of Scale.</summary>
    void Unary(UnaryOp op, DeviceBuffer x, DeviceBuffer y, float alpha = 0f);

    /// <summary>
    /// dx = dy * f'(x) (or dx += when <paramref name="accumulate"/>). y = f(x) must be the forward output:
    /// ops whose derivative is cheaper from y (Sigmoid, Tanh, Exp, Sqrt) use it.
    /// </summary>
    void UnaryBackward(UnaryOp op, DeviceBuffer x, DeviceBuffer y, DeviceBuffer dy, DeviceBuffer dx,
        float alpha = 0f, bool accumulate = false);

    /// <summary>c = a op b elementwise (equal lengths; c may alias a or b).</summary>
    void Binary(BinaryOp op, DeviceBuffer a, DeviceBuffer b, DeviceBuffer c);

    /// <summary>y = alpha * x + beta * y.</summary>
    void Axpby(float alpha, DeviceBuffer x, float beta, DeviceBuffer y);

    /// <summary>y[i,j] = x[i,j] op v[j] for x of shape [rows, cols] (a row vector broadcast down the rows, e.g. a bias).</summary>
    void BroadcastRow(BinaryOp op, DeviceBuffer x, DeviceBuffer v, DeviceBuffer y, int rows, int cols);

    /// <summary>y[i,j] = x[i,j] op v[i] for x of shape [rows, cols] (a column vector broadcast across the columns).</summary>
    void BroadcastColumn(BinaryOp op, DeviceBuffer x, DeviceBuffer v, DeviceBuffer y, int rows, int cols);

    /// <summary>y[i] (+)= sum_j x[i,j].</summary>
    void SumRows(DeviceBuffer x, DeviceBuffer y, int rows, int cols, bool accumulate = false);

    /// <summary>y[j] (+)= sum_i x[i,j].</summary>
    void SumColumns(DeviceBuffer x, DeviceBuffer y, int rows, int cols, bool accumulate = false);

    /// <summary>Sum of all elements, returned to the host (synchronises).</summary>
    double Sum(DeviceBuffer x);

    /// <summary>Dot product of two equal-length buffers, returned to the host (synchronises).</summary>
    double Dot(DeviceBuffer x, DeviceBuffer y);

    /// <summary>destination[i,:] = source[index[i],:] for i in [0, rows); rows of width <paramref name="cols"/>.</summary>
    void GatherRows(DeviceBuffer source, IndexBuffer index, DeviceBuffer destination, int rows, int cols);

    /// <summary>destination[index[i],:] += source[i,:] for i in [0, rows) (indices may repeat).</summary>
    void ScatterAddRows(DeviceBuffer source, IndexBuffer index, DeviceBuffer destination, int rows, int cols);

    /// <summary>
    /// destination[s,:] (+)= sum over i in [offsets[s], offsets[s+1]) of source[i,:], for s in [0, segments).
    /// offsets has segments + 1 entries, non-decreasing; empty segments give 0.
    /// </summary>
    void SegmentSum(DeviceBuffer source, IndexBuffer offsets, DeviceBuffer destination, int segments, int cols,
        bool accumulate = false);

    /// <summary>
    /// Softmax over each segment of rows, independently per column ("head"): scores and probabilities are
    /// [offsets[segments], heads]. Numerically stable (max subtracted). This is attention over a node's
    /// incoming edges when edges are sorted by destination.
    /// </summary>
    void SegmentSoftmax(DeviceBuffer scores, IndexBuffer offsets, DeviceBuffer probabilities, int segments, int heads);

    /// <summary>dScores (+)= p * (dP - sum_{segment}(p * dP)), per segment and head.</summary>
    void SegmentSoftmaxBackward(DeviceBuffer probabilities, DeviceBuffer dProbabilities, IndexBuffer offsets,
        DeviceBuffer dScores, int segments, int heads, bool accumulate = false);

    /// <summary>
    /// Fused attention aggregation. For each segment s (a destination node), head h and d in [0, headDim):
    /// output[s, h*headDim + d] = sum over e in segment s of weights[e,h] * values[sourceIndex[e], h*headDim + d].
    /// weights: [E, heads]; values: [valueRows, heads*headDim]; output: [segments, heads*headDim].
    /// </summary>
    void SegmentWeightedGatherSum(DeviceBuffer weights, DeviceBuffer values, IndexBuffer sourceIndex,
        IndexBuffer offsets, DeviceBuffer output, int segments, int heads, int headDim);

    /// <summary>
    /// Backward of <see cref="SegmentWeightedGatherSum"/>, given dOutput:
    /// dWeights[e,h] (+)= dot(dOutput[s, h, :], values[sourceIndex[e], h, :]) and
    /// dValues[sourceIndex[e], h, :] += weights[e,h] * dOutput[s, h, :] (always accumulates).
    /// Either gradient buffer may be null when it is not needed.
    /// </summary>
    void SegmentWeightedGatherSumBackward(DeviceBuffer weights, DeviceBuffer values, IndexBuffer sourceIndex,
        IndexBuffer offsets, DeviceBuffer dOutput, DeviceBuffer? dWeights, DeviceBuffer? dValues,
        int segments, int heads, int headDim, bool accumulateWeights = false);

    /// <summary>
    /// Per-feature projection (the SAE encoder), without materialising gathered weights:
    /// y[i*features + f, :] = act(x[i, f] * weights[f, :] + biases[f, :]) for x [rows, features],
    /// weights and biases [features, cols], y [rows * features, cols]; alpha as in <see cref="Unary"/>.
    /// </summary>
    void FeatureProjection(UnaryOp activation, DeviceBuffer x, DeviceBuffer weights, DeviceBuffer biases, DeviceBuffer y,
        int rows, int features, int cols, float alpha = 0f);

    /// <summary>
    /// Backward of <see cref="FeatureProjection"/> given its output y and dy. With g = dy * act'(pre):
    /// dx[i, f] (+)= dot(g[i*features + f, :], weights[f, :]); dWeights[f, :] += sum_i x[i, f] * g[i*features + f, :];
    /// dBiases[f, :] += sum_i g[i*features + f, :] (the parameter gradients always accumulate).
    /// Any gradient buffer may be null when it is not needed.
    /// </summary>
    void FeatureProjectionBackward(UnaryOp activation, DeviceBuffer x, DeviceBuffer weights, DeviceBuffer biases, DeviceBuffer y,
        DeviceBuffer dy, DeviceBuffer? dx, DeviceBuffer? dWeights, DeviceBuffer? dBiases, int rows, int features, int cols,
        float alpha = 0f, bool accumulateX = false);

    /// <summary>
    /// The self-adaptable encoding in one pass, without an [rows * features, hidden] intermediate. For x [rows, features],
    /// weights and biases [features, hidden], scoreWeights [hidden, heads], featureLogits [features * heads] (or null: 0),
    /// h_rf = SiLU(x[r, f] * weights[f, :] + biases[f, :]) and s_rfk = (h_rf · scoreWeights[:, k] + featureLogits[f * heads + k]) * inverseTemperature;
    /// coefficients[r * features + f, k] = softmax over f of s_rfk, and encoded[r, k*D + d] = sum_f coefficients[r*features + f, k] * h_rf[k*D + d]
    /// with D = hidden / heads (head k mixes its own slice of the hidden vectors).
    /// </summary>
    void SaeEncode(DeviceBuffer x, DeviceBuffer weights, DeviceBuffer biases, DeviceBuffer scoreWeights, DeviceBuffer? featureLogits,
        DeviceBuffer encoded, DeviceBuffer coefficients, int rows, int features, int hidden, int heads, float inverseTemperature);

    /// <summary>
    /// Backward of <see cref="SaeEncode"/> given its coefficients, dEncoded and optionally dCoefficients (null: 0); recomputes
    /// h_rf instead of storing it. Adds to each parameter gradient that is not null (they always accumulate); x gets none
    /// (the encoded features are data).
    /// </summary>
    void SaeEncodeBackward(DeviceBuffer x, DeviceBuffer weights, DeviceBuffer biases, DeviceBuffer scoreWeights, DeviceBuffer coefficients,
        DeviceBuffer dEncoded, DeviceBuffer? dCoefficients, DeviceBuffer? dWeights, DeviceBuffer? dBiases, DeviceBuffer? dScoreWeights,
        DeviceBuffer? dFeatureLogits, int rows, int features, int hidden, int heads, float inverseTemperature);

    /// <summary>
    /// Copies a block of columns between row-major matrices with the same row count (concat and slice):
    /// destination[i, destinationOffset + j] (+)= source[i, sourceOffset + j] for j in [0, width).
    /// </summary>
    void CopyColumns(DeviceBuffer source, int sourceCols, int sourceOffset, DeviceBuffer destination,
        int destinationCols, int destinationOffset, int rows, int width, bool accumulate = false);

    /// <summary>
    /// One fused AdamW update (decoupled weight decay; plain Adam when weightDecay is 0).
    /// <paramref name="step"/> counts from 1 and drives the bias correction.
    /// </summary>
    void AdamStep(DeviceBuffer parameters, DeviceBuffer gradients, DeviceBuffer firstMoment, DeviceBuffer secondMoment,
        float learningRate, float beta1, float beta2, float epsilon, float weightDecay, int step);
}
