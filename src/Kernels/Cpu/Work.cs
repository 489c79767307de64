namespace SaGatSr.Kernels.Cpu;

/// <summary>
/// Fixed, size-based partitioning for Parallel.For: chunk boundaries depend only on the item count and the
/// grain, never on the thread count or on scheduling, and every output element is written by one chunk.
/// </summary>
internal static class Work
{
    /// <summary>Roughly how many scalar operations one chunk should do to amortise scheduling.</summary>
    private const int ChunkCost = 1 << 15;

    /// <summary>Items per chunk when each item costs about <paramref name="costPerItem"/> scalar operations.</summary>
    public static int Grain(long costPerItem) => (int)Math.Max(1, ChunkCost / Math.Max(1, costPerItem));

    /// <summary>Runs body(start, end) over [0, count) in chunks of <paramref name="grain"/> items.</summary>
    public static void For(int count, int grain, Action<int, int> body)
    {
        if (count <= 0) return;
        if (count <= grain || Environment.ProcessorCount == 1)
        {
            body(0, count);
            return;
        }

        int chunks = (count + grain - 1) / grain;
        Parallel.For(0, chunks, chunk =>
        {
            int start = chunk * grain;
            body(start, Math.Min(count, start + grain));
        });
    }

    /// <summary><see cref="For(int,int,Action{int,int})"/> with the grain chosen from the per-item cost.</summary>
    public static void ForCost(int count, long costPerItem, Action<int, int> body) => For(count, Grain(costPerItem), body);
}
