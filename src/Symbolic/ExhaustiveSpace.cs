using System.Collections.Concurrent;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using SaGatSr.Kernels.Expressions;
using SaGatSr.Mpi;

namespace SaGatSr.Symbolic;

/// <summary>
/// SISSO's exhaustive feature space (Ouyang et al., Phys. Rev. Mater. 2, 083802 (2018); the rules of the reference
/// Fortran code's feature construction): rung r combines every feature of rung r-1 with itself (unary operators) and
/// with every feature before it or after it in rung r-1 (binary operators); a feature may hold at most
/// MaxFeatureOperators operators. Operator rules follow SISSO: no exp/log of exp/log, no square of a square root (and
/// the like), sqrt and log of positive features only, no division by a feature that touches zero, a - b and b - a
/// below the last rung but only a - b at it, no A/(B/C) or (A/B)/C below the last rung, no A*B/B. Features below the last
/// rung that are constant, zero or beyond 1e50 are dropped, duplicates among them (same values) keep the simpler one.
/// <para>
/// Features below the last rung are stored (they are the parents). The last rung, which holds nearly all of the space,
/// is streamed: each candidate is evaluated and scored in one fused pass (<see cref="PairScreening"/>) and only the
/// best are kept. Ranks split the last rung by parent, threads split each rank's share, and every rank ends with the same
/// screened subspace.
/// </para>
/// SIS, as in SISSO: features ranked by |correlation| with the target; scores within 1e-8 are ties, won by the simpler
/// feature (fewer operators, then the shorter name, then the name); a feature equivalent to a better one (scores within
/// 1e-8 and |correlation| &gt; 0.99) is dropped; features whose largest magnitude is outside [SelectableMin,
/// SelectableMax] (SISSO's fmax_min, fmax_max) are used as parents but never selected.
/// </summary>
internal sealed class ExhaustiveSpace
{
    private const double TieTolerance = 1e-8;
    private const double EquivalentCorrelation = 0.99;
    private const double ZeroMagnitude = 1e-50, HugeMagnitude = 1e50;

    private readonly FeatureTable table;
    private readonly SrOptions options;
    private readonly Communicator comm;
    private readonly CancellationToken cancel;
    private readonly IProgress<SrProgress>? progress;
    private readonly ExprOpCode[] unary;
    private readonly bool add, subtract, absDiff, multiply, divide, inverseOperator;
    private readonly int n, stride, maxOperators;

    // Parents (every feature below the last rung), with padded values and reciprocals for the fused kernels.
    private readonly List<Parent> parents = new();
    private double[] values = [], reciprocals = [];
    private int lastParentsStart;
    private readonly HashSet<long> productParts = new();
    // Per parent, for the hot loop: its unit as a small id (equal ids, equal units) and its operator count.
    private readonly List<int> unitIds = new(), operatorCounts = new();
    private readonly List<Unit> distinctUnits = new();

    private sealed record Parent(Expr Expr, string Name, ExprOpCode LastOp, int Operators, Unit Unit, double Min, double MinAbs, double MaxAbs);

    /// <summary>A feature of the space: a parent (Op = Column, B = -1), a unary op on parent A (B = -1) or op(A, B).</summary>
    internal readonly record struct Key(ExprOpCode Op, int A, int B);

    /// <summary>A screened feature: its exact score, identity and operator count (packed for MPI as plain data).</summary>
    private readonly record struct Entry(double Score, ExprOpCode Op, int A, int B, int Operators)
    {
        public Key Key => new(Op, A, B);
    }

    public ExhaustiveSpace(FeatureTable table, SrOptions options, Communicator comm, IProgress<SrProgress>? progress, CancellationToken cancel)
    {
        this.table = table;
        this.options = options;
        this.comm = comm;
        this.progress = progress;
        this.cancel = cancel;
        n = table.SampleCount;
        stride = PairScreening.PaddedLength(n);
        maxOperators = options.MaxFeatureOperators > 0 ? options.MaxFeatureOperators : int.MaxValue;
        var ops = options.Operators.Select(Operators.Parse).ToHashSet();
        // SISSO's unary order, then abs (not in SISSO); neg never changes a linear model.
        unary = new[] { ExprOpCode.Exp, ExprOpCode.Inverse, ExprOpCode.Square, ExprOpCode.Cube, ExprOpCode.Sqrt, ExprOpCode.Cbrt, ExprOpCode.Log, ExprOpCode.Abs }
            .Where(ops.Contains).ToArray();
        add = ops.Contains(ExprOpCode.Add);
        subtract = ops.Contains(ExprOpCode.Sub);
        absDiff = ops.Contains(ExprOpCode.AbsDiff);
        multiply = ops.Contains(ExprOpCode.Mul);
        divide = ops.Contains(ExprOpCode.Div);
        inverseOperator = ops.Contains(ExprOpCode.Inverse);
    }

    /// <summary>Features of each rung that SISSO would count (valid ones); the last rung's are known after the first screening.</summary>
    public long[] RungSizes { get; private set; } = [];

    /// <summary>Candidates scored by this rank, over all screenings.</summary>
    public long Scored { get; private set; }

    public int ParentCount => parents.Count;

    /// <summary>Builds and stores every rung below the last (the same on every rank).</summary>
    public void Build()
    {
        int rungs = options.Rungs;
        RungSizes = new long[rungs + 1];
        for (int f = 0; f < table.Columns.Length; f++)
        {
            var unit = options.Units?.TryGetValue(table.Names[f], out var u) == true ? Unit.Parse(u) : Unit.Dimensionless;
            AddParent(new Parent(Expr.Var(f), table.Names[f], ExprOpCode.Column, 0, unit, 0, 0, 0), table.Columns[f]);
        }

        RungSizes[0] = parents.Count;
        lastParentsStart = 0;
        for (int rung = 1; rung < rungs; rung++)
        {
            cancel.ThrowIfCancellationRequested();
            int start = lastParentsStart, end = parents.Count;
            var perParent = new List<(Parent, double[])>[end - start];
            Parallel.For(start, end, new ParallelOptions { CancellationToken = cancel }, i => perParent[i - start] = Combine(i, start, end));
            var fresh = perParent.SelectMany(l => l).ToList();
            var kept = WithoutDuplicates(fresh);
            lastParentsStart = parents.Count;
            EnsureCapacity(parents.Count + kept.Count);
            foreach (var (parent, column) in kept) AddParent(parent, column);
            RungSizes[rung] = kept.Count;
            progress?.Report(new SrProgress("sisso-space", 0.1 * rung / rungs,
                $"rung {rung}: {kept.Count:N0} features after removing {fresh.Count - kept.Count:N0} duplicates ({parents.Count:N0} stored)"));
        }

        if (rungs == 0) lastParentsStart = parents.Count;
    }

    private void AddParent(Parent parent, double[] column)
    {
        double min = TensorPrimitives.Min(column), minAbs = Math.Abs(TensorPrimitives.MinMagnitude(column)),
            maxAbs = Math.Abs(TensorPrimitives.MaxMagnitude(column));

        int index = parents.Count;
        parents.Add(parent with { Min = min, MinAbs = minAbs, MaxAbs = maxAbs });
        int unitId = distinctUnits.FindIndex(u => u.Equals(parent.Unit));
        if (unitId < 0)
        {
            unitId = distinctUnits.Count;
            distinctUnits.Add(parent.Unit);
        }

        unitIds.Add(unitId);
        operatorCounts.Add(parent.Operators);
        if ((index + 1) * stride > values.Length) EnsureCapacity(Math.Max(64, 2 * (index + 1)));

        var padded = values.AsSpan(index * stride, stride);
        column.CopyTo(padded);
        padded[n..].Fill(column[0]);
        TensorPrimitives.Reciprocal(padded, reciprocals.AsSpan(index * stride, stride));

        if (parent.LastOp == ExprOpCode.Mul) RegisterProductParts(index);
    }

    private void EnsureCapacity(int parentCount)
    {
        if ((long)parentCount * stride <= values.Length) return;
        Array.Resize(ref values, checked(parentCount * stride));
        Array.Resize(ref reciprocals, values.Length);
    }

    private ReadOnlySpan<double> Column(int parent) => values.AsSpan(parent * stride, n);

    /// <summary>
    /// SISSO skips A*B/B and B/(A*B) by a textual test: the divisor's name occurs (first) in the product's name as its
    /// left or right factor. The matching (product, factor) pairs are few; they are found once, by name.
    /// </summary>
    private void RegisterProductParts(int product)
    {
        var name = parents[product].Name;
        for (int at = 1; at < name.Length - 1; at++)
        {
            if (name[at] != '*') continue;
            foreach (var (factor, position, isLeft) in new[] { (name[1..at], 1, true), (name[(at + 1)..^1], at + 1, false) })
            {
                int first = name.IndexOf(factor, StringComparison.Ordinal);
                if (first != position) continue;
                bool matches = isLeft ? name[first + factor.Length] == '*' : first + factor.Length == name.Length - 1 && name[first - 1] == '*';
                if (!matches) continue;
                int index = IndexOfName(factor);
                if (index >= 0) productParts.Add(PairKey(product, index));
            }
        }
    }

    private Dictionary<string, int>? nameIndex;

    private int IndexOfName(string name)
    {
        nameIndex ??= new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = nameIndex.Count; i < parents.Count; i++) nameIndex.TryAdd(parents[i].Name, i);
        return nameIndex.GetValueOrDefault(name, -1);
    }

    private static long PairKey(int a, int b) => ((long)a << 32) | (uint)b;

    /// <summary>True when the product parent is A*B and the other parent is A or B (by SISSO's name test).</summary>
    private bool IsFactorOf(int other, int product) => parents[product].LastOp == ExprOpCode.Mul && productParts.Contains(PairKey(product, other));

    /// <summary>Which of a/b and b/a SISSO generates for parents a (the newer) and b (below the last rung or at it).</summary>
    private (bool AOverB, bool BOverA) Quotients(int a, int b, bool lastRung)
    {
        if (!divide) return (false, false);
        if (multiply && !lastRung && (parents[a].LastOp == ExprOpCode.Div || parents[b].LastOp == ExprOpCode.Div)) return (false, false);
        bool aOverB = true, bOverA = true;
        if (IsFactorOf(b, a))
        {
            if (inverseOperator) return (false, false);
            aOverB = false;
        }
        else if (IsFactorOf(a, b))
        {
            if (inverseOperator) return (false, false);
            bOverA = false;
        }

        return (aOverB && parents[b].MinAbs > ZeroMagnitude, bOverA && parents[a].MinAbs > ZeroMagnitude);
    }

    private bool UnaryAllowed(ExprOpCode op, Parent p)
    {
        if (p.Operators + 1 > maxOperators || Unit.Apply(op, p.Unit) is null) return false;
        var last = p.LastOp;
        return op switch
        {
            ExprOpCode.Exp or ExprOpCode.Log when last is ExprOpCode.Exp or ExprOpCode.Log => false,
            ExprOpCode.Inverse => p.MinAbs > ZeroMagnitude,
            ExprOpCode.Square => last != ExprOpCode.Sqrt,
            ExprOpCode.Cube => last != ExprOpCode.Cbrt,
            ExprOpCode.Sqrt => last != ExprOpCode.Square && p.Min > 0,
            ExprOpCode.Cbrt => last != ExprOpCode.Cube,
            ExprOpCode.Log => p.Min > 0,
            ExprOpCode.Abs => last is not (ExprOpCode.Abs or ExprOpCode.AbsDiff),
            _ => true,
        };
    }

    /// <summary>Every feature of a rung below the last built on new parent i (unary, then with each partner j), in SISSO's order.</summary>
    private IEnumerable<Key> CandidatesOf(int i, int newStart, int newEnd)
    {
        var p = parents[i];
        foreach (var op in unary)
            if (UnaryAllowed(op, p)) yield return new Key(op, i, -1);
        for (int j = 0; j < newEnd; j++)
        {
            if (j >= newStart && j <= i) continue;
            var q = parents[j];
            if (p.Operators + q.Operators + 1 > maxOperators) continue;
            if (p.Unit.Equals(q.Unit))
            {
                if (add) yield return new Key(ExprOpCode.Add, i, j);
                if (subtract)
                {
                    yield return new Key(ExprOpCode.Sub, i, j);
                    yield return new Key(ExprOpCode.Sub, j, i);
                }

                if (absDiff) yield return new Key(ExprOpCode.AbsDiff, i, j);
            }

            if (multiply) yield return new Key(ExprOpCode.Mul, i, j);
            var (iOverJ, jOverI) = Quotients(i, j, lastRung: false);
            if (iOverJ) yield return new Key(ExprOpCode.Div, i, j);
            if (jOverI) yield return new Key(ExprOpCode.Div, j, i);
        }
    }

    private List<(Parent, double[])> Combine(int i, int newStart, int newEnd)
    {
        var result = new List<(Parent, double[])>();
        foreach (var key in CandidatesOf(i, newStart, newEnd))
        {
            var column = GC.AllocateUninitializedArray<double>(n);
            Evaluate(key, column);
            if (!IsValid(column, out _)) continue;
            result.Add((new Parent(ExprOf(key), NameOf(key), key.Op, OperatorsOf(key), UnitOf(key), 0, 0, 0), column));
        }

        return result;
    }

    /// <summary>SISSO's test for a usable feature: not constant (to 1e-8), not zero, no magnitude beyond 1e50, finite.</summary>
    private static bool IsValid(ReadOnlySpan<double> column, out double maxAbs)
    {
        maxAbs = 0;
        double first = column[0], spread = 0;
        foreach (var v in column)
        {
            if (!double.IsFinite(v)) return false;
            spread = Math.Max(spread, Math.Abs(v - first));
            maxAbs = Math.Max(maxAbs, Math.Abs(v));
        }

        return spread > TieTolerance && maxAbs > ZeroMagnitude && maxAbs <= HugeMagnitude;
    }

    /// <summary>
    /// Drops duplicates among one rung's new features as SISSO does: equal identities sqrt(Σ(tag_k + f_k)^2) with tag_k =
    /// 1 + 0.001 k (to 1e-8) and |correlation| &gt; 0.99 mark the same feature; the simpler survives; order is kept.
    /// </summary>
    private List<(Parent Parent, double[] Column)> WithoutDuplicates(List<(Parent Parent, double[] Column)> fresh)
    {
        var identity = new double[fresh.Count];
        Parallel.For(0, fresh.Count, f =>
        {
            double s = 0;
            var column = fresh[f].Column;
            for (int k = 0; k < n; k++)
            {
                double v = 1 + 0.001 * (k + 1) + column[k];
                s += v * v;
            }

            identity[f] = Math.Sqrt(s);
        });
        var order = Enumerable.Range(0, fresh.Count).OrderBy(f => identity[f]).ThenBy(f => f).ToArray();
        var alive = Enumerable.Repeat(true, fresh.Count).ToArray();
        for (int x = 0; x < order.Length; x++)
        {
            int f = order[x];
            for (int y = x - 1; y >= 0 && identity[f] - identity[order[y]] <= TieTolerance; y--)
            {
                int g = order[y];
                if (!alive[g] || Math.Abs(Correlation(fresh[f].Column, fresh[g].Column)) <= EquivalentCorrelation) continue;
                int loser = Simpler(fresh[f].Parent.Operators, fresh[f].Parent.Name, fresh[g].Parent.Operators, fresh[g].Parent.Name) ? g : f;
                alive[loser] = false;
                if (loser == f) break;
            }
        }

        return fresh.Where((_, f) => alive[f]).ToList();
    }

    /// <summary>SISSO's order of simplicity: fewer operators, then the shorter name, then the smaller name.</summary>
    private static bool Simpler(int operators, string name, int otherOperators, string otherName) =>
        operators != otherOperators ? operators < otherOperators
        : name.Length != otherName.Length ? name.Length < otherName.Length
        : string.CompareOrdinal(name, otherName) <= 0;

    private static double Correlation(ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        int count = a.Length;
        double ma = 0, mb = 0;
        for (int k = 0; k < count; k++)
        {
            ma += a[k];
            mb += b[k];
        }

        ma /= count;
        mb /= count;
        double ab = 0, aa = 0, bb = 0;
        for (int k = 0; k < count; k++)
        {
            double x = a[k] - ma, y = b[k] - mb;
            ab += x * y;
            aa += x * x;
            bb += y * y;
        }

        return ab / Math.Sqrt(aa * bb);
    }

    public Expr ExprOf(Key key) => key.Op switch
    {
        ExprOpCode.Column => parents[key.A].Expr,
        _ when key.B < 0 => Expr.Unary(key.Op, parents[key.A].Expr),
        _ => Expr.Binary(key.Op, parents[key.A].Expr, parents[key.B].Expr),
    };

    private string NameOf(Key key) => key.Op == ExprOpCode.Column
        ? parents[key.A].Name
        : ExprPrinter.SissoName(key.Op, parents[key.A].Name, key.B < 0 ? null : parents[key.B].Name);

    private int OperatorsOf(Key key) => key.Op == ExprOpCode.Column ? parents[key.A].Operators
        : parents[key.A].Operators + (key.B < 0 ? 0 : parents[key.B].Operators) + 1;

    private Unit UnitOf(Key key) => key.B < 0 ? Unit.Apply(key.Op, parents[key.A].Unit)! : Unit.Apply(key.Op, parents[key.A].Unit, parents[key.B].Unit)!;

    /// <summary>Exact float64 values over the real samples, with the evaluator's semantics (<see cref="ExprSemantics"/>).</summary>
    private void Evaluate(Key key, Span<double> into)
    {
        var a = Column(key.A);
        into = into[..n];
        if (key.Op == ExprOpCode.Column) a.CopyTo(into);
        else if (key.B < 0) SimdExprEvaluator<double>.Unary(key.Op, a, into);
        else SimdExprEvaluator<double>.Binary(key.Op, a, Column(key.B), into);
    }

    public double[] Values(Key key)
    {
        var column = new double[n];
        Evaluate(key, column);
        return column;
    }

    /// <summary>
    /// The <paramref name="count"/> best features against the target (SISSO's SIS), excluding the given ones; the same list
    /// on every rank.
    /// </summary>
    public List<Key> Screen(double[] target, int count, IReadOnlySet<Key> exclude)
    {
        var unitTarget = CenteredUnit(target);
        if (unitTarget is null) return [];
        var paddedTarget = new double[stride];
        unitTarget.CopyTo(paddedTarget, 0);
        bool lastRungExists = options.Rungs > 0;
        int newStart = lastParentsStart, newEnd = parents.Count;

        // Parents first (every rank scores them: they are few), then this rank's share of the last rung.
        var pools = new ConcurrentBag<Pool>();
        var parentPool = new Pool(this, count, unitTarget, exclude);
        for (int p = 0; p < parents.Count; p++) parentPool.Offer(new Key(ExprOpCode.Column, p, -1));
        pools.Add(parentPool);
        long scored = parents.Count, valid = 0;
        if (lastRungExists)
        {
            var (from, to) = ShareOfLastRung(newStart, newEnd);
            long done = 0, total = to - from;
            Parallel.ForEach(System.Collections.Concurrent.Partitioner.Create(from, to, TileSize),
                new ParallelOptions { CancellationToken = cancel },
                () => new Worker(new Pool(this, count, unitTarget, exclude), paddedTarget),
                (range, _, worker) =>
                {
                    ScanLastRung(range.Item1, range.Item2, newStart, newEnd, worker);
                    long finished = Interlocked.Add(ref done, range.Item2 - range.Item1);
                    if (comm.IsRoot) progress?.Report(new SrProgress("sisso-screen", (double)finished / Math.Max(1, total), $"{finished:N0}/{total:N0} parents extended"));
                    return worker;
                },
                worker =>
                {
                    pools.Add(worker.Pool);
                    Interlocked.Add(ref scored, worker.Scored);
                    Interlocked.Add(ref valid, worker.Valid);
                });
        }

        Scored += scored;
        long lastRungValid = comm.AllReduce(valid, ReduceOp.Sum);
        if (lastRungExists) RungSizes[^1] = lastRungValid;

        var local = Pool.Merge(pools, this, count, unitTarget, exclude);
        var all = comm.AllGather<Entry>(local.Entries.ToArray());
        var merged = new Pool(this, count, unitTarget, exclude);
        merged.AddRange(all);
        return merged.Best(count).Select(e => e.Key).ToList();
    }

    /// <summary>This rank's contiguous share of the last rung's new parents, balanced by their number of partners.</summary>
    private (int From, int To) ShareOfLastRung(int newStart, int newEnd)
    {
        // Partners of i: the parents light enough for it that are older than the new ones or newer than i.
        long Partners(int i)
        {
            var list = PartnersWithin(maxOperators == int.MaxValue ? int.MaxValue : maxOperators - 1 - operatorCounts[i]);
            int older = LowerBound(list, newStart), after = LowerBound(list, i + 1), end = LowerBound(list, newEnd);
            return older + Math.Max(0, end - after) + 1;
        }

        var weights = new long[newEnd - newStart];
        long total = 0;
        for (int i = newStart; i < newEnd; i++) total += weights[i - newStart] = Partners(i);
        long before = 0;
        int from = newStart, to = newEnd;
        for (int i = newStart; i < newEnd; i++)
        {
            if (before * comm.Size < total * comm.Rank) from = i + 1;
            if (before * comm.Size < total * (comm.Rank + 1)) to = i + 1;
            before += weights[i - newStart];
        }

        return comm.Rank == 0 ? (newStart, to) : (Math.Min(from, to), to);
    }

    private static int LowerBound(int[] sorted, int value)
    {
        int index = Array.BinarySearch(sorted, value);
        return index >= 0 ? index : ~index;
    }

    private sealed class Worker(Pool pool, double[] paddedTarget)
    {
        public readonly Pool Pool = pool;
        public readonly double[] Target = paddedTarget;
        public readonly CandidateSums[] Sums = new CandidateSums[3];
        public double[] Scratch = [];
        public long Scored, Valid;
    }

    private readonly ConcurrentDictionary<int, int[]> partnersByBudget = new();

    /// <summary>Parents with at most <paramref name="budget"/> operators, in order (all of them when unbounded).</summary>
    private int[] PartnersWithin(int budget) => partnersByBudget.GetOrAdd(Math.Min(budget, int.MaxValue - 1),
        b => Enumerable.Range(0, parents.Count).Where(j => operatorCounts[j] <= b).ToArray());

    /// <summary>New parents extended together: each partner column is read once per tile, from L1, not once per parent.</summary>
    private const int TileSize = 8;

    /// <summary>Scores every last-rung candidate built on the new parents [first, end); offers those that may reach the pool exactly.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void ScanLastRung(int first, int end, int newStart, int newEnd, Worker worker)
    {
        cancel.ThrowIfCancellationRequested();
        if (worker.Scratch.Length != stride) worker.Scratch = new double[stride];
        for (int i = first; i < end; i++)
        {
            var p = parents[i];
            var a = values.AsSpan(i * stride, stride);
            foreach (var op in unary)
            {
                if (!UnaryAllowed(op, p)) continue;
                var f = worker.Scratch;
                for (int k = 0; k < stride; k++) f[k] = ExprSemantics.Unary(op, a[k]);
                Consider(PairScreening.Single(f, worker.Target), new Key(op, i, -1), worker);
            }
        }

        var sums = worker.Sums;
        bool sumGroup = add || subtract || absDiff;
        // Partners: every older parent, and the new ones after i (the new ones up to i pair with i elsewhere); with an
        // operator limit only those light enough for the lightest parent of the tile.
        int lightest = int.MaxValue;
        for (int i = first; i < end; i++) lightest = Math.Min(lightest, operatorCounts[i]);
        var partners = PartnersWithin(maxOperators == int.MaxValue ? int.MaxValue : maxOperators - 1 - lightest);
        foreach (int j in partners)
        {
            if (j >= newStart && j <= first) continue;
            if (j >= newEnd) break;
            var b = values.AsSpan(j * stride, stride);
            var inverseB = reciprocals.AsSpan(j * stride, stride);
            int unitB = unitIds[j], operatorsB = operatorCounts[j];
            for (int i = first; i < end && (j < newStart || i < j); i++)
            {
                if (operatorCounts[i] + operatorsB + 1 > maxOperators) continue;
                var a = values.AsSpan(i * stride, stride);
                if (sumGroup && unitIds[i] == unitB)
                {
                    PairScreening.SumGroup(a, b, worker.Target, sums);
                    if (add) Consider(sums[0], new Key(ExprOpCode.Add, i, j), worker);
                    if (subtract) Consider(sums[1], new Key(ExprOpCode.Sub, i, j), worker);
                    if (absDiff) Consider(sums[2], new Key(ExprOpCode.AbsDiff, i, j), worker);
                }

                var (iOverJ, jOverI) = Quotients(i, j, lastRung: true);
                if (multiply || iOverJ || jOverI)
                {
                    PairScreening.ProductGroup(a, b, reciprocals.AsSpan(i * stride, stride), inverseB, worker.Target, sums);
                    if (multiply) Consider(sums[0], new Key(ExprOpCode.Mul, i, j), worker);
                    if (iOverJ) Consider(sums[1], new Key(ExprOpCode.Div, i, j), worker);
                    if (jOverI) Consider(sums[2], new Key(ExprOpCode.Div, j, i), worker);
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Consider(in CandidateSums sums, Key key, Worker worker)
    {
        worker.Scored++;
        // Counted as SISSO counts (not constant to 1e-8, finite); an rms spread of 1e-8 stands in for its max spread.
        double spread = sums.CentredSumOfSquares(n);
        if (double.IsFinite(spread) && spread > n * TieTolerance * TieTolerance) worker.Valid++;
        // The fused score is within round-off of the exact one; candidates near the bar are rescored exactly.
        double fast = sums.Correlation(n);
        if (fast >= worker.Pool.Threshold - 1e-9) worker.Pool.Offer(key);
    }

    /// <summary>Centred unit vector of the target, or null when it is constant.</summary>
    private static double[]? CenteredUnit(double[] v)
    {
        double mean = v.Average(), norm = 0;
        foreach (var x in v) norm += (x - mean) * (x - mean);
        norm = Math.Sqrt(norm);
        if (!(norm > 1e-300)) return null;
        return v.Select(x => (x - mean) / norm).ToArray();
    }

    /// <summary>
    /// A bounded set of the best candidates so far, deduplicated as SISSO does when it fills up (it keeps twice the
    /// subspace size, as SISSO's serial code does); the bar rises to the last kept score.
    /// </summary>
    private sealed class Pool
    {
        private readonly ExhaustiveSpace space;
        private readonly int keep, capacity;
        private readonly double[] target;
        private readonly IReadOnlySet<Key> exclude;
        private readonly double[] scratch;
        private List<Entry> entries = new();

        public Pool(ExhaustiveSpace space, int count, double[] target, IReadOnlySet<Key> exclude)
        {
            this.space = space;
            this.target = target;
            this.exclude = exclude;
            keep = 2 * count;
            capacity = 4 * count + 64;
            scratch = new double[space.n];
        }

        public double Threshold { get; private set; } = double.NegativeInfinity;

        public IReadOnlyList<Entry> Entries => entries;

        public void Offer(Key key)
        {
            if (exclude.Contains(key)) return;
            space.Evaluate(key, scratch);
            if (!IsValid(scratch, out double maxAbs) || maxAbs < space.options.SelectableMin || maxAbs > space.options.SelectableMax) return;
            double score = ExactScore(scratch);
            if (score < Threshold) return;
            entries.Add(new Entry(score, key.Op, key.A, key.B, space.OperatorsOf(key)));
            if (entries.Count >= capacity) Compact();
        }

        public void AddRange(IEnumerable<Entry> more)
        {
            entries.AddRange(more);
            Compact();
        }

        /// <summary>SISSO's score: |Σ (f - mean) t| / ||f - mean|| with t the centred unit target.</summary>
        private double ExactScore(double[] f)
        {
            double mean = 0;
            foreach (var v in f) mean += v;
            mean /= f.Length;
            double norm = 0, dot = 0;
            for (int k = 0; k < f.Length; k++)
            {
                double c = f[k] - mean;
                norm += c * c;
                dot += c * target[k];
            }

            norm = Math.Sqrt(norm);
            return norm > ZeroMagnitude ? Math.Abs(dot) / norm : 0;
        }

        private void Compact()
        {
            entries = Ranked(entries);
            if (entries.Count > keep) entries.RemoveRange(keep, entries.Count - keep);
            if (entries.Count == keep) Threshold = entries[^1].Score;
        }

        public List<Entry> Best(int count)
        {
            var ranked = Ranked(entries);
            return ranked.Take(count).ToList();
        }

        /// <summary>
        /// Best first: by score, ties (within 1e-8) won by the simpler feature, duplicates of a better feature dropped.
        /// Deterministic for a set of entries, whatever order they came in.
        /// </summary>
        private List<Entry> Ranked(List<Entry> list)
        {
            var distinct = list.DistinctBy(e => e.Key).OrderByDescending(e => e.Score).ThenBy(e => e.Op).ThenBy(e => e.A).ThenBy(e => e.B).ToList();
            var names = new Dictionary<Key, string>();
            string Name(Entry e) => names.TryGetValue(e.Key, out var s) ? s : names[e.Key] = space.NameOf(e.Key);
            // Ties: runs of scores within the tolerance of the run's best, ordered by simplicity.
            for (int start = 0; start < distinct.Count;)
            {
                int end = start + 1;
                while (end < distinct.Count && distinct[start].Score - distinct[end].Score <= TieTolerance) end++;
                if (end - start > 1)
                {
                    var run = distinct.GetRange(start, end - start);
                    run.Sort((x, y) => x.Key == y.Key ? 0 : Simpler(x.Operators, Name(x), y.Operators, Name(y)) ? -1 : 1);
                    for (int r = 0; r < run.Count; r++) distinct[start + r] = run[r];
                }

                start = end;
            }

            var kept = new List<Entry>();
            var columns = new Dictionary<Key, double[]>();
            double[] ColumnOf(Entry e) => columns.TryGetValue(e.Key, out var c) ? c : columns[e.Key] = space.Values(e.Key);
            foreach (var e in distinct)
            {
                bool duplicate = false;
                for (int k = kept.Count - 1; k >= 0 && kept[k].Score - e.Score <= 2 * TieTolerance; k--)
                    if (Math.Abs(kept[k].Score - e.Score) <= TieTolerance && Math.Abs(Correlation(ColumnOf(kept[k]), ColumnOf(e))) > EquivalentCorrelation)
                    {
                        duplicate = true;
                        break;
                    }

                if (!duplicate) kept.Add(e);
            }

            return kept;
        }

        public static Pool Merge(IEnumerable<Pool> pools, ExhaustiveSpace space, int count, double[] target, IReadOnlySet<Key> exclude)
        {
            var merged = new Pool(space, count, target, exclude);
            merged.AddRange(pools.SelectMany(p => p.entries));
            return merged;
        }
    }
}
