using System.Runtime.InteropServices;

namespace SaGatSr.Mpi;

public enum ReduceOp { Sum, Max, Min }

/// <summary>
/// The ranks of one job and the few collectives the engine needs. <see cref="World"/> is OpenMPI's MPI_COMM_WORLD when
/// the process was started by mpirun (or srun with PMIx), otherwise a single-process communicator whose collectives are
/// copies, so code written against it runs unchanged without MPI. Collectives must be called by every rank in the same
/// order, from one thread at a time. Message sizes are bounded by MPI's int counts (2 GiB per call).
/// </summary>
public abstract class Communicator
{
    private static readonly Lock InitLock = new();
    private static Communicator? world;

    public abstract int Rank { get; }
    public abstract int Size { get; }
    public bool IsRoot => Rank == 0;
    /// <summary>"single process" or "OpenMPI x N ranks": for logs.</summary>
    public abstract string Description { get; }

    /// <summary>The job's communicator, started on first use (MPI_Init_thread) when launched by mpirun.</summary>
    public static Communicator World
    {
        get
        {
            if (world is not null) return world;
            lock (InitLock)
                return world ??= Launcher.IsMpiLaunch(out _) ? OpenMpi.Start() : new SingleProcess();
        }
    }

    /// <summary>A communicator of this process alone, whatever the launch: for work that must not be shared.</summary>
    public static Communicator Self { get; } = new SingleProcess();

    /// <summary>True once <see cref="World"/> was created and spans more than one rank.</summary>
    public static bool IsDistributed => world is { Size: > 1 };

    /// <summary>Ends MPI (MPI_Finalize) if it was started; every rank must call it before exiting.</summary>
    public static void Shutdown()
    {
        lock (InitLock) (world as OpenMpi)?.End();
    }

    public abstract void Barrier();

    /// <summary>Element-wise reduction across ranks, result on every rank; identical bits on all ranks.</summary>
    public abstract void AllReduce(Span<double> values, ReduceOp op);

    /// <inheritdoc cref="AllReduce(Span{double}, ReduceOp)"/>
    public abstract void AllReduce(Span<long> values, ReduceOp op);

    public double AllReduce(double value, ReduceOp op)
    {
        Span<double> one = [value];
        AllReduce(one, op);
        return one[0];
    }

    public long AllReduce(long value, ReduceOp op)
    {
        Span<long> one = [value];
        AllReduce(one, op);
        return one[0];
    }

    /// <summary>Copies root's data into every rank's span (all spans have the same length).</summary>
    public void Broadcast<T>(Span<T> data, int root) where T : unmanaged => BroadcastBytes(MemoryMarshal.AsBytes(data), root);

    /// <summary>Every rank's span concatenated in rank order, on every rank; <paramref name="counts"/>[r] items came from rank r.</summary>
    public T[] AllGather<T>(ReadOnlySpan<T> mine, out int[] counts) where T : unmanaged
    {
        counts = AllGatherCounts(mine.Length);
        var result = new T[Total(counts)];
        AllGatherBytes(MemoryMarshal.AsBytes(mine), Bytes<T>(counts), MemoryMarshal.AsBytes(result.AsSpan()));
        return result;
    }

    public T[] AllGather<T>(ReadOnlySpan<T> mine) where T : unmanaged => AllGather(mine, out _);

    /// <summary>Every rank's span concatenated in rank order on <paramref name="root"/>; null on the other ranks.</summary>
    public T[]? Gather<T>(ReadOnlySpan<T> mine, int root) where T : unmanaged
    {
        var counts = AllGatherCounts(mine.Length);
        var result = Rank == root ? new T[Total(counts)] : null;
        GatherBytes(MemoryMarshal.AsBytes(mine), Bytes<T>(counts), result is null ? Span<byte>.Empty : MemoryMarshal.AsBytes(result.AsSpan()), root);
        return result;
    }

    /// <summary>The strings of every rank in rank order, on every rank (UTF-8 on the wire).</summary>
    public string[] AllGather(string mine)
    {
        var bytes = AllGather<byte>(System.Text.Encoding.UTF8.GetBytes(mine), out var counts);
        var result = new string[counts.Length];
        for (int r = 0, at = 0; r < counts.Length; at += counts[r], r++)
            result[r] = System.Text.Encoding.UTF8.GetString(bytes, at, counts[r]);
        return result;
    }

    /// <summary>Ends every rank of the job at once (MPI_Abort); in a single process, exits with the code.</summary>
    public abstract void Abort(int exitCode);

    /// <summary>The half-open range [start, end) of <paramref name="count"/> items this rank owns in a block split.</summary>
    public (int Start, int End) BlockRange(int count) => BlockRange(count, Rank, Size);

    public static (int Start, int End) BlockRange(int count, int rank, int size)
    {
        long start = (long)count * rank / size, end = (long)count * (rank + 1) / size;
        return ((int)start, (int)end);
    }

    protected abstract void BroadcastBytes(Span<byte> data, int root);
    protected abstract void AllGatherBytes(ReadOnlySpan<byte> mine, int[] byteCounts, Span<byte> result);
    protected abstract void GatherBytes(ReadOnlySpan<byte> mine, int[] byteCounts, Span<byte> result, int root);

    private int[] AllGatherCounts(int mine)
    {
        Span<long> counts = new long[Size];
        counts[Rank] = mine;
        AllReduce(counts, ReduceOp.Sum);
        var result = new int[Size];
        for (int r = 0; r < Size; r++) result[r] = checked((int)counts[r]);
        return result;
    }

    private static int Total(int[] counts)
    {
        long total = 0;
        foreach (int c in counts) total += c;
        return checked((int)total);
    }

    private static unsafe int[] Bytes<T>(int[] counts) where T : unmanaged =>
        counts.Select(c => checked(c * sizeof(T))).ToArray();
}

/// <summary>One process: every collective is the identity.</summary>
internal sealed class SingleProcess : Communicator
{
    public override int Rank => 0;
    public override int Size => 1;
    public override string Description => "single process";
    public override void Barrier() { }
    public override void AllReduce(Span<double> values, ReduceOp op) { }
    public override void AllReduce(Span<long> values, ReduceOp op) { }
    public override void Abort(int exitCode) => Environment.Exit(exitCode);
    protected override void BroadcastBytes(Span<byte> data, int root) => CheckRoot(root);
    protected override void AllGatherBytes(ReadOnlySpan<byte> mine, int[] byteCounts, Span<byte> result) => mine.CopyTo(result);

    protected override void GatherBytes(ReadOnlySpan<byte> mine, int[] byteCounts, Span<byte> result, int root)
    {
        CheckRoot(root);
        mine.CopyTo(result);
    }

    private static void CheckRoot(int root)
    {
        if (root != 0) throw new ArgumentOutOfRangeException(nameof(root), $"Rank {root} does not exist in a single-process job.");
    }
}
