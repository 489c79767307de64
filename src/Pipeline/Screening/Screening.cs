using System.Diagnostics;
using System.Globalization;
using System.Text;
using SaGatSr.Gat;
using SaGatSr.Gat.Materials;
using SaGatSr.Mpi;

namespace SaGatSr.Pipeline;

/// <summary>
/// Screening new ABX3 perovskites with a trained model: compositions in, a ranked CSV of ideal cubic cells with the
/// network's prediction, its uncertainty and the formula's prediction out.
/// <code>
/// using var predictor = SaGatPredictor.Load("model.sagat", device: "cuda");
/// var candidates = CandidateSource.FromLists(["Ca", "Sr", "Ba"], ["Ti", "Zr"], ["O3", "O2N"]);
/// var summary = Screening.Run(predictor, formula: null, candidates, "ranked.csv", "dropped.csv", new CandidateScreeningOptions { LowerIsBetter = true });
/// </code>
/// Candidates stream through in chunks (build, featurise, predict), and only a bounded top, a bounded sample and the rows
/// of one chunk are held, so memory stays flat however many there are; the ranking spills sorted runs to temporary files.
/// Under MPI each rank screens a contiguous block of the stream and rank 0 ranks and writes everything, as predict does.
/// </summary>
public static class Screening
{
    /// <summary>
    /// Screens every candidate of <paramref name="candidates"/>, writes the ranking (best first) to
    /// <paramref name="rankedCsv"/> and the dropped candidates with their reasons, in input order, to
    /// <paramref name="droppedCsv"/>. Every rank of <paramref name="comm"/> must call it; the files and the summary's
    /// lists come from rank 0 (the other ranks get the counts only).
    /// </summary>
    /// <param name="progress">called on rank 0 after each chunk with (candidates done, total)</param>
    /// <exception cref="InvalidOperationException">ranking by the confidence bound with a model that has no uncertainty</exception>
    public static ScreeningSummary Run(SaGatPredictor predictor, FormulaModel? formula, CandidateSource candidates, string rankedCsv,
        string droppedCsv, CandidateScreeningOptions? options = null, Communicator? comm = null, Action<long, long>? progress = null,
        CancellationToken cancel = default)
    {
        options ??= new CandidateScreeningOptions();
        comm ??= Communicator.Self;
        if (options.Rank == RankBy.ConfidenceBound && !predictor.HasUncertainty)
            throw new InvalidOperationException(
                "ranking by the confidence bound needs the model's uncertainty, but this model is a single network (it gives no spread): " +
                "rank by the prediction, or train an ensemble");
        if (options.ChunkSize < 1) throw new ArgumentOutOfRangeException(nameof(options), "the chunk size must be positive");
        if (options.MaxStateTier is < 1 or > 3) throw new ArgumentOutOfRangeException(nameof(options), "the oxidation-state tier must be 1, 2 or 3");
        var clock = Stopwatch.StartNew();
        long total = candidates.Count;
        long start = total * comm.Rank / comm.Size, end = total * (comm.Rank + 1) / comm.Size;
        long rounds = comm.AllReduce((end - start + options.ChunkSize - 1) / options.ChunkSize, ReduceOp.Max);

        using var ranking = new SpillingSorter(options.RowsInMemory, options.TemporaryFolder);
        using var drops = new SpillingSorter(options.RowsInMemory, options.TemporaryFolder);
        var sample = new BottomKSample(options.SampleSize);
        var dropCounts = new SortedDictionary<string, long>(StringComparer.Ordinal);
        long done = 0, kept = 0;
        using var stream = candidates.Read(start, end).GetEnumerator();
        var chunk = new List<PerovskiteCandidate>(options.ChunkSize);
        for (long round = 0; round < rounds; round++)
        {
            cancel.ThrowIfCancellationRequested();
            chunk.Clear();
            while (chunk.Count < options.ChunkSize && stream.MoveNext()) chunk.Add(stream.Current);
            var (screened, dropped) = Evaluate(predictor, formula, chunk, options);
            // One payload per rank and chunk: K lines are kept candidates, D lines dropped ones.
            var payload = new StringBuilder();
            foreach (var s in screened) payload.Append('K').Append(s.Serialize()).Append('\n');
            foreach (var d in dropped) payload.Append('D').Append(d.Serialize()).Append('\n');
            var gathered = comm.Gather<byte>(Encoding.UTF8.GetBytes(payload.ToString()), 0);
            if (gathered is null) continue;

            foreach (var line in Encoding.UTF8.GetString(gathered).Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                done++;
                string body = line[1..];
                if (line[0] == 'K')
                {
                    var candidate = ScreenedCandidate.Deserialize(body);
                    double value = candidate.RankValue(options.Rank, options.LowerIsBetter);
                    ranking.Add(options.LowerIsBetter ? value : -value, candidate.Index, body);
                    sample.Add(candidate);
                    kept++;
                }
                else
                {
                    var drop = DroppedCandidate.Deserialize(body);
                    drops.Add(0, drop.Index, body);
                    dropCounts[drop.Kind] = dropCounts.GetValueOrDefault(drop.Kind) + 1;
                }
            }

            progress?.Invoke(done, total);
        }

        if (!comm.IsRoot)
            return new ScreeningSummary(predictor.TargetName, total, 0, dropCounts, [], [], predictor.HasUncertainty, formula is not null,
                clock.Elapsed, comm.Size);

        var top = WriteRanking(rankedCsv, ranking.Sorted().Select(ScreenedCandidate.Deserialize), predictor.TargetName, formula is not null,
            options);
        WriteDrops(droppedCsv, drops.Sorted().Select(DroppedCandidate.Deserialize));
        return new ScreeningSummary(predictor.TargetName, total, kept, dropCounts, top, sample.Sorted(), predictor.HasUncertainty,
            formula is not null, clock.Elapsed, comm.Size);
    }

    /// <summary>
    /// Screens candidates held in memory, in input order, without writing anything: the kept ones with their predictions,
    /// and the dropped ones with their reasons. Each call is one batch for the network; <see cref="Run"/> calls it per chunk.
    /// </summary>
    public static (IReadOnlyList<ScreenedCandidate> Kept, IReadOnlyList<DroppedCandidate> Dropped) Evaluate(SaGatPredictor predictor,
        FormulaModel? formula, IReadOnlyList<PerovskiteCandidate> candidates, CandidateScreeningOptions? options = null)
    {
        options ??= new CandidateScreeningOptions();
        var cells = new IdealCell?[candidates.Count];
        var drops = new DroppedCandidate?[candidates.Count];
        var graph = predictor.Model.GraphOptions;
        Parallel.For(0, candidates.Count, i =>
        {
            var candidate = candidates[i];
            DroppedCandidate Drop(string kind, string reason) =>
                new(candidate.Index, candidate.Id, candidate.Formula, candidate.Location, kind, reason);
            if (!IdealPerovskite.TryBalance(candidate, out var states, out string why, options.MaxStateTier))
            {
                drops[i] = Drop(DropKinds.ChargeBalance, why);
                return;
            }

            double a = IdealPerovskite.LatticeParameter(candidate, states.B, options.Lattice);
            Structure structure;
            try
            {
                structure = IdealPerovskite.Build(candidate, a);
            }
            catch (StructureFormatException e)
            {
                drops[i] = Drop(DropKinds.Cell, $"lattice parameter {a:F3} Å gives no valid cell: {e.Message}");
                return;
            }

            // The network's own graph, so the tolerance and octahedral factors are the G_t and G_mu it reads.
            var crystalGraph = CrystalGraph.Build(structure, graph);
            var roles = SiteRoles.Assign(structure, crystalGraph);
            if (!roles.IsAbx3)
            {
                drops[i] = Drop(DropKinds.NotPerovskite, $"the site-role rule does not read the ideal cell as ABX3 ({roles.Rule}): " +
                                                         "the network's perovskite descriptors would be off");
                return;
            }

            if ((int)Math.Round(roles.OxidationStates[0]) != states.A || (int)Math.Round(roles.OxidationStates[1]) != states.B)
            {
                drops[i] = Drop(DropKinds.NotPerovskite, $"the site-role rule reads {candidate.ASymbol} {roles.OxidationStates[0]:+0;-0} " +
                                                         $"{candidate.BSymbol} {roles.OxidationStates[1]:+0;-0}, but the cell was built for " +
                                                         $"{states.A:+0;-0} {states.B:+0;-0}");
                return;
            }

            var descriptors = CrystalDescriptors.Compute(structure, crystalGraph, roles);
            cells[i] = new IdealCell(structure, states.A, states.B, a, descriptors.ToleranceFactor, descriptors.OctahedralFactor);
        });

        var builtIndices = Enumerable.Range(0, candidates.Count).Where(i => cells[i] is not null).ToArray();
        var structures = builtIndices.Select(i => cells[i]!.Structure).ToArray();
        var network = structures.Length == 0 ? new UncertainPredictions([], []) : predictor.PredictWithUncertainty(structures, options.BatchSize);
        var formulaValues = formula is null || structures.Length == 0 ? null : formula.Predict(structures, network.Mean);
        var kept = new ScreenedCandidate?[candidates.Count];
        for (int k = 0; k < builtIndices.Length; k++)
        {
            int i = builtIndices[k];
            var (candidate, cell) = (candidates[i], cells[i]!);
            double mean = network.Mean[k], std = network.Std[k];
            if (!double.IsFinite(mean) || predictor.HasUncertainty && !double.IsFinite(std))
            {
                drops[i] = new DroppedCandidate(candidate.Index, candidate.Id, candidate.Formula, candidate.Location, DropKinds.Prediction,
                    $"the network predicted {mean} ± {std}");
                continue;
            }

            kept[i] = new ScreenedCandidate(candidate.Index, candidate.Id, candidate.Formula, candidate.ASymbol, candidate.BSymbol,
                candidate.AnionText, cell.AState, cell.BState, cell.LatticeParameter, cell.ToleranceFactor, cell.OctahedralFactor, mean,
                predictor.HasUncertainty ? std : double.NaN, formulaValues?[k] ?? double.NaN, candidate.Location);
        }

        return (kept.OfType<ScreenedCandidate>().ToArray(), drops.OfType<DroppedCandidate>().ToArray());
    }

    private static List<ScreenedCandidate> WriteRanking(string path, IEnumerable<ScreenedCandidate> ranked, string target, bool withFormula,
        CandidateScreeningOptions options)
    {
        var top = new List<ScreenedCandidate>(options.TopCount);
        using var writer = new StreamWriter(path);
        bool withBound = options.Rank == RankBy.ConfidenceBound;
        writer.Write($"rank,id,formula,A,B,X,A_state,B_state,a,t,mu,{target},{target}_std");
        writer.Write(withBound ? $",{target}_bound90" : "");
        writer.Write(withFormula ? $",{target}_formula" : "");
        writer.Write(",source\n");
        long rank = 0;
        foreach (var c in ranked)
        {
            if (top.Count < options.TopCount) top.Add(c);
            writer.Write(FormattableString.Invariant(
                $"{++rank},{Csv(c.Id)},{Csv(c.Formula)},{c.A},{c.B},{c.X},{c.AState},{c.BState},{c.LatticeParameter:F4},{c.ToleranceFactor:F4},{c.OctahedralFactor:F4},{c.Prediction:G6},{Optional(c.Std)}"));
            if (withBound) writer.Write(FormattableString.Invariant($",{c.RankValue(RankBy.ConfidenceBound, options.LowerIsBetter):G6}"));
            if (withFormula) writer.Write("," + Optional(c.FormulaPrediction));
            writer.Write($",{Csv(c.Location ?? "")}\n");
        }

        return top;
    }

    private static void WriteDrops(string path, IEnumerable<DroppedCandidate> dropped)
    {
        using var writer = new StreamWriter(path);
        writer.Write("id,formula,source,kind,reason\n");
        foreach (var d in dropped) writer.Write($"{Csv(d.Id)},{Csv(d.Formula)},{Csv(d.Location ?? "")},{Csv(d.Kind)},{Csv(d.Reason)}\n");
    }

    /// <summary>A value, or an empty field where it is unknown (NaN).</summary>
    private static string Optional(double value) => double.IsNaN(value) ? "" : value.ToString("G6", CultureInfo.InvariantCulture);

    private static string Csv(string text) =>
        text.IndexOfAny([',', '"', '\n', '\r']) < 0 ? text : "\"" + text.Replace("\"", "\"\"") + "\"";

    private sealed record IdealCell(Structure Structure, int AState, int BState, double LatticeParameter, double ToleranceFactor,
        double OctahedralFactor);

    /// <summary>
    /// The k candidates with the smallest hash of their index: a uniform sample that does not depend on the order they
    /// arrive in (chunking, ranks), in bounded memory.
    /// </summary>
    private sealed class BottomKSample(int k)
    {
        private readonly PriorityQueue<ScreenedCandidate, ulong> kept = new(Comparer<ulong>.Create((x, y) => y.CompareTo(x)));

        public void Add(ScreenedCandidate candidate)
        {
            if (k <= 0) return;
            ulong hash = Mix((ulong)candidate.Index);
            if (kept.Count < k) kept.Enqueue(candidate, hash);
            else if (kept.TryPeek(out _, out ulong largest) && hash < largest) kept.EnqueueDequeue(candidate, hash);
        }

        public IReadOnlyList<ScreenedCandidate> Sorted() => kept.UnorderedItems.Select(e => e.Element).OrderBy(c => c.Index).ToArray();

        /// <summary>SplitMix64's finaliser: consecutive indices spread over the whole range.</summary>
        private static ulong Mix(ulong x)
        {
            x += 0x9E3779B97F4A7C15UL;
            x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL;
            x = (x ^ (x >> 27)) * 0x94D049BB133111EBUL;
            return x ^ (x >> 31);
        }
    }
}
