using System.Runtime.InteropServices;

namespace SaGatSr.Mpi;

/// <summary>How the process was started: by mpirun (OpenMPI) or srun with PMIx, or alone.</summary>
public static class Launcher
{
    /// <summary>
    /// True when a launcher set the rank environment (OMPI_COMM_WORLD_SIZE, or PMIX_RANK under srun) and SAGATSR_MPI is not
    /// "off". <paramref name="size"/> is the launcher's rank count (0 when unknown).
    /// </summary>
    public static bool IsMpiLaunch(out int size)
    {
        size = int.TryParse(Environment.GetEnvironmentVariable("OMPI_COMM_WORLD_SIZE"), out int s) ? s : 0;
        if (string.Equals(Environment.GetEnvironmentVariable("SAGATSR_MPI"), "off", StringComparison.OrdinalIgnoreCase)) return false;
        return size > 0 || Environment.GetEnvironmentVariable("PMIX_RANK") is not null;
    }
}

/// <summary>
/// MPI_COMM_WORLD of the system's OpenMPI (libmpi.so.40, OpenMPI 3 to 5) through function pointers. OpenMPI's handles
/// (MPI_COMM_WORLD, MPI_DOUBLE, MPI_SUM, ...) are the addresses of exported globals (ompi_mpi_comm_world, ...).
/// </summary>
internal sealed unsafe class OpenMpi : Communicator
{
    private const string LibraryName = "libmpi.so.40";
    private const int ThreadSerialized = 2; // MPI_THREAD_SERIALIZED in OpenMPI's mpi.h
    private const int RtldNow = 2, RtldGlobal = 0x100;
    private static readonly void* InPlace = (void*)1; // MPI_IN_PLACE

    private readonly nint comm, typeByte, typeDouble, typeLong, opSum, opMax, opMin;
    private readonly delegate* unmanaged<int*, int> finalized;
    private readonly delegate* unmanaged<int> finalize;
    private readonly delegate* unmanaged<nint, int> barrier;
    private readonly delegate* unmanaged<void*, int, nint, int, nint, int> bcast;
    private readonly delegate* unmanaged<void*, void*, int, nint, nint, int, nint, int> reduce;
    private readonly delegate* unmanaged<void*, int, nint, void*, int*, int*, nint, nint, int> allgatherv;
    private readonly delegate* unmanaged<void*, int, nint, void*, int*, int*, nint, int, nint, int> gatherv;
    private readonly delegate* unmanaged<nint, int, int> abort;
    private bool finished;

    public override int Rank { get; }
    public override int Size { get; }
    public override string Description => $"OpenMPI, {Size} rank{(Size == 1 ? "" : "s")}";

    private OpenMpi(nint library)
    {
        nint Export(string name) => NativeLibrary.TryGetExport(library, name, out var address)
            ? address
            : throw new MpiException($"{LibraryName} has no symbol '{name}'; OpenMPI 3 to 5 is needed.");

        comm = Export("ompi_mpi_comm_world");
        typeByte = Export("ompi_mpi_byte");
        typeDouble = Export("ompi_mpi_double");
        typeLong = Export("ompi_mpi_int64_t");
        opSum = Export("ompi_mpi_op_sum");
        opMax = Export("ompi_mpi_op_max");
        opMin = Export("ompi_mpi_op_min");
        var initThread = (delegate* unmanaged<int*, byte***, int, int*, int>)Export("MPI_Init_thread");
        var initialized = (delegate* unmanaged<int*, int>)Export("MPI_Initialized");
        finalized = (delegate* unmanaged<int*, int>)Export("MPI_Finalized");
        finalize = (delegate* unmanaged<int>)Export("MPI_Finalize");
        var commRank = (delegate* unmanaged<nint, int*, int>)Export("MPI_Comm_rank");
        var commSize = (delegate* unmanaged<nint, int*, int>)Export("MPI_Comm_size");
        barrier = (delegate* unmanaged<nint, int>)Export("MPI_Barrier");
        bcast = (delegate* unmanaged<void*, int, nint, int, nint, int>)Export("MPI_Bcast");
        reduce = (delegate* unmanaged<void*, void*, int, nint, nint, int, nint, int>)Export("MPI_Reduce");
        allgatherv = (delegate* unmanaged<void*, int, nint, void*, int*, int*, nint, nint, int>)Export("MPI_Allgatherv");
        gatherv = (delegate* unmanaged<void*, int, nint, void*, int*, int*, nint, int, nint, int>)Export("MPI_Gatherv");
        abort = (delegate* unmanaged<nint, int, int>)Export("MPI_Abort");

        int flag, provided, rank, size;
        Check(initialized(&flag), "MPI_Initialized");
        if (flag == 0) Check(initThread(null, null, ThreadSerialized, &provided), "MPI_Init_thread");
        Check(commRank(comm, &rank), "MPI_Comm_rank");
        Check(commSize(comm, &size), "MPI_Comm_size");
        Rank = rank;
        Size = size;
    }

    public static OpenMpi Start()
    {
        nint library = DlOpen(LibraryName, RtldNow | RtldGlobal);
        if (library == 0)
        {
            var reason = Marshal.PtrToStringUTF8(DlError()) ?? "unknown reason";
            throw new MpiException($"launched by mpirun but {LibraryName} could not be loaded ({reason}); install OpenMPI " +
                                   "(Debian: apt-get install openmpi-bin libopenmpi-dev), or set SAGATSR_MPI=off to run ranks independently.");
        }

        return new OpenMpi(library);
    }

    public void End()
    {
        if (finished) return;
        finished = true;
        int flag;
        Check(finalized(&flag), "MPI_Finalized");
        if (flag == 0) Check(finalize(), "MPI_Finalize");
    }

    public override void Barrier() => Check(barrier(comm), "MPI_Barrier");

    public override void AllReduce(Span<double> values, ReduceOp op) => ReduceThenBroadcast(MemoryMarshal.AsBytes(values), sizeof(double), typeDouble, op);

    public override void AllReduce(Span<long> values, ReduceOp op) => ReduceThenBroadcast(MemoryMarshal.AsBytes(values), sizeof(long), typeLong, op);

    public override void Abort(int exitCode)
    {
        abort(comm, exitCode);
        Environment.Exit(exitCode);
    }

    /// <summary>
    /// Reduce to rank 0, then broadcast: unlike some MPI_Allreduce algorithms this guarantees the same bits on every rank,
    /// which keeps data-parallel replicas identical and their decisions (early stopping) in step.
    /// </summary>
    private void ReduceThenBroadcast(Span<byte> bytes, int itemSize, nint type, ReduceOp op)
    {
        nint mpiOp = op switch { ReduceOp.Sum => opSum, ReduceOp.Max => opMax, _ => opMin };
        int maxItems = int.MaxValue / itemSize;
        for (int start = 0; start < bytes.Length; start += maxItems * itemSize)
        {
            var chunk = bytes.Slice(start, Math.Min(bytes.Length - start, maxItems * itemSize));
            fixed (byte* p = chunk)
            {
                int count = chunk.Length / itemSize;
                Check(Rank == 0 ? reduce(InPlace, p, count, type, mpiOp, 0, comm) : reduce(p, null, count, type, mpiOp, 0, comm), "MPI_Reduce");
            }
        }

        BroadcastBytes(bytes, 0);
    }

    protected override void BroadcastBytes(Span<byte> data, int root)
    {
        for (int start = 0; start < data.Length || start == 0; start += int.MaxValue)
        {
            var chunk = data.Slice(start, Math.Min(data.Length - start, int.MaxValue));
            fixed (byte* p = chunk) Check(bcast(p, chunk.Length, typeByte, root, comm), "MPI_Bcast");
            if (data.Length == 0) break;
        }
    }

    protected override void AllGatherBytes(ReadOnlySpan<byte> mine, int[] byteCounts, Span<byte> result)
    {
        var displacements = Displacements(byteCounts);
        fixed (byte* send = mine)
        fixed (byte* receive = result)
        fixed (int* counts = byteCounts)
        fixed (int* displs = displacements)
            Check(allgatherv(send, mine.Length, typeByte, receive, counts, displs, typeByte, comm), "MPI_Allgatherv");
    }

    protected override void GatherBytes(ReadOnlySpan<byte> mine, int[] byteCounts, Span<byte> result, int root)
    {
        var displacements = Displacements(byteCounts);
        fixed (byte* send = mine)
        fixed (byte* receive = result)
        fixed (int* counts = byteCounts)
        fixed (int* displs = displacements)
            Check(gatherv(send, mine.Length, typeByte, receive, counts, displs, typeByte, root, comm), "MPI_Gatherv");
    }

    private static int[] Displacements(int[] counts)
    {
        var displacements = new int[counts.Length];
        long at = 0;
        for (int r = 0; r < counts.Length; r++)
        {
            displacements[r] = checked((int)at);
            at += counts[r];
        }

        if (at > int.MaxValue) throw new MpiException($"A gather of {at:N0} bytes exceeds MPI's 2 GiB limit per call.");
        return displacements;
    }

    private static void Check(int code, string call)
    {
        if (code != 0) throw new MpiException($"{call} failed with MPI error {code}.");
    }

    [DllImport("libc", EntryPoint = "dlopen")]
    private static extern nint DlOpen([MarshalAs(UnmanagedType.LPUTF8Str)] string file, int mode);

    [DllImport("libc", EntryPoint = "dlerror")]
    private static extern nint DlError();
}

public sealed class MpiException(string message) : Exception(message);
