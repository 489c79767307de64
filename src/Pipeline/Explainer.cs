using System.Diagnostics;
using SaGatSr.Gat.Materials;
using SaGatSr.Gat.Training;
using SaGatSr.Mpi;
using SaGatSr.Symbolic;

namespace SaGatSr.Pipeline;

/// <summary>How SR's inputs are chosen from the descriptors, ranked by SAE importance.</summary>
public sealed record ScreeningOptions
{
    /// <summary>A fixed number of descriptors; null: the rule below.</summary>
    public int? TopK { get; init; }

    /// <summary>The rule's candidate sizes: SR runs on the top k descriptors for each.</summary>
    public IReadOnlyList<int> Candidates { get; init; } = [2, 4, 6, 10, 16, 24];

    /// <summary>
    /// The rule keeps the smallest candidate k whose formula's validation MAE is within this fraction of the best
    /// candidate's: more descriptors only where they buy accuracy. The same tolerance picks each search's formula: the
    /// simplest on its Pareto front within it of the front's best validation MAE.
    /// </summary>
    public double Tolerance { get; init; } = 0.05;

    /// <summary>A/B/X for perovskites, cation/anion otherwise, or chosen from the crystals (Auto).</summary>
    public RoleScheme Scheme { get; init; } = RoleScheme.Auto;

    /// <summary>
    /// Rank descriptors first by the importance of the property they describe, counted over every per-atom feature that
    /// carries it (the element's own value and its neighbour statistics, on every atom), then by their own sites'
    /// importance; false: by their own sites' importance alone.
    /// </summary>
    public bool ByProperty { get; init; } = true;

    /// <summary>Elemental properties described per role; null: <see cref="RoleDescriptors.DefaultProperties"/>.</summary>
    public IReadOnlyList<string>? Properties { get; init; }
}

/// <summary>Everything `explain` does after the network is trained.</summary>
public sealed record ExplainOptions
{
    public ScreeningOptions Screening { get; init; } = new();

    /// <summary>The SR search run on each candidate set of descriptors.</summary>
    public SrOptions SymbolicRegression { get; init; } = new() { Engine = "sisso", Rungs = 1, MaxTerms = 3, MaxComplexity = 20, TimeLimit = TimeSpan.FromMinutes(2) };

    /// <summary>Also give SR the network's own prediction as a descriptor (the paper's E_p).</summary>
    public bool WithPrediction { get; init; }
}

/// <summary>One candidate of the screening rule: SR on the top k descriptors.</summary>
public sealed record ScreeningTrial(int K, double ValidationMae, double Seconds, string Formula);

/// <summary>Metrics of one predictor on the three parts of the split.</summary>
public sealed record SplitMetrics(RegressionMetrics Train, RegressionMetrics Validation, RegressionMetrics Test);

public sealed record ExplainResult
{
    public required TrainingData Data { get; init; }
    public required DataSplit Split { get; init; }
    public required double[] NetworkPredictions { get; init; }
    /// <summary>Every descriptor SR could use, most important first.</summary>
    public required IReadOnlyList<RankedDescriptor> Ranking { get; init; }
    public required DescriptorTable Descriptors { get; init; }
    /// <summary>The descriptors SR ran on (plus the network's prediction when asked for).</summary>
    public required IReadOnlyList<RankedDescriptor> Kept { get; init; }
    public required IReadOnlyList<ScreeningTrial> Trials { get; init; }
    /// <summary>Per crystal: the kept descriptors (and the prediction), as SR saw them.</summary>
    public required FeatureTable Table { get; init; }
    public required SrResult Sr { get; init; }
    public required double[] FormulaPredictions { get; init; }
    public required IReadOnlyDictionary<string, SplitMetrics> Metrics { get; init; }
    public required double SrSeconds { get; init; }
    public required FormulaModel Formula { get; init; }
}

/// <summary>
/// SA-GAT-SR after training: the network ranks the site and crystal descriptors through its SAE coefficients, symbolic
/// regression distils a formula from the ones the screening rule keeps, and both are scored on the model's own split.
/// </summary>
public static class Explainer
{
    public const string PredictionFeature = "sagat_prediction";

    /// <param name="communicator">the ranks SR's search is split over (MPI); every rank returns the same result</param>
    /// <param name="networkPredictions">the prediction scored as the network's and given to SR as E_p, per structure (an
    /// ensemble's mean); null: <paramref name="model"/>'s own</param>
    public static ExplainResult Run(TrainedModel model, TrainingData data, IReadOnlyList<Structure> structures, DataSplit split,
        ExplainOptions options, IProgress<string>? log = null, CancellationToken cancel = default, Communicator? communicator = null,
        double[]? networkPredictions = null)
    {
        var samples = model.Prepare(structures);
        var roles = new SiteRoles[samples.Count];
        Parallel.For(0, samples.Count, i => roles[i] = SiteRoles.Assign(structures[i], samples[i].Graph));
        var (ownPredictions, importance) = RoleImportance.Compute(model, samples, roles, split.Train);
        var network = networkPredictions ?? ownPredictions;
        var describer = new RoleDescriptors(options.Screening.Properties);
        var descriptors = describer.Compute(structures.Select((s, i) => (s, samples[i].Graph)).ToArray(), options.Screening.Scheme);
        log?.Report($"descriptors: {descriptors.Columns.Count} per crystal ({descriptors.Scheme} roles); " +
                    $"{descriptors.FallbackCount} of {descriptors.RowCount} crystals fell back to {(descriptors.Scheme == RoleScheme.Abx3 ? "cation/anion or " : "")}whole-crystal statistics");

        var ranking = Rank(descriptors, importance, model.Config.FeatureNames, split.Train, options.Screening.ByProperty);
        var target = data.Targets.ToArray();
        FeatureTable TableOf(IReadOnlyList<RankedDescriptor> kept)
        {
            var names = kept.Select(d => d.Name).ToList();
            var columns = kept.Select(d => descriptors.Column(d.Name)).ToList();
            if (options.WithPrediction)
            {
                names.Add(PredictionFeature);
                columns.Add(network);
            }

            return new FeatureTable(names.ToArray(), columns.ToArray());
        }

        var trials = new List<ScreeningTrial>();
        var results = new Dictionary<int, (SrResult Sr, double[] Predictions)>();
        var watch = Stopwatch.StartNew();
        var sizes = options.Screening.TopK is { } fixedK ? [Math.Clamp(fixedK, 1, ranking.Count)]
            : options.Screening.Candidates.Select(k => Math.Min(k, ranking.Count)).Distinct().Order().ToArray();
        foreach (int k in sizes)
        {
            cancel.ThrowIfCancellationRequested();
            var table = TableOf(ranking.Take(k).ToArray());
            var trialWatch = Stopwatch.StartNew();
            var sr = SymbolicRegressor.Fit(Rows(table, split.Train), split.Train.Select(i => target[i]).ToArray(), options.SymbolicRegression,
                cancel: cancel, comm: communicator);
            // The formula is chosen on the crystals SR did not fit: the simplest on the front within the tolerance of the best.
            var validation = split.Validation.Length > 0 ? split.Validation : split.Train;
            var scored = sr.ParetoFront.Select(f => (Formula: f, Predicted: f.Evaluate(table)))
                .Select(c => (c.Formula, c.Predicted, Mae: validation.Average(i => Math.Abs(c.Predicted[i] - target[i]))))
                .Where(c => double.IsFinite(c.Mae)).ToArray();
            double bestOnFront = scored.Min(c => c.Mae);
            var pick = scored.Where(c => c.Mae <= (1 + options.Screening.Tolerance) * bestOnFront).MinBy(c => c.Formula.Complexity);
            sr = WithBest(sr, pick.Formula);
            var predicted = pick.Predicted;
            double mae = pick.Mae;
            trials.Add(new ScreeningTrial(k, mae, trialWatch.Elapsed.TotalSeconds, sr.Best.ToText()));
            results[k] = (sr, predicted);
            log?.Report($"SR on the top {k} descriptors: validation MAE {mae:G4} in {trialWatch.Elapsed.TotalSeconds:F1} s: {sr.Best.ToText()}");
        }

        double best = trials.Min(t => t.ValidationMae);
        int chosenK = trials.First(t => t.ValidationMae <= (1 + options.Screening.Tolerance) * best).K;
        // With the network's prediction among the inputs the simplest good formula is the prediction alone: true, and says
        // nothing; the paper's shape (E_p plus site terms) is preferred wherever it loses nothing against the network.
        var (chosen, formulaPredictions) = results[chosenK];
        var validationRows = split.Validation.Length > 0 ? split.Validation : split.Train;
        double ValidationMae(double[] predicted) => validationRows.Average(i => Math.Abs(predicted[i] - target[i]));
        if (options.WithPrediction)
        {
            // Over every trial's front: the formula that adds the most descriptors to the prediction, the simplest of those,
            // among the ones whose validation error stays at or below the network's.
            var explained = results
                .SelectMany(trial => trial.Value.Sr.ParetoFront.Select(f => (K: trial.Key, Formula: f)))
                .Where(c => c.Formula.UsedFeatures.Contains(PredictionFeature) && c.Formula.UsedFeatures.Count > 1)
                .Where(c => ValidationMae(c.Formula.Evaluate(TableOf(ranking.Take(c.K).ToArray()))) <= ValidationMae(network))
                .OrderByDescending(c => c.Formula.UsedFeatures.Count).ThenBy(c => c.Formula.Complexity).ThenBy(c => c.K)
                .FirstOrDefault();
            if (explained.Formula is not null)
            {
                chosenK = explained.K;
                chosen = WithBest(results[chosenK].Sr, explained.Formula);
                formulaPredictions = chosen.Best.Evaluate(TableOf(ranking.Take(chosenK).ToArray()));
            }
        }

        var kept = ranking.Take(chosenK).ToArray();
        var metrics = new Dictionary<string, SplitMetrics>
        {
            ["network"] = Score(split, target, network),
            ["formula"] = Score(split, target, formulaPredictions),
            ["mean"] = Score(split, target, target.Select(_ => split.Train.Average(i => target[i])).ToArray()),
        };
        var formula = FormulaModel.From(chosen.Best, data.TargetName, kept, descriptors.Scheme, describer.Properties, model.GraphOptions,
            options.WithPrediction, metrics["formula"]);
        return new ExplainResult
        {
            Data = data, Split = split, NetworkPredictions = network, Ranking = ranking, Descriptors = descriptors, Kept = kept,
            Trials = trials, Table = TableOf(kept), Sr = chosen, FormulaPredictions = formulaPredictions, Metrics = metrics,
            SrSeconds = watch.Elapsed.TotalSeconds, Formula = formula,
        };
    }

    /// <summary>The same search with another formula chosen from its front.</summary>
    private static SrResult WithBest(SrResult sr, Formula best) => new()
    {
        ParetoFront = sr.ParetoFront, Best = best, Elapsed = sr.Elapsed, Evaluations = sr.Evaluations, Engine = sr.Engine,
        Device = sr.Device, StageSeconds = sr.StageSeconds, SpaceSize = sr.SpaceSize, Subspaces = sr.Subspaces, Ranks = sr.Ranks,
    };

    /// <summary>
    /// Descriptors SR can use, by the importance of their SAE feature on their sites, most important first; columns that
    /// flag the table (roles_fallback), have no SAE feature behind them or do not vary over the training crystals are left out.
    /// </summary>
    public static IReadOnlyList<RankedDescriptor> Rank(DescriptorTable descriptors, RoleImportance importance, IReadOnlyList<string> saeFeatures,
        IReadOnlyList<int> trainingRows, bool byProperty = true)
    {
        var ranked = new List<(RankedDescriptor Descriptor, double Property)>();
        foreach (var column in descriptors.Columns)
        {
            if (DescriptorSource.Of(column.Name, saeFeatures) is not { } source) continue;
            var values = descriptors.Column(column.Name);
            if (trainingRows.Select(r => values[r]).Distinct().Take(2).Count() < 2) continue;
            double score = importance.Of(source.Role, source.Feature);
            if (!double.IsFinite(score)) continue;
            double property = byProperty ? CarriersOf(source.Feature, saeFeatures).Sum(f => importance.Of(null, f)) : score;
            ranked.Add((new RankedDescriptor(column.Name, column.Description, score, source), property));
        }

        return ranked.OrderByDescending(d => d.Property).ThenByDescending(d => d.Descriptor.Importance)
            .ThenBy(d => d.Descriptor.Name, StringComparer.Ordinal).Select(d => d.Descriptor).ToArray();
    }

    private static readonly string[] NeighbourStatistics = ["mean", "absdiff", "diff", "min", "max", "std"];

    /// <summary>
    /// The per-atom SAE features through which a property reaches the network: the feature itself and, for elemental
    /// properties, the statistics of the neighbours' values (a B cation's IE1 also reaches its X neighbours' nb_*_IE1).
    /// </summary>
    private static IEnumerable<string> CarriersOf(string feature, IReadOnlyList<string> saeFeatures) =>
        NeighbourStatistics.Select(statistic => $"nb_{statistic}_{feature}").Prepend(feature).Where(saeFeatures.Contains);

    /// <summary>
    /// The split the model was trained with, from the ids it recorded, so the formula is tested on the same unseen crystals as
    /// the network; crystals the model's split does not name are left out of both. Null when the model recorded none.
    /// </summary>
    public static DataSplit? SplitOf(TrainedModel model, IReadOnlyList<string> ids)
    {
        if (model.Metadata is not { TrainIds: { } train, ValidationIds: { } validation, TestIds: { } test }) return null;
        var index = new Dictionary<string, int>();
        for (int i = 0; i < ids.Count; i++) index[ids[i]] = i;
        int[] Indices(string[] named) => named.Where(index.ContainsKey).Select(id => index[id]).ToArray();
        var split = new DataSplit(Indices(train), Indices(validation), Indices(test));
        if (split.Train.Length == 0)
            throw new InvalidDataException("None of the crystals the model was trained on is in this dataset, so SR has nothing to fit; " +
                                           "train on this dataset instead.");
        return split;
    }

    private static FeatureTable Rows(FeatureTable table, int[] rows) =>
        new(table.Names.ToArray(), table.Columns.Select(column => rows.Select(r => column[r]).ToArray()).ToArray());

    private static SplitMetrics Score(DataSplit split, double[] target, double[] predicted)
    {
        RegressionMetrics On(int[] rows) => RegressionMetrics.Compute(rows.Select(i => target[i]).ToArray(), rows.Select(i => predicted[i]).ToArray());
        return new SplitMetrics(On(split.Train), On(split.Validation), On(split.Test));
    }
}
