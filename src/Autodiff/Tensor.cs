using SaGatSr.Kernels;

namespace SaGatSr.Autodiff;

/// <summary>
/// A float tensor living in one backend's memory, with an optional gradient. Any rank is allowed; kernels see it as a
/// row-major matrix of <see cref="Rows"/> x <see cref="Cols"/> (Cols = last dimension).
/// </summary>
public sealed class Tensor : IDisposable
{
    private readonly Storage storage;

    /// <summary>The op that produced this tensor, while a recording tape holds it; null for leaves.</summary>
    internal Node? Creator;

    /// <summary>The tape that frees this tensor on its disposal; null once kept or for parameters.</summary>
    internal Tape? OwnerTape;

    private Tensor(IComputeBackend backend, Storage storage, int[] shape, bool requiresGrad)
    {
        Backend = backend;
        this.storage = storage;
        Shape = shape;
        Length = checked(ShapeLength(shape));
        Cols = shape[^1];
        Rows = shape.Length == 1 ? 1 : ShapeLength(shape[..^1]);
        RequiresGrad = requiresGrad;
    }

    public IComputeBackend Backend { get; }

    public int[] Shape { get; }

    public int Rows { get; }

    public int Cols { get; }

    public int Length { get; }

    public DeviceBuffer Data => storage.Buffer;

    /// <summary>Accumulated gradient, allocated by the first backward pass that reaches this tensor.</summary>
    public DeviceBuffer? Grad { get; internal set; }

    public bool RequiresGrad { get; internal set; }

    public string? Name { get; set; }

    public bool IsDisposed { get; private set; }

    public static Tensor FromArray(IComputeBackend backend, float[] values, params int[] shape)
    {
        var tensor = Create(backend, ShapeFor(values.Length, shape));
        backend.Upload(tensor.Data, values);
        return tensor;
    }

    public static Tensor FromArray(IComputeBackend backend, double[] values, params int[] shape)
    {
        var tensor = Create(backend, ShapeFor(values.Length, shape));
        backend.Upload(tensor.Data, values);
        return tensor;
    }

    public static Tensor Zeros(IComputeBackend backend, params int[] shape) => Create(backend, shape);

    /// <summary>A trainable leaf: requires a gradient and is never freed by a tape (its owner disposes it).</summary>
    public static Tensor Parameter(IComputeBackend backend, float[] values, params int[] shape)
    {
        var tensor = CreateParameter(backend, ShapeFor(values.Length, shape));
        backend.Upload(tensor.Data, values);
        return tensor;
    }

    /// <inheritdoc cref="Parameter(IComputeBackend, float[], int[])"/>
    public static Tensor Parameter(IComputeBackend backend, double[] values, params int[] shape)
    {
        var tensor = CreateParameter(backend, ShapeFor(values.Length, shape));
        backend.Upload(tensor.Data, values);
        return tensor;
    }

    public float[] ToArray()
    {
        EnsureAlive();
        var values = new float[Length];
        Backend.Download(Data, values);
        return values;
    }

    public double[] ToDoubleArray()
    {
        EnsureAlive();
        var values = new double[Length];
        Backend.Download(Data, values);
        return values;
    }

    public double Item()
    {
        if (Length != 1)
            throw new InvalidOperationException($"Item() needs a tensor of one element; {Describe()} has {Length}.");
        return ToDoubleArray()[0];
    }

    public float[]? GradToArray()
    {
        if (Grad is null) return null;
        var values = new float[Length];
        Backend.Download(Grad, values);
        return values;
    }

    public double[]? GradToDoubleArray()
    {
        if (Grad is null) return null;
        var values = new double[Length];
        Backend.Download(Grad, values);
        return values;
    }

    /// <summary>Overwrites the values (e.g. loading weights); the length must match.</summary>
    public void Upload(ReadOnlySpan<double> values)
    {
        EnsureAlive();
        if (values.Length != Length)
            throw new ArgumentException($"Upload: {values.Length} values given for {Describe()} of {Length} elements.");
        Backend.Upload(Data, values);
    }

    /// <summary>A view with another shape of the same data; the gradient flows back to this tensor.</summary>
    public Tensor Reshape(params int[] shape)
    {
        EnsureAlive();
        ValidateShape(shape);
        if (ShapeLength(shape) != Length)
            throw new ArgumentException($"Reshape: {Describe()} has {Length} elements, [{string.Join(", ", shape)}] has {ShapeLength(shape)}.");
        storage.AddReference();
        var view = new Tensor(Backend, storage, (int[])shape.Clone(), false);
        Tape.Current?.Register(view);
        var source = this;
        Autograd.Record(view, [source], dy => Autograd.AccumulateGrad(source, dy));
        return view;
    }

    public void ZeroGrad()
    {
        if (Grad is not null) Backend.Fill(Grad, 0);
    }

    public void Dispose()
    {
        if (IsDisposed) return;
        IsDisposed = true;
        Creator = null;
        Grad?.Dispose();
        Grad = null;
        storage.Release();
    }

    public override string ToString() => Describe();

    internal string Describe() => $"{(Name is null ? "tensor" : $"'{Name}'")} [{string.Join(", ", Shape)}]";

    internal void EnsureAlive()
    {
        if (IsDisposed)
            throw new ObjectDisposedException(Describe(),
                $"{Describe()} was already disposed (was it created inside a Tape that has since been disposed? Use tape.Keep(t) to keep it).");
    }

    /// <summary>The gradient buffer to add into; <paramref name="fresh"/> when just allocated (zero-filled).</summary>
    internal DeviceBuffer GradBuffer(out bool fresh)
    {
        fresh = Grad is null;
        return Grad ??= Backend.Allocate(Length);
    }

    /// <summary>A new zero tensor owned by the current tape, if any.</summary>
    internal static Tensor Create(IComputeBackend backend, params int[] shape)
    {
        ValidateShape(shape);
        var tensor = new Tensor(backend, new Storage(backend.Allocate(checked(ShapeLength(shape)))), (int[])shape.Clone(), false);
        Tape.Current?.Register(tensor);
        return tensor;
    }

    private static Tensor CreateParameter(IComputeBackend backend, int[] shape)
    {
        ValidateShape(shape);
        return new Tensor(backend, new Storage(backend.Allocate(ShapeLength(shape))), (int[])shape.Clone(), true);
    }

    private static int[] ShapeFor(int valueCount, int[] shape)
    {
        if (shape.Length == 0) shape = [valueCount];
        ValidateShape(shape);
        if (ShapeLength(shape) != valueCount)
            throw new ArgumentException($"{valueCount} values given for shape [{string.Join(", ", shape)}] ({ShapeLength(shape)} elements).");
        return shape;
    }

    private static void ValidateShape(int[] shape)
    {
        if (shape.Length == 0) throw new ArgumentException("A tensor shape needs at least one dimension (a scalar is [1]).");
        foreach (int dimension in shape)
            if (dimension < 0)
                throw new ArgumentException($"Negative dimension in shape [{string.Join(", ", shape)}].");
    }

    private static int ShapeLength(int[] shape)
    {
        long length = 1;
        foreach (int dimension in shape) length *= dimension;
        if (length > int.MaxValue) throw new ArgumentException($"Shape [{string.Join(", ", shape)}] has more than int.MaxValue elements.");
        return (int)length;
    }

    /// <summary>Reference-counted buffer so reshaped views can share it safely.</summary>
    private sealed class Storage(DeviceBuffer buffer)
    {
        private int references = 1;

        public DeviceBuffer Buffer { get; } = buffer;

        public void AddReference() => references++;

        public void Release()
        {
            if (--references == 0) Buffer.Dispose();
        }
    }
}

/// <summary>Int indices in a backend's memory (edge endpoints, gather lists); the range is remembered for checks.</summary>
public sealed class IndexTensor : IDisposable
{
    private IndexTensor(IComputeBackend backend, IndexBuffer data, int length, int minimum, int maximum)
    {
        Backend = backend;
        Data = data;
        Length = length;
        Minimum = minimum;
        Maximum = maximum;
    }

    public IComputeBackend Backend { get; }

    public IndexBuffer Data { get; }

    public int Length { get; }

    /// <summary>Smallest index (0 when empty).</summary>
    public int Minimum { get; }

    /// <summary>Largest index (-1 when empty).</summary>
    public int Maximum { get; }

    public static IndexTensor FromArray(IComputeBackend backend, int[] values)
    {
        var buffer = backend.AllocateIndices(values.Length);
        backend.Upload(buffer, values);
        return new IndexTensor(backend, buffer, values.Length, values.Length == 0 ? 0 : values.Min(), values.Length == 0 ? -1 : values.Max());
    }

    public int[] ToArray()
    {
        var values = new int[Length];
        Backend.Download(Data, values);
        return values;
    }

    /// <summary>Throws unless every index addresses one of <paramref name="rows"/> rows.</summary>
    internal void CheckRange(int rows, string operation)
    {
        if (Length > 0 && (Minimum < 0 || Maximum >= rows))
            throw new ArgumentOutOfRangeException(nameof(rows),
                $"{operation}: indices range over [{Minimum}, {Maximum}] but there are only {rows} rows.");
    }

    public void Dispose() => Data.Dispose();
}

/// <summary>
/// Consecutive groups of rows given by CSR offsets: segment s holds rows [Offsets[s], Offsets[s+1]). Segments may be
/// empty. Used for per-node edge groups (edges sorted by destination) and per-crystal atom groups.
/// </summary>
public sealed class Segments : IDisposable
{
    private Segments(IComputeBackend backend, int[] offsets)
    {
        Count = offsets.Length - 1;
        TotalRows = offsets[^1];
        Offsets = IndexTensor.FromArray(backend, offsets);
        var rowToSegment = new int[TotalRows];
        var sizes = new double[Count];
        for (int s = 0; s < Count; s++)
        {
            for (int row = offsets[s]; row < offsets[s + 1]; row++) rowToSegment[row] = s;
            sizes[s] = Math.Max(1, offsets[s + 1] - offsets[s]);
        }

        RowToSegment = IndexTensor.FromArray(backend, rowToSegment);
        SizesOrOne = backend.Allocate(Count);
        backend.Upload(SizesOrOne, sizes);
        HostOffsets = (int[])offsets.Clone();
    }

    public IndexTensor Offsets { get; }

    public int Count { get; }

    public int TotalRows { get; }

    /// <summary>[TotalRows]: the segment of every row (for broadcasting per-segment values back to rows).</summary>
    public IndexTensor RowToSegment { get; }

    /// <summary>Host copy of the offsets.</summary>
    public IReadOnlyList<int> HostOffsets { get; }

    /// <summary>[Count] row count of each segment, 1 for empty ones (their mean is then 0, not NaN).</summary>
    internal DeviceBuffer SizesOrOne { get; }

    public static Segments FromOffsets(IComputeBackend backend, int[] offsets)
    {
        if (offsets.Length == 0) throw new ArgumentException("Segment offsets need at least one entry (0).", nameof(offsets));
        if (offsets[0] != 0) throw new ArgumentException($"Segment offsets must start at 0, not {offsets[0]}.", nameof(offsets));
        for (int s = 1; s < offsets.Length; s++)
            if (offsets[s] < offsets[s - 1])
                throw new ArgumentException($"Segment offsets must not decrease: offsets[{s - 1}] = {offsets[s - 1]} > offsets[{s}] = {offsets[s]}.", nameof(offsets));
        return new Segments(backend, offsets);
    }

    /// <summary><paramref name="count"/> segments of <paramref name="size"/> rows each.</summary>
    public static Segments Uniform(IComputeBackend backend, int count, int size)
    {
        if (count < 0 || size < 0) throw new ArgumentException($"Segments.Uniform needs count >= 0 and size >= 0, got {count} and {size}.");
        var offsets = new int[count + 1];
        for (int s = 0; s <= count; s++) offsets[s] = checked(s * size);
        return new Segments(backend, offsets);
    }

    public void Dispose()
    {
        Offsets.Dispose();
        RowToSegment.Dispose();
        SizesOrOne.Dispose();
    }
}
