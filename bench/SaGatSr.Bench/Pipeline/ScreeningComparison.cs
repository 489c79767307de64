using System.Diagnostics;
using SaGatSr.Cli.Commands;
using SaGatSr.Gat.Model;
using SaGatSr.Gat.Training;
using SaGatSr.Kernels;
using SaGatSr.Symbolic;

namespace SaGatSr.Bench;

/// <summary>
/// The point of SA-GAT-SR: SR on the few SAE-screened features against SR on all ~180, same data, same search settings,
/// timed in one run, with the error each reaches (the paper reports 23x).
/// </summary>
public static partial class Comparisons
{
    private static void RegisterScreening() => Register("sr-screening",
        "SR wall time on the SAE top-k features vs on all features [--epochs 120] [--top-k rule] [--rungs 1] [--max-terms 2] [--engine sisso]",
        RunScreening);

    private static int RunScreening(string[] args)
    {
        int epochs = int.Parse(OptionValue(args, "--epochs", "120"));
        int rungs = int.Parse(OptionValue(args, "--rungs", "1"));
        string engine = OptionValue(args, "--engine", "sisso");
        double timeLimit = double.Parse(OptionValue(args, "--time-limit", "1800"), System.Globalization.CultureInfo.InvariantCulture);
        var data = ShippedData.Load();
        using var backend = Devices.Create(OptionValue(args, "--device", "cpu"));
        var watch = Stopwatch.StartNew();
        var training = Trainer.Train(backend, data, new SaGatConfig { Hidden = 32, Heads = 4, Layers = 2 },
            new TrainingOptions { Epochs = epochs, BatchSize = 8 });
        using var model = training.Model;
        Console.WriteLine($"SA-GAT trained in {watch.Elapsed.TotalSeconds:F1} s, test MAE {training.Test.Metrics.Mae:G4}");
        var ranking = model.Importance!;
        int k = int.Parse(OptionValue(args, "--top-k", ExplainCommand.DefaultTopK(ranking).ToString()));
        var split = training.Split;
        var target = split.Train.Select(i => data.Targets[i]).ToArray();
        int terms = int.Parse(OptionValue(args, "--max-terms", "2"));
        var options = new SrOptions { Engine = engine, Rungs = rungs, MaxTerms = terms, TimeLimit = TimeSpan.FromSeconds(timeLimit), Seed = 1 };

        (double Seconds, SrResult Result, double TestMae) Search(IReadOnlyList<FeatureImportance> features)
        {
            var table = ExplainCommand.CrystalTable(data, features, null);
            FeatureTable Rows(int[] rows) => new(table.Names.ToArray(), table.Columns.Select(c => rows.Select(i => c[i]).ToArray()).ToArray());
            var stopwatch = Stopwatch.StartNew();
            var result = SymbolicRegressor.Fit(Rows(split.Train), target, options);
            double seconds = stopwatch.Elapsed.TotalSeconds;
            var predicted = result.Best.Evaluate(Rows(split.Test));
            double testMae = split.Test.Select((i, r) => Math.Abs(predicted[r] - data.Targets[i])).Average();
            return (seconds, result, testMae);
        }

        var screened = Search(ranking.Take(k).ToArray());
        var everything = Search(ranking.OrderBy(f => f.Index).ToArray());
        Console.WriteLine($"SR ({engine}, rungs {rungs}, up to {terms} terms) fitted on {split.Train.Length} training crystals, tested on {split.Test.Length}; " +
                          $"mean predictor test MAE {split.Test.Average(i => Math.Abs(data.Targets[i] - target.Average())):G4}");
        Console.WriteLine($"{"inputs",-14} {"seconds",9} {"front min train MAE",20} {"chosen train MAE",17} {"chosen test MAE",16}  chosen formula");
        foreach (var (label, (seconds, result, testMae)) in new[] { ($"SAE top {k}", screened), ($"all {ranking.Count}", everything) })
            Console.WriteLine($"{label,-14} {seconds,9:F2} {result.ParetoFront.Min(f => f.Mae),20:G4} {result.Best.Mae,17:G4} {testMae,16:G4}  {result.Best.ToText()}");
        Console.WriteLine($"speed-up of screening: {everything.Seconds / screened.Seconds:F1}x");
        return 0;
    }
}
