using System.Globalization;
using SaGatSr.Cli.Reports;
using SaGatSr.Gat;
using SaGatSr.Mpi;
using SaGatSr.Pipeline;

namespace SaGatSr.Cli.Commands;

internal sealed record ScreenArguments(string Model, string? A, string? B, string? X, string? CandidatesFile, string? Formula,
    string Output, string Rank, string Goal, string Lattice, string States, int Top, int BatchSize, int ChunkSize, string? Device);

internal static class ScreenCommand
{
    public const string RankedFile = "ranked.csv", DroppedFile = "dropped.csv", PlotFile = "prediction_uncertainty.png";

    public static int Run(ScreenArguments args, CancellationToken cancel)
    {
        var world = Communicator.World;
        var candidates = Candidates(args);
        var options = new CandidateScreeningOptions
        {
            Rank = args.Rank.ToLowerInvariant() switch
            {
                "prediction" => RankBy.Prediction,
                "lcb" => RankBy.ConfidenceBound,
                _ => throw new ArgumentException($"--rank must be prediction or lcb, not '{args.Rank}'"),
            },
            LowerIsBetter = args.Goal.ToLowerInvariant() switch
            {
                "max" => false,
                "min" => true,
                _ => throw new ArgumentException($"--goal must be max or min, not '{args.Goal}'"),
            },
            Lattice = args.Lattice.ToLowerInvariant() switch
            {
                "bond-valence" => LatticeRule.BondValence,
                "shannon" => LatticeRule.Shannon,
                _ => throw new ArgumentException($"--lattice must be bond-valence or shannon, not '{args.Lattice}'"),
            },
            MaxStateTier = args.States.ToLowerInvariant() switch
            {
                "common" => 1,
                "icsd" => 2,
                "all" => 3,
                _ => throw new ArgumentException($"--states must be common, icsd or all, not '{args.States}'"),
            },
            TopCount = args.Top, BatchSize = args.BatchSize, ChunkSize = args.ChunkSize,
        };
        var formula = args.Formula is null ? null : FormulaModel.Load(args.Formula);
        using var predictor = SaGatPredictor.Load(args.Model, args.Device);
        if (options.Rank == RankBy.ConfidenceBound && !predictor.HasUncertainty)
            throw new ArgumentException($"--rank lcb needs an uncertainty, but {args.Model} is a single network (no spread): " +
                                        "rank by --rank prediction, or train an ensemble");
        if (world.IsRoot)
        {
            Console.Error.WriteLine($"device: {predictor.DeviceName}");
            Console.Error.WriteLine($"screening {candidates.Count:N0} candidates for {predictor.TargetName}" +
                                    $"{(predictor.HasUncertainty ? "" : " (single network: no uncertainty)")}" +
                                    $"{(world.Size > 1 ? $" on {world.Size} ranks" : "")}");
            Directory.CreateDirectory(args.Output);
        }

        string ranked = Path.Combine(args.Output, RankedFile), dropped = Path.Combine(args.Output, DroppedFile);
        var summary = ConsoleProgress.Run("screening", sink => Screening.Run(predictor, formula, candidates, ranked, dropped, options, world,
            (done, total) => sink.Report((double)done / total, $"{done:N0}/{total:N0} candidates"), cancel));
        if (!world.IsRoot) return 0;

        string plot = Path.Combine(args.Output, PlotFile);
        Plots.Screening(plot, summary.Target, summary.Sample, summary.Top, summary.HasUncertainty);
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"screened {summary.Candidates:N0} candidates in {summary.Elapsed.TotalSeconds:F1} s " +
            $"({summary.Candidates / Math.Max(summary.Elapsed.TotalMinutes, 1e-9):N0}/min): {summary.Kept:N0} ranked, {summary.Dropped:N0} dropped"));
        foreach (var (kind, count) in summary.Drops) Console.Error.WriteLine($"  dropped, {kind}: {count:N0}");
        Console.Error.WriteLine($"wrote {ranked}, {dropped}, {plot}");
        PrintTop(summary, options);
        return 0;
    }

    private static CandidateSource Candidates(ScreenArguments args)
    {
        bool lists = args.A is not null || args.B is not null || args.X is not null;
        if (lists && args.CandidatesFile is not null)
            throw new ArgumentException("give either --a, --b and --x, or --candidates, not both");
        if (args.CandidatesFile is not null) return CandidateSource.FromFile(args.CandidatesFile);
        if (args.A is null || args.B is null || args.X is null)
            throw new ArgumentException("give the A, B and X lists (--a \"Ca,Sr\" --b \"Ti,Zr\" --x \"O3,O2N\"), or --candidates file.csv");
        return CandidateSource.FromLists(Split(args.A), Split(args.B), Split(args.X));

        static string[] Split(string list) => list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
    }

    private static void PrintTop(ScreeningSummary summary, CandidateScreeningOptions options)
    {
        if (summary.Top.Count == 0)
        {
            Console.WriteLine("no candidate could be ranked (see dropped.csv)");
            return;
        }

        string order = options.Rank == RankBy.Prediction ? "prediction" : "pessimistic 90% bound";
        Console.WriteLine($"top {summary.Top.Count} by {order} ({(options.LowerIsBetter ? "lowest" : "highest")} first):");
        Console.WriteLine($"{"rank",4}  {"formula",-12} {"states",-7} {"a (Å)",7} {"t",6} {"mu",6} {"network",10} {"± std",8} {"formula",10}");
        for (int i = 0; i < summary.Top.Count; i++)
        {
            var c = summary.Top[i];
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{i + 1,4}  {c.Formula,-12} {$"+{c.AState}/+{c.BState}",-7} {c.LatticeParameter,7:F3} {c.ToleranceFactor,6:F3} {c.OctahedralFactor,6:F3} " +
                $"{c.Prediction,10:G4} {(double.IsNaN(c.Std) ? "-" : c.Std.ToString("G3", CultureInfo.InvariantCulture)),8} " +
                $"{(double.IsNaN(c.FormulaPrediction) ? "-" : c.FormulaPrediction.ToString("G4", CultureInfo.InvariantCulture)),10}"));
        }
    }
}
