using System.Diagnostics;
using SaGatSr.Gat.Materials;
using SaGatSr.Gat.Model;
using SaGatSr.Gat.Training;
using SaGatSr.Kernels;
using SaGatSr.Pipeline;
using SaGatSr.Symbolic;

namespace SaGatSr.Bench;

/// <summary>
/// The point of SA-GAT-SR: SR on the SAE-screened site and crystal descriptors against SR on all of them, same data, same
/// search settings, timed in one run, with the held-out error each reaches (the paper reports 23x). A planted target
/// (--planted "B_IE1,X_EA_mean") replaces the real one by the sum of the standardised named descriptors.
/// </summary>
public static partial class Comparisons
{
    private static void RegisterScreening() => Register("sr-screening",
        "SR on the SAE-screened descriptors vs on all of them [--data path] [--target name] [--planted d1,d2] [--epochs 30] [--batch-size 64] " +
        "[--max-terms 3] [--rungs 1] [--with-prediction] [--seed 42]",
        RunScreening);

    private static int RunScreening(string[] args)
    {
        string dataPath = OptionValue(args, "--data", "");
        var data = ShippedData.Load(dataPath == "" ? null : dataPath, OptionValue(args, "--target", ""));
        var ids = data.Ids.ToHashSet();
        var structures = Dataset.Load(dataPath == "" ? RepositoryPaths.ShippedDataset : dataPath).Entries
            .Where(e => ids.Contains(e.Id)).Select(e => e.Structure).ToArray();
        int epochs = int.Parse(OptionValue(args, "--epochs", "30"));
        int seed = int.Parse(OptionValue(args, "--seed", "42"));
        var sr = new SrOptions
        {
            Engine = "sisso", Rungs = int.Parse(OptionValue(args, "--rungs", "1")), MaxTerms = int.Parse(OptionValue(args, "--max-terms", "3")),
            MaxComplexity = 20, TimeLimit = TimeSpan.FromMinutes(30), Seed = 1,
        };
        string planted = OptionValue(args, "--planted", "");
        if (planted != "")
        {
            // The target is built from the descriptors of the same crystals, so the network and SR must find them.
            var table = new RoleDescriptors().Compute(structures);
            var values = new double[structures.Length];
            foreach (var name in planted.Split(','))
            {
                var column = table.Column(name);
                double mean = column.Average(), std = Math.Sqrt(column.Average(v => (v - mean) * (v - mean)));
                for (int i = 0; i < values.Length; i++) values[i] += (column[i] - mean) / Math.Max(std, 1e-12);
            }

            data = data with { Targets = values, TargetName = $"planted {planted}" };
        }

        using var backend = Devices.Create(OptionValue(args, "--device", "cpu"));
        var watch = Stopwatch.StartNew();
        var training = Trainer.Train(backend, data, new SaGatConfig { Seed = seed },
            new TrainingOptions { Epochs = epochs, BatchSize = int.Parse(OptionValue(args, "--batch-size", "64")), Seed = seed, Patience = epochs });
        using var model = training.Model;
        Console.WriteLine($"{data.TargetName}: SA-GAT trained in {watch.Elapsed.TotalSeconds:F0} s on {training.Split.Train.Length} crystals, " +
                          $"test MAE {training.Test.Metrics.Mae:G4} (mean predictor {training.Test.Actual.Average(a => Math.Abs(a - training.Train.Actual.Average())):G4})");
        var options = new ExplainOptions { SymbolicRegression = sr, WithPrediction = args.Contains("--with-prediction") };
        var screened = Explainer.Run(model, data, structures, training.Split, options);

        // The same search on every descriptor that could have been kept.
        var all = screened.Ranking.ToArray();
        var columns = all.Select(d => screened.Descriptors.Column(d.Name)).ToList();
        var names = all.Select(d => d.Name).ToList();
        if (options.WithPrediction)
        {
            names.Add(Explainer.PredictionFeature);
            columns.Add(screened.NetworkPredictions);
        }

        var full = new FeatureTable(names.ToArray(), columns.ToArray());
        var train = training.Split.Train;
        var fullWatch = Stopwatch.StartNew();
        var everything = SymbolicRegressor.Fit(new FeatureTable(full.Names.ToArray(), full.Columns.Select(c => train.Select(i => c[i]).ToArray()).ToArray()),
            train.Select(i => data.Targets[i]).ToArray(), sr);
        double fullSeconds = fullWatch.Elapsed.TotalSeconds;
        var fullPredicted = everything.Best.Evaluate(full);
        double TestMae(double[] predicted) => training.Split.Test.Average(i => Math.Abs(predicted[i] - data.Targets[i]));
        double TestR2(double[] predicted) => RegressionMetrics.Compute(training.Split.Test.Select(i => data.Targets[i]).ToArray(),
            training.Split.Test.Select(i => predicted[i]).ToArray()).R2;

        Console.WriteLine($"descriptors: {all.Length} ({screened.Descriptors.Scheme}), {screened.Descriptors.FallbackCount} crystals fell back; " +
                          $"SR: SISSO rung {sr.Rungs}, up to {sr.MaxTerms} terms{(options.WithPrediction ? ", with the network's prediction" : "")}");
        Console.WriteLine("ranking: " + string.Join(", ", all.Take(12).Select((d, r) => $"{r + 1}. {d.Name} {d.Importance * data.Features.Count:F2}")) +
                          " (importance x F: 1 = uniform)" + (planted == "" ? "" : "; planted: " + string.Join(", ",
                              planted.Split(',').Select(n => $"{n} #{Array.FindIndex(all, d => d.Name == n) + 1}"))));
        Console.WriteLine("screening rule trials (k, validation MAE, seconds): " +
                          string.Join("; ", screened.Trials.Select(t => $"{t.K}: {t.ValidationMae:G4}, {t.Seconds:F1} s")));
        var chosenTrial = screened.Trials.Single(t => t.K == screened.Kept.Count);
        Console.WriteLine($"{"inputs",-22} {"SR seconds",11} {"test MAE",9} {"test R2",8}  formula");
        Console.WriteLine($"{$"SAE top {screened.Kept.Count} (rule)",-22} {chosenTrial.Seconds,11:F2} {TestMae(screened.FormulaPredictions),9:G4} " +
                          $"{TestR2(screened.FormulaPredictions),8:F3}  {screened.Sr.Best.ToText()}");
        Console.WriteLine($"{$"all {all.Length}",-22} {fullSeconds,11:F2} {TestMae(fullPredicted),9:G4} {TestR2(fullPredicted),8:F3}  {everything.Best.ToText()}");
        Console.WriteLine($"SA-GAT network test MAE {training.Test.Metrics.Mae:G4}; speed-up of screening: {fullSeconds / chosenTrial.Seconds:F1}x " +
                          $"for the chosen k, {fullSeconds / screened.Trials.Sum(t => t.Seconds):F1}x counting every trial of the rule");
        return 0;
    }
}
