namespace SaGatSr.Kernels;

/// <summary>
/// Shape and ownership checks shared by the float32 backends, so a wrong call fails with a message naming the
/// operation and the argument instead of reading past a buffer (or, on a GPU, silently corrupting memory).
/// </summary>
internal static class Validate
{
    public static void Owned(IComputeBackend backend, DeviceBuffer? buffer, string name, string operation)
    {
        if (buffer is null) throw new ArgumentNullException(name, $"{operation}: {name} is null.");
        if (buffer.IsDisposed) throw new ObjectDisposedException(name, $"{operation}: {name} was disposed.");
        if (!ReferenceEquals(buffer.Owner, backend))
            throw new ArgumentException($"{operation}: {name} belongs to backend '{buffer.Owner.Name}', not '{backend.Name}'.", name);
    }

    public static void Owned(IComputeBackend backend, IndexBuffer? buffer, string name, string operation)
    {
        if (buffer is null) throw new ArgumentNullException(name, $"{operation}: {name} is null.");
        if (buffer.IsDisposed) throw new ObjectDisposedException(name, $"{operation}: {name} was disposed.");
        if (!ReferenceEquals(buffer.Owner, backend))
            throw new ArgumentException($"{operation}: {name} belongs to backend '{buffer.Owner.Name}', not '{backend.Name}'.", name);
    }

    public static void NonNegative(int value, string name, string operation)
    {
        if (value < 0) throw new ArgumentOutOfRangeException(name, value, $"{operation}: {name} must be >= 0.");
    }

    public static void AtLeast(IComputeBackend backend, DeviceBuffer buffer, long needed, string name, string operation)
    {
        Owned(backend, buffer, name, operation);
        if (buffer.Length < needed)
            throw new ArgumentException($"{operation}: {name} has {buffer.Length} elements but {needed} are needed.", name);
    }

    public static void AtLeast(IComputeBackend backend, IndexBuffer buffer, long needed, string name, string operation)
    {
        Owned(backend, buffer, name, operation);
        if (buffer.Length < needed)
            throw new ArgumentException($"{operation}: {name} has {buffer.Length} indices but {needed} are needed.", name);
    }

    public static void AdamStep(IComputeBackend backend, DeviceBuffer parameters, DeviceBuffer gradients, DeviceBuffer firstMoment,
        DeviceBuffer secondMoment, int step)
    {
        const string operation = nameof(IComputeBackend.AdamStep);
        SameLength(backend, parameters, gradients, nameof(parameters), nameof(gradients), operation);
        SameLength(backend, parameters, firstMoment, nameof(parameters), nameof(firstMoment), operation);
        SameLength(backend, parameters, secondMoment, nameof(parameters), nameof(secondMoment), operation);
        if (step < 1) throw new ArgumentOutOfRangeException(nameof(step), step, $"{operation}: step counts from 1.");
    }

    public static void SameLength(IComputeBackend backend, DeviceBuffer a, DeviceBuffer b, string nameA, string nameB, string operation)
    {
        Owned(backend, a, nameA, operation);
        Owned(backend, b, nameB, operation);
        if (a.Length != b.Length)
            throw new ArgumentException($"{operation}: {nameA} has {a.Length} elements but {nameB} has {b.Length}.", nameB);
    }

    public static void SpanLength(int bufferLength, int spanLength, string operation)
    {
        if (spanLength > bufferLength)
            throw new ArgumentException($"{operation}: {spanLength} elements do not fit a buffer of {bufferLength}.");
    }

    public static void MatMul(IComputeBackend backend, DeviceBuffer a, DeviceBuffer b, DeviceBuffer c, int m, int n, int k, float beta)
    {
        const string op = nameof(IComputeBackend.MatMul);
        NonNegative(m, nameof(m), op);
        NonNegative(n, nameof(n), op);
        NonNegative(k, nameof(k), op);
        if (beta != 0f && beta != 1f) throw new ArgumentOutOfRangeException(nameof(beta), beta, $"{op}: beta must be 0 or 1.");
        AtLeast(backend, a, (long)m * k, nameof(a), op);
        AtLeast(backend, b, (long)k * n, nameof(b), op);
        AtLeast(backend, c, (long)m * n, nameof(c), op);
        if (ReferenceEquals(a, c) || ReferenceEquals(b, c))
            throw new ArgumentException($"{op}: the output c must not alias an input.", nameof(c));
    }

    public static void Matrix(IComputeBackend backend, DeviceBuffer x, DeviceBuffer y, int rows, int cols, long yNeeded, string operation)
    {
        NonNegative(rows, nameof(rows), operation);
        NonNegative(cols, nameof(cols), operation);
        AtLeast(backend, x, (long)rows * cols, nameof(x), operation);
        AtLeast(backend, y, yNeeded, nameof(y), operation);
    }

    public static void Rows(IComputeBackend backend, DeviceBuffer source, IndexBuffer index, DeviceBuffer destination,
        int rows, int cols, bool gather, string operation)
    {
        NonNegative(rows, nameof(rows), operation);
        NonNegative(cols, nameof(cols), operation);
        AtLeast(backend, index, rows, nameof(index), operation);
        AtLeast(backend, gather ? destination : source, (long)rows * cols, gather ? nameof(destination) : nameof(source), operation);
        Owned(backend, gather ? source : destination, gather ? nameof(source) : nameof(destination), operation);
        if (ReferenceEquals(source, destination))
            throw new ArgumentException($"{operation}: source and destination must be different buffers.", nameof(destination));
    }

    public static void Segments(IComputeBackend backend, IndexBuffer offsets, int segments, string operation)
    {
        NonNegative(segments, nameof(segments), operation);
        AtLeast(backend, offsets, (long)segments + 1, nameof(offsets), operation);
    }

    public static void CopyColumns(IComputeBackend backend, DeviceBuffer source, int sourceCols, int sourceOffset,
        DeviceBuffer destination, int destinationCols, int destinationOffset, int rows, int width)
    {
        const string op = nameof(IComputeBackend.CopyColumns);
        NonNegative(rows, nameof(rows), op);
        NonNegative(width, nameof(width), op);
        NonNegative(sourceOffset, nameof(sourceOffset), op);
        NonNegative(destinationOffset, nameof(destinationOffset), op);
        if (sourceOffset + width > sourceCols)
            throw new ArgumentOutOfRangeException(nameof(width), $"{op}: columns [{sourceOffset}, {sourceOffset + width}) exceed the source's {sourceCols}.");
        if (destinationOffset + width > destinationCols)
            throw new ArgumentOutOfRangeException(nameof(width), $"{op}: columns [{destinationOffset}, {destinationOffset + width}) exceed the destination's {destinationCols}.");
        AtLeast(backend, source, (long)rows * sourceCols, nameof(source), op);
        AtLeast(backend, destination, (long)rows * destinationCols, nameof(destination), op);
        if (ReferenceEquals(source, destination))
            throw new ArgumentException($"{op}: source and destination must be different buffers.", nameof(destination));
    }

    public static void FeatureProjection(IComputeBackend backend, UnaryOp activation, DeviceBuffer x, DeviceBuffer weights,
        DeviceBuffer biases, DeviceBuffer y, int rows, int features, int cols, string operation)
    {
        if (!Enum.IsDefined(activation)) throw new ArgumentOutOfRangeException(nameof(activation), activation, $"{operation}: unknown activation.");
        NonNegative(rows, nameof(rows), operation);
        NonNegative(features, nameof(features), operation);
        NonNegative(cols, nameof(cols), operation);
        AtLeast(backend, x, (long)rows * features, nameof(x), operation);
        AtLeast(backend, weights, (long)features * cols, nameof(weights), operation);
        AtLeast(backend, biases, (long)features * cols, nameof(biases), operation);
        AtLeast(backend, y, (long)rows * features * cols, nameof(y), operation);
    }

    public static void SaeEncode(IComputeBackend backend, DeviceBuffer x, DeviceBuffer weights, DeviceBuffer biases, DeviceBuffer scoreWeights,
        DeviceBuffer? featureLogits, DeviceBuffer coefficients, int rows, int features, int hidden, int heads, float inverseTemperature,
        string operation)
    {
        NonNegative(rows, nameof(rows), operation);
        NonNegative(features, nameof(features), operation);
        NonNegative(hidden, nameof(hidden), operation);
        if (heads <= 0 || hidden % heads != 0)
            throw new ArgumentException($"{operation}: hidden size {hidden} must be a multiple of the head count {heads} (>= 1).");
        if (!float.IsFinite(inverseTemperature) || inverseTemperature <= 0)
            throw new ArgumentOutOfRangeException(nameof(inverseTemperature), inverseTemperature, $"{operation}: the inverse temperature must be positive and finite.");
        AtLeast(backend, x, (long)rows * features, nameof(x), operation);
        AtLeast(backend, weights, (long)features * hidden, nameof(weights), operation);
        AtLeast(backend, biases, (long)features * hidden, nameof(biases), operation);
        AtLeast(backend, scoreWeights, (long)hidden * heads, nameof(scoreWeights), operation);
        if (featureLogits is not null) AtLeast(backend, featureLogits, (long)features * heads, nameof(featureLogits), operation);
        AtLeast(backend, coefficients, (long)rows * features * heads, nameof(coefficients), operation);
    }

    public static void SaeEncodeBackward(IComputeBackend backend, DeviceBuffer dEncoded, DeviceBuffer? dCoefficients, DeviceBuffer? dWeights,
        DeviceBuffer? dBiases, DeviceBuffer? dScoreWeights, DeviceBuffer? dFeatureLogits, int rows, int features, int hidden, int heads,
        string operation)
    {
        AtLeast(backend, dEncoded, (long)rows * hidden, nameof(dEncoded), operation);
        if (dCoefficients is not null) AtLeast(backend, dCoefficients, (long)rows * features * heads, nameof(dCoefficients), operation);
        if (dWeights is not null) AtLeast(backend, dWeights, (long)features * hidden, nameof(dWeights), operation);
        if (dBiases is not null) AtLeast(backend, dBiases, (long)features * hidden, nameof(dBiases), operation);
        if (dScoreWeights is not null) AtLeast(backend, dScoreWeights, (long)hidden * heads, nameof(dScoreWeights), operation);
        if (dFeatureLogits is not null) AtLeast(backend, dFeatureLogits, (long)features * heads, nameof(dFeatureLogits), operation);
    }

    public static void FeatureProjectionGradients(IComputeBackend backend, DeviceBuffer dy, DeviceBuffer? dx, DeviceBuffer? dWeights,
        DeviceBuffer? dBiases, int rows, int features, int cols, string operation)
    {
        AtLeast(backend, dy, (long)rows * features * cols, nameof(dy), operation);
        if (dx is not null) AtLeast(backend, dx, (long)rows * features, nameof(dx), operation);
        if (dWeights is not null) AtLeast(backend, dWeights, (long)features * cols, nameof(dWeights), operation);
        if (dBiases is not null) AtLeast(backend, dBiases, (long)features * cols, nameof(dBiases), operation);
    }
}
