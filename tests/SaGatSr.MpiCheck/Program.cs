using SaGatSr.Mpi;

// Each rank checks every collective against values it can compute itself, prints one line per check and
// "rank R of N: ok" at the end; the exit code is the number of failed checks.
var world = Communicator.World;
int rank = world.Rank, size = world.Size, failures = 0;
Console.WriteLine($"rank {rank} of {size}: {world.Description}");

void Expect(string what, bool ok)
{
    if (!ok) failures++;
    Console.WriteLine($"rank {rank}: {what}: {(ok ? "ok" : "FAILED")}");
}

// Sums of rank-dependent fractions: exact in binary, so equality is the right test.
var sums = Enumerable.Range(0, 1000).Select(i => (rank + 1) * 0.25 + i).ToArray();
world.AllReduce(sums, ReduceOp.Sum);
double rankTerm = size * (size + 1) / 2 * 0.25;
Expect("allreduce sum double", sums.Select((v, i) => v == rankTerm + size * i).All(b => b));

var longs = new long[] { rank, -rank, 1L << 40 };
var max = (long[])longs.Clone();
world.AllReduce(max, ReduceOp.Max);
var min = (long[])longs.Clone();
world.AllReduce(min, ReduceOp.Min);
world.AllReduce(longs, ReduceOp.Sum);
Expect("allreduce max/min/sum long", max[0] == size - 1 && min[1] == -(size - 1) && longs[2] == size * (1L << 40)
                                     && longs[0] == size * (size - 1) / 2);
Expect("allreduce scalar", world.AllReduce(rank + 0.5, ReduceOp.Max) == size - 0.5);

int root = size - 1;
var broadcast = rank == root ? new[] { 3.5, -1.0, double.NaN } : new double[3];
world.Broadcast<double>(broadcast, root);
Expect("broadcast from last rank", broadcast[0] == 3.5 && broadcast[1] == -1.0 && double.IsNaN(broadcast[2]));

// Rank r contributes r + 1 items (rank 0 one item), so counts and displacements are uneven.
var mine = Enumerable.Range(0, rank + 1).Select(i => rank * 100 + i).ToArray();
var gathered = world.AllGather<int>(mine, out var counts);
var expected = Enumerable.Range(0, size).SelectMany(r => Enumerable.Range(0, r + 1).Select(i => r * 100 + i)).ToArray();
Expect("allgather uneven", gathered.SequenceEqual(expected) && counts.SequenceEqual(Enumerable.Range(1, size)));

var empty = world.AllGather<double>(rank % 2 == 0 ? [] : [rank], out var emptyCounts);
Expect("allgather with empty parts", empty.Length == size / 2 && emptyCounts.Sum() == size / 2);

var atRoot = world.Gather<long>([rank, rank * 2L], 0);
Expect("gather to root", rank == 0
    ? atRoot is not null && atRoot.SequenceEqual(Enumerable.Range(0, size).SelectMany(r => new long[] { r, r * 2L }))
    : atRoot is null);

var names = world.AllGather($"räng-{rank}");
Expect("allgather strings", names.SequenceEqual(Enumerable.Range(0, size).Select(r => $"räng-{r}")));

// The runtime turns a null dereference into an exception through SIGSEGV; MPI must not have taken that signal over.
try
{
    object? nothing = args.Length > 100 ? new object() : null;
    _ = nothing!.GetHashCode();
    Expect("null dereference is an exception", false);
}
catch (NullReferenceException)
{
    Expect("null dereference is an exception", true);
}

world.Barrier();
Console.WriteLine($"rank {rank} of {size}: {(failures == 0 ? "ok" : $"{failures} failed")}");
Communicator.Shutdown();
return failures;
