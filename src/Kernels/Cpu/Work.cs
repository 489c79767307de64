namespace SaGatSr.Kernels.Cpu;

/// <summary>
/// Fixed, size-based partitioning for Parallel.For: chunk boundaries depend only on the item count and the
/// grain, never on the thread count or on scheduling, and every output element is written by one chunk, so any
/// thread limit gives the same bits.
/// </summary>
/// <param name="threads">most threads one call uses; 0: all cores. One runs every chunk inline on the caller's thread,
/// so several backends can train side by side, one core each, without contending for the pool.</param>
internal sealed class Work(int threads)
{
    /// <summary>Roughly how many scalar operations one chunk should do to amortise scheduling.</summary>
    private const int ChunkCost = 1 << 15;

    private readonly ParallelOptions options = new() { MaxDegreeOfParallelism = threads > 0 ? threads : -1 };
    private readonly bool serial = threads == 1 || Environment.ProcessorCount == 1;

    public int Threads => threads > 0 ? Math.Min(threads, Environment.ProcessorCount) : Environment.ProcessorCount;

    /// <summary>Items per chunk when each item costs about <paramref name="costPerItem"/> scalar operations.</summary>
    public static int Grain(long costPerItem) => (int)Math.Max(1, ChunkCost / Math.Max(1, costPerItem));

    /// <summary>Runs body(start, end) over [0, count) in chunks of <paramref name="grain"/> items.</summary>
    public void For(int count, int grain, Action<int, int> body)
    {
        if (count <= 0) return;
        if (count <= grain || serial)
        {
            for (int start = 0; start < count; start += grain) body(start, Math.Min(count, start + grain));
            return;
        }

        int chunks = (count + grain - 1) / grain;
        Parallel.For(0, chunks, options, chunk =>
        {
            int start = chunk * grain;
            body(start, Math.Min(count, start + grain));
        });
    }

    /// <summary><see cref="For(int,int,Action{int,int})"/> with the grain chosen from the per-item cost.</summary>
    public void ForCost(int count, long costPerItem, Action<int, int> body) => For(count, Grain(costPerItem), body);
}
