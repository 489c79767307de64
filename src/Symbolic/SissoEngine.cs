using System.Diagnostics;
using SaGatSr.Kernels.Expressions;
using SaGatSr.Mpi;

namespace SaGatSr.Symbolic;

/// <summary>
/// SISSO: a feature space grown from the primary features by operators over rungs, sure independence screening
/// against the target (then the residual of the best model so far), and an exhaustive L0 search for the best
/// 1..MaxTerms-term linear model over the union of screened subspaces.
/// The space is streamed, never stored: each candidate is recomputed from its parents when screened, so memory stays
/// O(parents + subspace). Growth is bounded: rung r &gt;= 2 only extends the primaries plus the RungParentLimit
/// best-screened lower-rung features (a documented departure from SISSO, which extends everything); with
/// <see cref="SrOptions.Exhaustive"/> the space is SISSO's own (<see cref="ExhaustiveSpace"/>).
/// Under MPI, ranks split the scoring of the space and the L0 search and exchange only scores and the best models, so
/// every rank holds the same subspaces and the result equals the one-rank result.
/// </summary>
internal sealed class SissoEngine
{
    private const int ModelsKeptPerDimension = 12;
    private const int ChunkSize = 512;

    private readonly FeatureTable table;
    private readonly double[] y;
    private readonly SrOptions options;
    private readonly IProgress<SrProgress>? progress;
    private readonly CancellationToken cancel;
    private readonly Stopwatch clock;
    private readonly IExprBatchEvaluator? device;
    private readonly Communicator comm;
    private readonly int n;

    // Parents: every feature that candidates are built from, with float64 values.
    private readonly List<Expr> parentExprs = new();
    private readonly List<double[]> parentValues = new();
    private readonly List<Unit> parentUnits = new();
    private readonly List<Spec> specs = new();
    private long evaluations;

    private readonly record struct Spec(ExprOpCode Op, int A, int B);

    public SissoEngine(FeatureTable table, double[] y, SrOptions options, IProgress<SrProgress>? progress, CancellationToken cancel,
        Stopwatch clock, IExprBatchEvaluator? device, Communicator comm)
    {
        this.comm = comm;
        this.table = table;
        this.y = y;
        this.options = options;
        this.progress = progress;
        this.cancel = cancel;
        this.clock = clock;
        this.device = device;
        n = table.SampleCount;
    }

    /// <summary>Candidates scored by this rank.</summary>
    public long Evaluations => evaluations;

    /// <summary>Features in the space (all rungs, as SISSO counts them), known after the first screening.</summary>
    public long SpaceSize { get; private set; }

    /// <summary>The screened subspaces in selection order: model dimension, feature, |correlation| with what it was screened against.</summary>
    public List<(int Dimension, Expr Feature, double Score)> Subspaces { get; } = new();

    /// <summary>Seconds spent building the space (including rung-parent screening), screening, and in the L0 search.</summary>
    public Dictionary<string, double> StageSeconds { get; } = new() { ["space"] = 0, ["screen"] = 0, ["l0"] = 0 };

    private T Timed<T>(string stage, Func<T> work)
    {
        var watch = Stopwatch.StartNew();
        try { return work(); }
        finally { StageSeconds[stage] += watch.Elapsed.TotalSeconds; }
    }

    private bool OutOfTime => clock.Elapsed > options.TimeLimit;

    public List<Formula> Run()
    {
        var (unary, binary) = Operators.Split(options.Operators);
        int subspaceSize = options.SubspaceSize > 0 ? options.SubspaceSize : 100;
        for (int f = 0; f < table.Columns.Length; f++)
        {
            parentExprs.Add(Expr.Var(f));
            parentValues.Add(table.Columns[f]);
            parentUnits.Add(options.Units?.TryGetValue(table.Names[f], out var unit) == true ? Unit.Parse(unit) : Unit.Dimensionless);
        }

        if (options.Units is not null)
            foreach (var name in options.Units.Keys)
                table.IndexOf(name);

        ExhaustiveSpace? exhaustive = null;
        if (options.Exhaustive)
        {
            exhaustive = new ExhaustiveSpace(table, options, comm, progress, cancel);
            Timed("space", () => { exhaustive.Build(); return 0; });
        }
        else Timed("space", () => { BuildFeatureSpace(unary, binary); return 0; });

        var formulas = new List<Formula> { MakeFormula(Expr.Const(y.Average())) };
        var subspace = new List<(Expr Expr, double[] Values)>();
        var subspaceKeys = new HashSet<string>();
        var selected = new HashSet<ExhaustiveSpace.Key>();
        var residual = (double[])y.Clone();
        for (int d = 1; d <= options.MaxTerms; d++)
        {
            cancel.ThrowIfCancellationRequested();
            if (d > 1 && comm.AllReduce(OutOfTime ? 1L : 0L, ReduceOp.Max) > 0) break;
            string against = d == 1 ? "target" : "residual";
            progress?.Report(new SrProgress("sisso-screen", 0.2 + 0.8 * (d - 1.0) / options.MaxTerms, exhaustive is null
                ? $"screening {TotalCandidates:N0} features against the {against} for {d}-term models"
                : $"screening the exhaustive space ({exhaustive.ParentCount:N0} parents) against the {against} for {d}-term models"));
            if (exhaustive is null)
                foreach (var picked in Timed("screen", () => Screen(residual, subspaceSize, subspaceKeys)))
                {
                    subspace.Add(picked);
                    subspaceKeys.Add(picked.Expr.ToString());
                }
            else
            {
                foreach (var key in Timed("screen", () => exhaustive.Screen(residual, subspaceSize, selected)))
                {
                    selected.Add(key);
                    subspace.Add((exhaustive.ExprOf(key), exhaustive.Values(key)));
                }

                SpaceSize = exhaustive.RungSizes.Sum();
                evaluations = exhaustive.Scored;
            }

            var screenedAgainst = CenteredUnit(residual);
            foreach (var (expr, values) in subspace.Skip(Subspaces.Count))
                Subspaces.Add((d, expr, Score(values, screenedAgainst)));
            progress?.Report(new SrProgress("sisso-l0", 0.2 + 0.8 * (d - 0.5) / options.MaxTerms, $"exhaustive {d}-term search over {subspace.Count} screened features"));
            var models = Timed("l0", () => L0Search(subspace, d));
            if (models.Count == 0) break;
            foreach (var model in models) formulas.Add(MakeFormula(model));
            var best = models[0].Evaluate(table.Columns, n);
            for (int i = 0; i < n; i++) residual[i] = y[i] - best[i];
        }

        if (exhaustive is null) SpaceSize = TotalCandidates;
        progress?.Report(new SrProgress("sisso-done", 1, $"{formulas.Count} models scored"));
        return formulas;
    }

    private int TotalCandidates => parentExprs.Count + specs.Count;

    private Formula MakeFormula(Expr e) => new(e, table.Names, e.Evaluate(table.Columns, n), y);

    private void BuildFeatureSpace(ExprOpCode[] unary, ExprOpCode[] binary)
    {
        int primaries = parentExprs.Count;
        int newFrom = 0;
        for (int rung = 1; rung <= options.Rungs; rung++)
        {
            cancel.ThrowIfCancellationRequested();
            int rungStart = specs.Count;
            int parentCount = parentExprs.Count;
            for (int a = newFrom; a < parentCount; a++)
                foreach (var op in unary)
                    if (!Operators.IsRedundant(op, parentExprs[a]) && parentExprs[a].Size + 1 <= options.MaxFeatureComplexity
                        && Unit.Apply(op, parentUnits[a]) is not null)
                        specs.Add(new Spec(op, a, -1));
            for (int a = newFrom; a < parentCount; a++)
            for (int b = 0; b < parentCount; b++)
            {
                if (a == b || parentExprs[a].Size + parentExprs[b].Size + 1 > options.MaxFeatureComplexity) continue;
                // An unordered pair is generated once: by its larger index when both are new.
                bool bothNew = b >= newFrom;
                foreach (var op in binary)
                {
                    bool ordered = op == ExprOpCode.Div;
                    if (!ordered && bothNew && b < a) continue;
                    if (Unit.Apply(op, parentUnits[a], parentUnits[b]) is null) continue;
                    specs.Add(new Spec(op, a, b));
                }
            }

            progress?.Report(new SrProgress("sisso-space", 0.2 * rung / Math.Max(1, options.Rungs), $"rung {rung}: {specs.Count - rungStart:N0} new features ({TotalCandidates:N0} in all)"));
            if (rung == options.Rungs) break;

            // The next rung extends the best-correlated features of this one.
            var picked = ScreenRange(y, rungStart, specs.Count, options.RungParentLimit, new HashSet<string>());
            newFrom = parentExprs.Count;
            foreach (var (expr, values) in picked)
            {
                parentExprs.Add(expr);
                parentValues.Add(values);
                parentUnits.Add(UnitOf(expr));
            }

            if (primaries == parentExprs.Count) break;
        }
    }

    private Unit UnitOf(Expr e) => e.Op switch
    {
        ExprOpCode.Column => parentUnits[e.Feature],
        _ when e.Right is null => Unit.Apply(e.Op, UnitOf(e.Left!))!,
        _ => Unit.Apply(e.Op, UnitOf(e.Left!), UnitOf(e.Right))!,
    };

    private Expr ExprOf(Spec s) => s.B < 0 ? Expr.Unary(s.Op, parentExprs[s.A]) : Expr.Binary(s.Op, parentExprs[s.A], parentExprs[s.B]);

    /// <summary>Screens primaries and every generated feature.</summary>
    private List<(Expr Expr, double[] Values)> Screen(double[] target, int count, HashSet<string> exclude)
    {
        var primaryScores = new double[table.Columns.Length];
        var t = CenteredUnit(target);
        for (int f = 0; f < primaryScores.Length; f++) primaryScores[f] = Score(table.Columns[f], t);
        evaluations += primaryScores.Length;
        var specScores = ScoreSpecs(t, 0, specs.Count);
        var order = Enumerable.Range(0, primaryScores.Length + specScores.Length)
            .Select(i => (Index: i, Score: i < primaryScores.Length ? primaryScores[i] : specScores[i - primaryScores.Length]))
            .Where(p => p.Score > 0)
            .OrderByDescending(p => TieRank(p.Score)).ThenBy(p => p.Index);
        return TakeDistinct(order.Select(p => p.Index < primaryScores.Length ? Expr.Var(p.Index) : ExprOf(specs[p.Index - primaryScores.Length])), count, exclude);
    }

    private List<(Expr Expr, double[] Values)> ScreenRange(double[] target, int start, int end, int count, HashSet<string> exclude)
    {
        var scores = ScoreSpecs(CenteredUnit(target), start, end);
        var order = Enumerable.Range(0, scores.Length).Where(i => scores[i] > 0)
            .OrderByDescending(i => TieRank(scores[i])).ThenBy(i => i);
        return TakeDistinct(order.Select(i => ExprOf(specs[start + i])), count, exclude);
    }

    /// <summary>
    /// Scores equal up to round-off rank together, so the earlier (simpler: primaries, then lower rungs) of two features
    /// with the same values wins and the later is dropped as its duplicate, e.g. a*b before (a/x)*(b*x).
    /// </summary>
    private static double TieRank(double score) => Math.Round(score, 9);

    /// <summary>Walks candidates best-first, skipping excluded ones and value duplicates (equal up to affine maps).</summary>
    private List<(Expr Expr, double[] Values)> TakeDistinct(IEnumerable<Expr> ranked, int count, HashSet<string> exclude)
    {
        var result = new List<(Expr, double[])>();
        var seen = new HashSet<long>();
        foreach (var expr in ranked)
        {
            if (result.Count >= count) break;
            if (exclude.Contains(expr.ToString())) continue;
            var values = expr.Evaluate(table.Columns, n);
            var unit = CenteredUnit(values);
            if (unit.Length == 0 || !seen.Add(ValueHash(unit))) continue;
            result.Add((expr, values));
        }

        return result;
    }

    private static long ValueHash(double[] unit)
    {
        // Sign-normalised so f and -f (same span) collide. FNV-1a, not HashCode: that one is randomised per process,
        // and a collision here drops a feature, so it must not vary between runs.
        double sign = 1;
        foreach (var v in unit)
            if (Math.Abs(v) > 1e-9) { sign = Math.Sign(v); break; }
        ulong hash = 14695981039346656037;
        foreach (var v in unit)
        {
            hash ^= (ulong)(long)Math.Round(sign * v * 1e7);
            hash *= 1099511628211;
        }

        return (long)hash;
    }

    /// <summary>
    /// |Pearson correlation| of every spec in [start, end) with the centred unit target; 0 for invalid ones. Each rank
    /// scores a block of chunks and the scores are gathered, so every rank holds all of them.
    /// </summary>
    private double[] ScoreSpecs(double[] t, int start, int end)
    {
        var (firstChunk, endChunk) = comm.BlockRange((end - start + ChunkSize - 1) / ChunkSize);
        int myStart = Math.Min(end, start + firstChunk * ChunkSize), myEnd = Math.Min(end, start + endChunk * ChunkSize);
        var mine = ScoreSpecsHere(t, myStart, myEnd);
        return comm.Size == 1 ? mine : comm.AllGather<double>(mine);
    }

    private double[] ScoreSpecsHere(double[] t, int start, int end)
    {
        var scores = new double[end - start];
        int chunks = (end - start + ChunkSize - 1) / ChunkSize;
        if (device is not null)
        {
            var buffer = new float[ChunkSize * n];
            var values = new double[n];
            for (int c = 0; c < chunks; c++)
            {
                cancel.ThrowIfCancellationRequested();
                int from = start + c * ChunkSize, to = Math.Min(end, from + ChunkSize);
                var constants = new List<double>();
                var programs = new List<ExprProgram>(to - from);
                for (int s = from; s < to; s++) programs.Add(ExprOf(specs[s]).ToProgram(constants));
                device.Evaluate(programs, constants.Select(v => (float)v).ToArray(), buffer);
                for (int s = from; s < to; s++)
                {
                    for (int i = 0; i < n; i++) values[i] = buffer[(s - from) * n + i];
                    scores[s - start] = Score(values, t);
                }
            }
        }
        else
        {
            var columns = parentValues.ToArray();
            Parallel.For(0, chunks, new ParallelOptions { CancellationToken = cancel }, () => (new SimdExprEvaluator<double>(columns, n), new double[n]), (c, _, local) =>
            {
                int from = start + c * ChunkSize, to = Math.Min(end, from + ChunkSize);
                for (int s = from; s < to; s++)
                {
                    var spec = specs[s];
                    // Each candidate is one vector op over its parents' stored values.
                    var program = spec.B < 0
                        ? new ExprProgram([ExprInstruction.Col(spec.A), new ExprInstruction(spec.Op)])
                        : new ExprProgram([ExprInstruction.Col(spec.A), ExprInstruction.Col(spec.B), new ExprInstruction(spec.Op)]);
                    local.Item1.Evaluate(program, ReadOnlySpan<double>.Empty, local.Item2);
                    scores[s - start] = Score(local.Item2, t);
                }

                return local;
            }, _ => { });
        }

        Interlocked.Add(ref evaluations, end - start);
        return scores;
    }

    private static double[] CenteredUnit(double[] v)
    {
        double mean = 0;
        foreach (var x in v)
        {
            if (!double.IsFinite(x)) return [];
            mean += x;
        }

        mean /= v.Length;
        double norm = 0;
        foreach (var x in v) norm += (x - mean) * (x - mean);
        norm = Math.Sqrt(norm);
        if (!(norm > 1e-10 * Math.Sqrt(v.Length) * Math.Max(Math.Abs(mean), 1e-300)) || !double.IsFinite(norm)) return [];
        var result = new double[v.Length];
        for (int i = 0; i < v.Length; i++) result[i] = (v[i] - mean) / norm;
        return result;
    }

    private static double Score(double[] v, double[] centeredUnitTarget)
    {
        if (centeredUnitTarget.Length == 0) return 0;
        double mean = 0;
        for (int i = 0; i < v.Length; i++) mean += v[i];
        if (!double.IsFinite(mean)) return 0;
        mean /= v.Length;
        double dot = 0, norm = 0;
        for (int i = 0; i < v.Length; i++)
        {
            double c = v[i] - mean;
            dot += c * centeredUnitTarget[i];
            norm += c * c;
        }

        if (!double.IsFinite(norm) || !(norm > 1e-20 * v.Length * Math.Max(mean * mean, 1e-300))) return 0;
        return Math.Abs(dot) / Math.Sqrt(norm);
    }

    /// <summary>Best d-term least-squares models (with intercept), best first, by incremental Cholesky over subsets.</summary>
    private List<Expr> L0Search(List<(Expr Expr, double[] Values)> subspace, int d)
    {
        int m = subspace.Count;
        if (m < d) return [];
        var units = subspace.Select(s => CenteredUnit(s.Values)).ToArray();
        var yc = CenteredUnit(y);
        if (yc.Length == 0) return [];
        var gram = new double[m, m];
        var b = new double[m];
        Parallel.For(0, m, i =>
        {
            for (int j = 0; j <= i; j++)
            {
                double s = 0;
                for (int k = 0; k < n; k++) s += units[i][k] * units[j][k];
                gram[i, j] = gram[j, i] = s;
            }

            double t = 0;
            for (int k = 0; k < n; k++) t += units[i][k] * yc[k];
            b[i] = t;
        });
        var sizes = subspace.Select(s => s.Expr.Size).ToArray();
        // SISSO ranks models by error alone; the default engine also bounds their size.
        int budget = options.Exhaustive ? int.MaxValue : options.MaxComplexity - 1 - 3 * d;

        // Explained variance of the unit target = ||w||^2 where L w = b_S, L L^T = G_S.
        // Ranks take every Size-th first feature (the work per first feature falls with its index).
        var firsts = Enumerable.Range(0, m).Where(first => first % comm.Size == comm.Rank).ToArray();
        var perFirst = new List<(double Explained, int Size, int[] Subset)>[firsts.Length];
        Parallel.For(0, firsts.Length, new ParallelOptions { CancellationToken = cancel }, slot =>
        {
            int first = firsts[slot];
            var best = new List<(double, int, int[])>();
            var idx = new int[d];
            var l = new double[d, d];
            var w = new double[d];
            idx[0] = first;
            if (sizes[first] > budget) { perFirst[slot] = best; return; }
            l[0, 0] = 1;
            w[0] = b[first];
            Recurse(1, w[0] * w[0], sizes[first]);
            perFirst[slot] = best;

            void Recurse(int depth, double explained, int size)
            {
                if (depth == d)
                {
                    Insert(best, explained, size, idx);
                    return;
                }

                for (int next = idx[depth - 1] + 1; next < m; next++)
                {
                    if (size + sizes[next] > budget) continue;
                    double diag = 1;
                    for (int s = 0; s < depth; s++)
                    {
                        double v = gram[next, idx[s]];
                        for (int u = 0; u < s; u++) v -= l[depth, u] * l[s, u];
                        l[depth, s] = v / l[s, s];
                        diag -= l[depth, s] * l[depth, s];
                    }

                    if (diag < 1e-8) continue; // (nearly) collinear with the features already chosen
                    l[depth, depth] = Math.Sqrt(diag);
                    double wv = b[next];
                    for (int u = 0; u < depth; u++) wv -= l[depth, u] * w[u];
                    w[depth] = wv / l[depth, depth];
                    idx[depth] = next;
                    Recurse(depth + 1, explained + w[depth] * w[depth], size + sizes[next]);
                }
            }
        });

        var merged = new List<(double Explained, int Size, int[] Subset)>();
        foreach (var list in perFirst)
            foreach (var (e, size, subset) in list)
                Insert(merged, e, size, subset);
        if (comm.Size > 1) merged = MergeAcrossRanks(merged, d);
        return merged.Select(m2 => BuildModel(subspace, m2.Subset)).Where(e => e is not null).Select(e => e!).ToList();
    }

    /// <summary>Every rank's best models, merged in the same order on every rank.</summary>
    private List<(double Explained, int Size, int[] Subset)> MergeAcrossRanks(List<(double Explained, int Size, int[] Subset)> mine, int d)
    {
        var packed = new double[mine.Count * (2 + d)];
        for (int k = 0; k < mine.Count; k++)
        {
            packed[k * (2 + d)] = mine[k].Explained;
            packed[k * (2 + d) + 1] = mine[k].Size;
            for (int j = 0; j < d; j++) packed[k * (2 + d) + 2 + j] = mine[k].Subset[j];
        }

        var all = comm.AllGather<double>(packed);
        var merged = new List<(double Explained, int Size, int[] Subset)>();
        for (int at = 0; at < all.Length; at += 2 + d)
            Insert(merged, all[at], (int)all[at + 1], all.AsSpan(at + 2, d).ToArray().Select(v => (int)v).ToArray());
        return merged;
    }

    /// <summary>Explained-variance differences below this (the unit target's round-off) are ties, won by the simpler model.</summary>
    private const double ExplainedTolerance = 1e-10;

    /// <summary>
    /// More explained variance, then (within round-off) the smaller model, then the earlier subset: a total order, so the
    /// kept models do not depend on how the search was split between threads or ranks.
    /// </summary>
    private static bool Better(double explained, int size, int[] subset, double otherExplained, int otherSize, int[] otherSubset)
    {
        if (explained > otherExplained + ExplainedTolerance) return true;
        if (explained < otherExplained - ExplainedTolerance) return false;
        if (size != otherSize) return size < otherSize;
        for (int j = 0; j < subset.Length; j++)
            if (subset[j] != otherSubset[j]) return subset[j] < otherSubset[j];
        return false;
    }

    private static void Insert(List<(double Explained, int Size, int[] Subset)> best, double explained, int size, int[] subset)
    {
        if (best.Count == ModelsKeptPerDimension && !Better(explained, size, subset, best[^1].Explained, best[^1].Size, best[^1].Subset)) return;
        int at = best.Count;
        while (at > 0 && Better(explained, size, subset, best[at - 1].Explained, best[at - 1].Size, best[at - 1].Subset)) at--;
        best.Insert(at, (explained, size, (int[])subset.Clone()));
        if (best.Count > ModelsKeptPerDimension) best.RemoveAt(best.Count - 1);
    }

    /// <summary>Refits c0 + sum c_j f_j by float64 least squares on the raw values and builds the expression.</summary>
    private Expr? BuildModel(List<(Expr Expr, double[] Values)> subspace, int[] subset)
    {
        int d = subset.Length;
        var coefficients = LeastSquares.Fit(subset.Select(i => subspace[i].Values).ToArray(), y);
        if (coefficients is null) return null;
        Expr model = Expr.Const(coefficients[0]);
        for (int j = 0; j < d; j++)
            model = Expr.Binary(ExprOpCode.Add, model, Expr.Binary(ExprOpCode.Mul, Expr.Const(coefficients[j + 1]), subspace[subset[j]].Expr));
        return model;
    }
}

/// <summary>Small dense least squares in float64.</summary>
internal static class LeastSquares
{
    /// <summary>Returns [intercept, c_1..c_d] minimising ||y - c0 - sum c_j x_j||, or null when singular.</summary>
    public static double[]? Fit(double[][] x, double[] y)
    {
        int d = x.Length, n = y.Length, p = d + 1;
        // Centring removes the intercept from the normal equations and improves their conditioning.
        var means = x.Select(c => c.Average()).ToArray();
        double yMean = y.Average();
        var a = new double[d, d];
        var rhs = new double[d];
        for (int i = 0; i < d; i++)
        {
            for (int j = 0; j <= i; j++)
            {
                double s = 0;
                for (int k = 0; k < n; k++) s += (x[i][k] - means[i]) * (x[j][k] - means[j]);
                a[i, j] = a[j, i] = s;
            }

            double t = 0;
            for (int k = 0; k < n; k++) t += (x[i][k] - means[i]) * (y[k] - yMean);
            rhs[i] = t;
        }

        var solution = Solve(a, rhs);
        if (solution is null) return null;
        var result = new double[p];
        result[0] = yMean;
        for (int j = 0; j < d; j++)
        {
            result[j + 1] = solution[j];
            result[0] -= solution[j] * means[j];
        }

        return result;
    }

    /// <summary>Gaussian elimination with partial pivoting; null when (nearly) singular.</summary>
    public static double[]? Solve(double[,] a, double[] b)
    {
        int d = b.Length;
        var m = (double[,])a.Clone();
        var v = (double[])b.Clone();
        double scale = 0;
        for (int i = 0; i < d; i++) scale = Math.Max(scale, Math.Abs(m[i, i]));
        for (int col = 0; col < d; col++)
        {
            int pivot = col;
            for (int r = col + 1; r < d; r++)
                if (Math.Abs(m[r, col]) > Math.Abs(m[pivot, col])) pivot = r;
            if (!(Math.Abs(m[pivot, col]) > 1e-13 * scale)) return null;
            if (pivot != col)
            {
                for (int c = 0; c < d; c++) (m[col, c], m[pivot, c]) = (m[pivot, c], m[col, c]);
                (v[col], v[pivot]) = (v[pivot], v[col]);
            }

            for (int r = col + 1; r < d; r++)
            {
                double f = m[r, col] / m[col, col];
                for (int c = col; c < d; c++) m[r, c] -= f * m[col, c];
                v[r] -= f * v[col];
            }
        }

        var x = new double[d];
        for (int r = d - 1; r >= 0; r--)
        {
            double s = v[r];
            for (int c = r + 1; c < d; c++) s -= m[r, c] * x[c];
            x[r] = s / m[r, r];
        }

        return x;
    }
}
