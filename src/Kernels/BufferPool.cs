using System.Collections.Concurrent;

namespace SaGatSr.Kernels;

/// <summary>
/// Keeps released storage in buckets by capacity so that a training step that allocates the same shapes each
/// time reuses memory. Capacities are rounded up to one of four size classes per power of two (at most 25%
/// slack), so nearby lengths share a bucket. Retained storage is capped; beyond the cap it is destroyed.
/// </summary>
internal sealed class BufferPool<T>(Func<int, T> create, Action<T> destroy, long maxRetainedElements) : IDisposable
    where T : class
{
    private readonly ConcurrentDictionary<int, ConcurrentBag<T>> buckets = new();
    private long retainedElements;
    private bool disposed;

    public static int Capacity(int length)
    {
        if (length <= 64) return 64;
        int power = 1 << (31 - int.LeadingZeroCount(length - 1)); // largest power of two below length
        int quarter = Math.Max(power / 4, 1);
        long capacity = power + (long)((length - power + quarter - 1) / quarter) * quarter;
        return (int)Math.Min(capacity, Array.MaxLength);
    }

    /// <summary>Storage of <see cref="Capacity"/>(length) elements; its contents are arbitrary.</summary>
    public T Rent(int length, out int capacity)
    {
        capacity = Capacity(length);
        if (buckets.TryGetValue(capacity, out var bag) && bag.TryTake(out var item))
        {
            Interlocked.Add(ref retainedElements, -capacity);
            return item;
        }

        return create(capacity);
    }

    public void Return(T item, int capacity)
    {
        if (disposed || Interlocked.Add(ref retainedElements, capacity) > maxRetainedElements)
        {
            if (!disposed) Interlocked.Add(ref retainedElements, -capacity);
            destroy(item);
            return;
        }

        buckets.GetOrAdd(capacity, _ => new ConcurrentBag<T>()).Add(item);
    }

    public void Dispose()
    {
        disposed = true;
        foreach (var bag in buckets.Values)
            while (bag.TryTake(out var item))
                destroy(item);
        buckets.Clear();
        retainedElements = 0;
    }
}
