namespace SaGatSr.Kernels;

/// <summary>
/// A block of values owned by one backend. Disposing returns the memory to that backend's pool, so a
/// training step that allocates the same shapes each time reuses memory instead of reallocating it.
/// </summary>
public abstract class DeviceBuffer : IDisposable
{
    protected DeviceBuffer(IComputeBackend owner, int length)
    {
        Owner = owner;
        Length = length;
    }

    public IComputeBackend Owner { get; }

    public int Length { get; }

    public bool IsDisposed { get; private set; }

    public void Dispose()
    {
        if (IsDisposed) return;
        IsDisposed = true;
        Release();
        GC.SuppressFinalize(this);
    }

    /// <summary>Hands the storage back to the owner's pool.</summary>
    protected abstract void Release();
}

/// <summary>A block of int indices owned by one backend (graph edges, segment offsets).</summary>
public abstract class IndexBuffer : IDisposable
{
    protected IndexBuffer(IComputeBackend owner, int length)
    {
        Owner = owner;
        Length = length;
    }

    public IComputeBackend Owner { get; }

    public int Length { get; }

    public bool IsDisposed { get; private set; }

    public void Dispose()
    {
        if (IsDisposed) return;
        IsDisposed = true;
        Release();
        GC.SuppressFinalize(this);
    }

    protected abstract void Release();
}
