using SaGatSr.Kernels;
using SaGatSr.Kernels.Reference;

namespace SaGatSr.Tests.Autodiff;

/// <summary>The reference backend, remembering every buffer it hands out so tests can see which are still live.</summary>
internal sealed class TrackingBackend : IComputeBackend
{
    private readonly ReferenceBackend inner = new();
    private readonly List<DeviceBuffer> buffers = [];

    public IReadOnlyList<DeviceBuffer> LiveBuffers => buffers.Where(b => !b.IsDisposed).ToList();

    public int AllocationCount => buffers.Count;

    public string Name => "tracking " + inner.Name;

    public DeviceKind Kind => inner.Kind;

    public DeviceBuffer Allocate(int length)
    {
        var buffer = inner.Allocate(length);
        buffers.Add(buffer);
        return buffer;
    }

    public IndexBuffer AllocateIndices(int length) => inner.AllocateIndices(length);
    public void Upload(DeviceBuffer destination, ReadOnlySpan<float> source) => inner.Upload(destination, source);
    public void Upload(DeviceBuffer destination, ReadOnlySpan<double> source) => inner.Upload(destination, source);
    public void Download(DeviceBuffer source, Span<float> destination) => inner.Download(source, destination);
    public void Download(DeviceBuffer source, Span<double> destination) => inner.Download(source, destination);
    public void Upload(IndexBuffer destination, ReadOnlySpan<int> source) => inner.Upload(destination, source);
    public void Download(IndexBuffer source, Span<int> destination) => inner.Download(source, destination);
    public void Synchronize() => inner.Synchronize();
    public void Fill(DeviceBuffer x, double value) => inner.Fill(x, value);
    public void Copy(DeviceBuffer source, DeviceBuffer destination) => inner.Copy(source, destination);

    public void MatMul(DeviceBuffer a, DeviceBuffer b, DeviceBuffer c, int m, int n, int k, bool transposeA = false,
        bool transposeB = false, float beta = 0) => inner.MatMul(a, b, c, m, n, k, transposeA, transposeB, beta);

    public void Unary(UnaryOp op, DeviceBuffer x, DeviceBuffer y, float alpha = 0) => inner.Unary(op, x, y, alpha);

    public void UnaryBackward(UnaryOp op, DeviceBuffer x, DeviceBuffer y, DeviceBuffer dy, DeviceBuffer dx, float alpha = 0,
        bool accumulate = false) => inner.UnaryBackward(op, x, y, dy, dx, alpha, accumulate);

    public void Binary(BinaryOp op, DeviceBuffer a, DeviceBuffer b, DeviceBuffer c) => inner.Binary(op, a, b, c);
    public void Axpby(float alpha, DeviceBuffer x, float beta, DeviceBuffer y) => inner.Axpby(alpha, x, beta, y);

    public void BroadcastRow(BinaryOp op, DeviceBuffer x, DeviceBuffer v, DeviceBuffer y, int rows, int cols) =>
        inner.BroadcastRow(op, x, v, y, rows, cols);

    public void BroadcastColumn(BinaryOp op, DeviceBuffer x, DeviceBuffer v, DeviceBuffer y, int rows, int cols) =>
        inner.BroadcastColumn(op, x, v, y, rows, cols);

    public void SumRows(DeviceBuffer x, DeviceBuffer y, int rows, int cols, bool accumulate = false) => inner.SumRows(x, y, rows, cols, accumulate);
    public void SumColumns(DeviceBuffer x, DeviceBuffer y, int rows, int cols, bool accumulate = false) => inner.SumColumns(x, y, rows, cols, accumulate);
    public double Sum(DeviceBuffer x) => inner.Sum(x);
    public double Dot(DeviceBuffer x, DeviceBuffer y) => inner.Dot(x, y);

    public void GatherRows(DeviceBuffer source, IndexBuffer index, DeviceBuffer destination, int rows, int cols) =>
        inner.GatherRows(source, index, destination, rows, cols);

    public void ScatterAddRows(DeviceBuffer source, IndexBuffer index, DeviceBuffer destination, int rows, int cols) =>
        inner.ScatterAddRows(source, index, destination, rows, cols);

    public void SegmentSum(DeviceBuffer source, IndexBuffer offsets, DeviceBuffer destination, int segments, int cols, bool accumulate = false) =>
        inner.SegmentSum(source, offsets, destination, segments, cols, accumulate);

    public void SegmentSoftmax(DeviceBuffer scores, IndexBuffer offsets, DeviceBuffer probabilities, int segments, int heads) =>
        inner.SegmentSoftmax(scores, offsets, probabilities, segments, heads);

    public void SegmentSoftmaxBackward(DeviceBuffer probabilities, DeviceBuffer dProbabilities, IndexBuffer offsets, DeviceBuffer dScores,
        int segments, int heads, bool accumulate = false) =>
        inner.SegmentSoftmaxBackward(probabilities, dProbabilities, offsets, dScores, segments, heads, accumulate);

    public void FeatureProjection(UnaryOp activation, DeviceBuffer x, DeviceBuffer weights, DeviceBuffer biases, DeviceBuffer y,
        int rows, int features, int cols, float alpha = 0f) =>
        inner.FeatureProjection(activation, x, weights, biases, y, rows, features, cols, alpha);

    public void FeatureProjectionBackward(UnaryOp activation, DeviceBuffer x, DeviceBuffer weights, DeviceBuffer biases, DeviceBuffer y,
        DeviceBuffer dy, DeviceBuffer? dx, DeviceBuffer? dWeights, DeviceBuffer? dBiases, int rows, int features, int cols,
        float alpha = 0f, bool accumulateX = false) =>
        inner.FeatureProjectionBackward(activation, x, weights, biases, y, dy, dx, dWeights, dBiases, rows, features, cols, alpha, accumulateX);

    public void SaeEncode(DeviceBuffer x, DeviceBuffer weights, DeviceBuffer biases, DeviceBuffer scoreWeights, DeviceBuffer? featureLogits,
        DeviceBuffer encoded, DeviceBuffer coefficients, int rows, int features, int hidden, int heads, float inverseTemperature) =>
        inner.SaeEncode(x, weights, biases, scoreWeights, featureLogits, encoded, coefficients, rows, features, hidden, heads, inverseTemperature);

    public void SaeEncodeBackward(DeviceBuffer x, DeviceBuffer weights, DeviceBuffer biases, DeviceBuffer scoreWeights, DeviceBuffer coefficients,
        DeviceBuffer dEncoded, DeviceBuffer? dCoefficients, DeviceBuffer? dWeights, DeviceBuffer? dBiases, DeviceBuffer? dScoreWeights,
        DeviceBuffer? dFeatureLogits, int rows, int features, int hidden, int heads, float inverseTemperature) =>
        inner.SaeEncodeBackward(x, weights, biases, scoreWeights, coefficients, dEncoded, dCoefficients, dWeights, dBiases, dScoreWeights,
            dFeatureLogits, rows, features, hidden, heads, inverseTemperature);

    public void SegmentWeightedGatherSum(DeviceBuffer weights, DeviceBuffer values, IndexBuffer sourceIndex, IndexBuffer offsets,
        DeviceBuffer output, int segments, int heads, int headDim) =>
        inner.SegmentWeightedGatherSum(weights, values, sourceIndex, offsets, output, segments, heads, headDim);

    public void SegmentWeightedGatherSumBackward(DeviceBuffer weights, DeviceBuffer values, IndexBuffer sourceIndex, IndexBuffer offsets,
        DeviceBuffer dOutput, DeviceBuffer? dWeights, DeviceBuffer? dValues, int segments, int heads, int headDim, bool accumulateWeights = false) =>
        inner.SegmentWeightedGatherSumBackward(weights, values, sourceIndex, offsets, dOutput, dWeights, dValues, segments, heads, headDim, accumulateWeights);

    public void CopyColumns(DeviceBuffer source, int sourceCols, int sourceOffset, DeviceBuffer destination, int destinationCols,
        int destinationOffset, int rows, int width, bool accumulate = false) =>
        inner.CopyColumns(source, sourceCols, sourceOffset, destination, destinationCols, destinationOffset, rows, width, accumulate);

    public void AdamStep(DeviceBuffer parameters, DeviceBuffer gradients, DeviceBuffer firstMoment, DeviceBuffer secondMoment,
        float learningRate, float beta1, float beta2, float epsilon, float weightDecay, int step) =>
        inner.AdamStep(parameters, gradients, firstMoment, secondMoment, learningRate, beta1, beta2, epsilon, weightDecay, step);

    public void Dispose() => inner.Dispose();
}
