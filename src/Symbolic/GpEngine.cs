using System.Diagnostics;
using SaGatSr.Kernels.Expressions;

namespace SaGatSr.Symbolic;

/// <summary>
/// Genetic programming with islands on a ring, tournament selection, subtree crossover, point/subtree/hoist/constant
/// mutation, batched hill-climbing constant optimisation and a parsimony penalty. Fitness uses linear scaling
/// (Keijzer 2003): each tree t is scored as the least-squares a + b*t, so the search finds shapes, not offsets.
/// A whole generation of every island is evaluated as one batch. Deterministic for a seed: islands have their own
/// random streams and evaluation does not depend on thread timing. The formulas returned get a final least-squares
/// refit of all their constants (<see cref="ConstantFit"/>).
/// </summary>
internal sealed class GpEngine
{
    private const double ConstantProbability = 0.25;
    private const int ConstantTuningCandidates = 4;
    private const int ConstantTuningTrials = 6;

    private readonly FeatureTable table;
    private readonly double[] y;
    private readonly SrOptions options;
    private readonly IProgress<SrProgress>? progress;
    private readonly CancellationToken cancel;
    private readonly Stopwatch clock;
    private readonly IExprBatchEvaluator evaluator;
    private readonly bool ownsEvaluator;
    private readonly ExprOpCode[] unary, binary;
    private readonly int n, maxTreeSize;
    private readonly double yMean, yTotal;
    private readonly Dictionary<int, (Expr Tree, double Loss)> hallOfFame = new();
    private long evaluations;

    private sealed class Individual(Expr tree)
    {
        public Expr Tree = tree;
        public double Loss = double.PositiveInfinity;
        public double Fitness = double.PositiveInfinity;
    }

    public GpEngine(FeatureTable table, double[] y, SrOptions options, IProgress<SrProgress>? progress, CancellationToken cancel,
        Stopwatch clock, IExprBatchEvaluator? device)
    {
        this.table = table;
        this.y = y;
        this.options = options;
        this.progress = progress;
        this.cancel = cancel;
        this.clock = clock;
        (unary, binary) = Operators.Split(options.Operators);
        if (binary.Length == 0 && unary.Length == 0) throw new ArgumentException("GP needs at least one operator.");
        n = table.SampleCount;
        // The scaled model a + b*t adds 4 nodes.
        maxTreeSize = Math.Max(1, options.MaxComplexity - 4);
        yMean = y.Average();
        yTotal = y.Sum(v => (v - yMean) * (v - yMean));
        if (device is null)
        {
            evaluator = new SimdBatchEvaluator();
            evaluator.SetData(table.Columns.Select(c => c.Select(v => (float)v).ToArray()).ToArray());
            ownsEvaluator = true;
        }
        else
        {
            evaluator = device;
            if (device is IlgpuExprEvaluator ilgpu)
                ilgpu.Mode = options.GpDeviceKernel == "emitted" ? ExprKernelMode.Emitted : ExprKernelMode.Interpreted;
        }
    }

    public long Evaluations => evaluations;

    public List<Formula> Run()
    {
        try
        {
            return Search();
        }
        finally
        {
            if (ownsEvaluator) evaluator.Dispose();
        }
    }

    private List<Formula> Search()
    {
        // Not HashCode.Combine: it is randomised per process, and a seed must give the same run in every process.
        var randoms = Enumerable.Range(0, options.Islands).Select(i => new Random(unchecked(options.Seed * 1_000_003 + i))).ToArray();
        var islands = randoms.Select(r => Enumerable.Range(0, options.PopulationSize).Select(k => new Individual(RandomTree(r, 2 + k % 4, k % 2 == 0))).ToList()).ToArray();
        EvaluateAll(islands.SelectMany(i => i).ToList());
        for (int generation = 1; generation <= options.Generations; generation++)
        {
            cancel.ThrowIfCancellationRequested();
            if (clock.Elapsed > options.TimeLimit) break;
            for (int i = 0; i < islands.Length; i++) islands[i] = Breed(islands[i], randoms[i]);
            EvaluateAll(islands.SelectMany(i => i).ToList());
            for (int i = 0; i < islands.Length; i++) TuneConstants(islands[i], randoms[i]);
            if (options.Islands > 1 && generation % options.MigrationInterval == 0) Migrate(islands);
            if (generation % 5 == 0 || generation == options.Generations)
            {
                var best = hallOfFame.Values.MinBy(h => h.Loss);
                progress?.Report(new SrProgress("gp", (double)generation / options.Generations,
                    $"generation {generation}: best 1-R2 {best.Loss:G4}, {hallOfFame.Count} complexities on the front"));
            }
        }

        return hallOfFame.Values.Select(h => ToFormula(h.Tree)).Where(f => f is not null).Select(f => f!).ToList();
    }

    private Formula? ToFormula(Expr tree)
    {
        var t = tree.Evaluate(table.Columns, n);
        var (a, b, _) = Scale(t);
        if (!double.IsFinite(a)) return null;
        Expr model = b == 0 ? Expr.Const(a) : Expr.Binary(ExprOpCode.Add, Expr.Const(a), Expr.Binary(ExprOpCode.Mul, Expr.Const(b), tree));
        model = ConstantFit.Refine(model, table.Columns, y);
        return new Formula(model, table.Names, model.Evaluate(table.Columns, n), y);
    }

    /// <summary>Linear scaling a + b*t in float64; returns its normalised squared error (1 - R^2).</summary>
    private (double A, double B, double Nmse) Scale(ReadOnlySpan<double> t)
    {
        double mean = 0;
        for (int i = 0; i < n; i++)
        {
            if (!double.IsFinite(t[i])) return (double.NaN, 0, double.PositiveInfinity);
            mean += t[i];
        }

        mean /= n;
        double cov = 0, var = 0;
        for (int i = 0; i < n; i++)
        {
            double c = t[i] - mean;
            cov += c * (y[i] - yMean);
            var += c * c;
        }

        if (!(var > 1e-12 * n * Math.Max(1, mean * mean)) || !double.IsFinite(var)) return (yMean, 0, 1);
        double b = cov / var, a = yMean - b * mean;
        double sse = 0;
        for (int i = 0; i < n; i++)
        {
            double r = y[i] - a - b * t[i];
            sse += r * r;
        }

        return (a, b, yTotal > 0 ? sse / yTotal : sse);
    }

    private void EvaluateAll(List<Individual> population)
    {
        var constants = new List<double>();
        var programs = population.Select(p => p.Tree.ToProgram(constants)).ToList();
        var fits = new LinearFit[programs.Count];
        evaluator.FitLinear(programs, constants.Select(c => (float)c).ToArray(), y, fits);
        evaluations += programs.Count;
        for (int k = 0; k < population.Count; k++)
        {
            var p = population[k];
            p.Loss = yTotal > 0 ? fits[k].SumSquaredResiduals / yTotal : fits[k].SumSquaredResiduals;
            p.Fitness = p.Loss + options.Parsimony * p.Tree.Size;
            Record(p);
        }
    }

    private void Record(Individual p)
    {
        if (!double.IsFinite(p.Loss)) return;
        int size = p.Tree.Size;
        if (!hallOfFame.TryGetValue(size, out var current) || p.Loss < current.Loss) hallOfFame[size] = (p.Tree, p.Loss);
    }

    private List<Individual> Breed(List<Individual> population, Random random)
    {
        var next = new List<Individual>(population.Count) { new(population.MinBy(p => p.Fitness)!.Tree) };
        while (next.Count < population.Count)
        {
            double roll = random.NextDouble();
            Expr child;
            if (roll < options.CrossoverRate) child = Crossover(Tournament(population, random).Tree, Tournament(population, random).Tree, random);
            else if (roll < options.CrossoverRate + options.MutationRate) child = Mutate(Tournament(population, random).Tree, random);
            else child = Tournament(population, random).Tree;
            if (child.Size > maxTreeSize) child = Tournament(population, random).Tree;
            next.Add(new Individual(child));
        }

        return next;
    }

    private Individual Tournament(List<Individual> population, Random random)
    {
        var best = population[random.Next(population.Count)];
        for (int t = 1; t < options.TournamentSize; t++)
        {
            var c = population[random.Next(population.Count)];
            if (c.Fitness < best.Fitness) best = c;
        }

        return best;
    }

    private Expr RandomTerminal(Random random) => random.NextDouble() < ConstantProbability
        ? Expr.Const(Math.Round(random.NextDouble() * 4 - 2, 3))
        : Expr.Var(random.Next(table.Columns.Length));

    /// <summary>Grow (full = false) or full tree of the given depth.</summary>
    private Expr RandomTree(Random random, int depth, bool full)
    {
        if (depth <= 1 || (!full && random.NextDouble() < 0.3)) return RandomTerminal(random);
        bool useUnary = binary.Length == 0 || (unary.Length > 0 && random.NextDouble() < 0.25);
        return useUnary
            ? Expr.Unary(unary[random.Next(unary.Length)], RandomTree(random, depth - 1, full))
            : Expr.Binary(binary[random.Next(binary.Length)], RandomTree(random, depth - 1, full), RandomTree(random, depth - 1, full));
    }

    private static Expr Replace(Expr tree, int index, Expr replacement)
    {
        if (index == 0) return replacement;
        index--;
        int leftSize = tree.Left!.Size;
        return index < leftSize
            ? tree.WithChildren(Replace(tree.Left, index, replacement), tree.Right)
            : tree.WithChildren(tree.Left, Replace(tree.Right!, index - leftSize, replacement));
    }

    private static Expr NodeAt(Expr tree, int index)
    {
        while (index > 0)
        {
            index--;
            if (index < tree.Left!.Size) tree = tree.Left;
            else
            {
                index -= tree.Left.Size;
                tree = tree.Right!;
            }
        }

        return tree;
    }

    private static Expr Crossover(Expr a, Expr b, Random random) =>
        Replace(a, random.Next(a.Size), NodeAt(b, random.Next(b.Size)));

    private Expr Mutate(Expr tree, Random random)
    {
        int at = random.Next(tree.Size);
        var node = NodeAt(tree, at);
        switch (random.Next(4))
        {
            case 0: // point mutation keeps the shape
                if (node.Op == ExprOpCode.Constant) return Replace(tree, at, Expr.Const(node.Value * (1 + 0.3 * Gaussian(random)) + 0.05 * Gaussian(random)));
                if (node.IsLeaf) return Replace(tree, at, RandomTerminal(random));
                if (node.Right is null && unary.Length > 0) return Replace(tree, at, Expr.Unary(unary[random.Next(unary.Length)], node.Left!));
                if (node.Right is not null && binary.Length > 0) return Replace(tree, at, Expr.Binary(binary[random.Next(binary.Length)], node.Left!, node.Right));
                return tree;
            case 1: // hoist: a subtree replaces its ancestor, shrinking bloat
                return Replace(tree, at, NodeAt(node, random.Next(node.Size)));
            case 2: // wrap in an operator
                return binary.Length > 0
                    ? Replace(tree, at, Expr.Binary(binary[random.Next(binary.Length)], node, RandomTree(random, 2, false)))
                    : Replace(tree, at, Expr.Unary(unary[random.Next(unary.Length)], node));
            default:
                return Replace(tree, at, RandomTree(random, 1 + random.Next(3), false));
        }
    }

    /// <summary>Batched hill climbing on the constants of the best few trees of an island.</summary>
    private void TuneConstants(List<Individual> population, Random random)
    {
        var targets = population.Where(p => double.IsFinite(p.Loss) && p.Tree.Nodes().Any(e => e.Op == ExprOpCode.Constant))
            .OrderBy(p => p.Fitness).Take(ConstantTuningCandidates).ToList();
        if (targets.Count == 0) return;
        var trials = new List<Individual>();
        var owners = new List<Individual>();
        foreach (var p in targets)
            for (int t = 0; t < ConstantTuningTrials; t++)
            {
                double step = t < ConstantTuningTrials / 2 ? 0.3 : 0.03;
                trials.Add(new Individual(PerturbConstants(p.Tree, random, step)));
                owners.Add(p);
            }

        EvaluateAll(trials);
        for (int k = 0; k < trials.Count; k++)
            if (trials[k].Fitness < owners[k].Fitness)
            {
                owners[k].Tree = trials[k].Tree;
                owners[k].Loss = trials[k].Loss;
                owners[k].Fitness = trials[k].Fitness;
            }
    }

    private static Expr PerturbConstants(Expr e, Random random, double step) => e.Op switch
    {
        ExprOpCode.Constant => Expr.Const(e.Value * (1 + step * Gaussian(random)) + step * 0.1 * Gaussian(random)),
        _ when e.IsLeaf => e,
        _ => e.WithChildren(PerturbConstants(e.Left!, random, step), e.Right is null ? null : PerturbConstants(e.Right, random, step)),
    };

    private static double Gaussian(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());

    private static void Migrate(List<Individual>[] islands)
    {
        int migrants = Math.Max(1, islands[0].Count / 20);
        // Emigrants are chosen before any island changes, so the ring order does not matter.
        var emigrants = islands.Select(island => island.OrderBy(p => p.Fitness).Take(migrants)
            .Select(p => new Individual(p.Tree) { Loss = p.Loss, Fitness = p.Fitness }).ToList()).ToArray();
        for (int i = 0; i < islands.Length; i++)
        {
            var target = islands[(i + 1) % islands.Length];
            var worst = target.Select((p, k) => (p.Fitness, k)).OrderByDescending(p => p.Fitness).ThenBy(p => p.k).Take(migrants).Select(p => p.k).ToList();
            for (int m = 0; m < worst.Count; m++) target[worst[m]] = emigrants[i][m];
        }
    }
}
