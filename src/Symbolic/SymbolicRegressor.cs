using System.Diagnostics;
using SaGatSr.Kernels.Expressions;
using SaGatSr.Mpi;

namespace SaGatSr.Symbolic;

/// <summary>Library entry point of symbolic regression (the CLI's `sagatsr sr`).</summary>
public static class SymbolicRegressor
{
    /// <param name="comm">
    /// Ranks that share the search (each must call Fit with the same data and options); null: this process alone. The
    /// SISSO engine splits its screening and L0 search between them; GP runs whole on every rank (same result).
    /// </param>
    public static SrResult Fit(FeatureTable x, double[] y, SrOptions options, IProgress<SrProgress>? progress = null,
        CancellationToken cancel = default, Communicator? comm = null)
    {
        comm ??= Communicator.Self;
        options.Validate();
        if (y.Length != x.SampleCount) throw new ArgumentException($"The target has {y.Length} values but the table has {x.SampleCount} samples.");
        if (x.SampleCount < 2) throw new ArgumentException("Symbolic regression needs at least 2 samples.");
        if (x.Columns.Length == 0) throw new ArgumentException("The table has no features.");
        for (int i = 0; i < y.Length; i++)
            if (!double.IsFinite(y[i])) throw new ArgumentException($"Target value {i} is {y[i]}; every target must be finite.");

        var clock = Stopwatch.StartNew();
        using var device = options.Device.Trim().ToLowerInvariant() is "cpu" or "simd" ? null : ExprEvaluators.Create(options.Device);
        device?.SetData(x.Columns.Select(c => c.Select(v => (float)v).ToArray()).ToArray());
        List<Formula> candidates;
        long evaluations;
        IReadOnlyDictionary<string, double> stages;
        long spaceSize = 0;
        IReadOnlyList<ScreenedFeature> subspaces = [];
        if (options.Engine == "sisso")
        {
            var engine = new SissoEngine(x, y, options, progress, cancel, clock, device, comm);
            candidates = engine.Run();
            evaluations = comm.AllReduce(engine.Evaluations, ReduceOp.Sum);
            stages = engine.StageSeconds;
            spaceSize = engine.SpaceSize;
            subspaces = engine.Subspaces.Select(s => new ScreenedFeature(s.Dimension, s.Feature, ExprPrinter.Text(s.Feature, i => x.Names[i]), s.Score)).ToList();
        }
        else
        {
            var engine = new GpEngine(x, y, options, progress, cancel, clock, device);
            var watch = Stopwatch.StartNew();
            candidates = engine.Run();
            evaluations = engine.Evaluations;
            stages = new Dictionary<string, double> { ["evolve"] = watch.Elapsed.TotalSeconds };
        }

        var front = ParetoSelection.Front(candidates, options.Exhaustive && options.Engine == "sisso" ? int.MaxValue : options.MaxComplexity);
        double scale = Math.Sqrt(y.Select(v => (v - y.Average()) * (v - y.Average())).Average()) + Math.Abs(y.Average());
        return new SrResult
        {
            ParetoFront = front,
            Best = ParetoSelection.PickBest(front, scale),
            Elapsed = clock.Elapsed,
            Evaluations = evaluations,
            Engine = options.Engine,
            Device = device?.Name ?? "cpu-simd",
            StageSeconds = stages,
            SpaceSize = spaceSize,
            Subspaces = subspaces,
            Ranks = comm.Size,
        };
    }
}
