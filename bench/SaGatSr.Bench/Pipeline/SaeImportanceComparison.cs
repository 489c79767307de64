using System.Diagnostics;
using System.Globalization;
using SaGatSr.Gat.Model;
using SaGatSr.Gat.Training;
using SaGatSr.Kernels;

namespace SaGatSr.Bench;

/// <summary>
/// Does the SAE screen? For each encoder variant (projection normalisation, entropy sparsity) and each target (the real
/// one and planted ones computed from known descriptors), train SA-GAT and report how concentrated the importance
/// coefficients are, where the planted descriptors rank, and the validation error the variant costs.
/// </summary>
public static partial class Comparisons
{
    private static void RegisterSaeImportance() => Register("sae-importance",
        "SAE importance: concentration, planted-descriptor ranks and validation MAE per encoder variant [--data path] [--target name] " +
        "[--variants plain,norm,norm+logit+0.05] [--planted EA+d_mean,IE1] [--epochs 30] [--batch-size 64] [--seed 1]",
        RunSaeImportance);

    private sealed record EncoderVariant(string Name, bool Normalise, bool Logits, float Sparsity, float Temperature)
    {
        /// <summary>
        /// "+"-joined: "plain" or "norm" first, then "logit" for per-feature logits, "t0.1" for a softmax temperature and a
        /// bare number for the sparsity weight.
        /// </summary>
        public static EncoderVariant Parse(string text)
        {
            var parts = text.Split('+').Skip(1).ToArray();
            float Number(string p) => float.Parse(p, CultureInfo.InvariantCulture);
            float sparsity = parts.Where(p => char.IsDigit(p[0])).Select(Number).FirstOrDefault();
            float temperature = parts.Where(p => p.StartsWith('t')).Select(p => Number(p[1..])).DefaultIfEmpty(1f).First();
            return new EncoderVariant(text, text.StartsWith("norm"), parts.Contains("logit"), sparsity, temperature);
        }
    }

    private static int RunSaeImportance(string[] args)
    {
        string dataPath = OptionValue(args, "--data", "");
        var data = ShippedData.Load(dataPath == "" ? null : dataPath, OptionValue(args, "--target", ""));
        var variants = OptionValue(args, "--variants", "plain,norm,norm+0.05,norm+0.2").Split(',').Select(EncoderVariant.Parse).ToArray();
        var planted = OptionValue(args, "--planted", "EA+d_mean,IE1+r_ion").Split(',', StringSplitOptions.RemoveEmptyEntries)
            .Select(p => p.Split('+')).ToArray();
        int epochs = int.Parse(OptionValue(args, "--epochs", "30"));
        int batchSize = int.Parse(OptionValue(args, "--batch-size", "64"));
        int seed = int.Parse(OptionValue(args, "--seed", "1"));
        var names = data.Features.Features.Select(f => f.Name).ToList();
        var means = CrystalMeans(data);

        var targets = new List<(string Name, double[] Values, int[] Planted)> { (data.TargetName, data.Targets.ToArray(), []) };
        foreach (var combination in planted)
        {
            var indices = combination.Select(n => names.IndexOf(n) is var i and >= 0 ? i : throw new ArgumentException($"unknown feature '{n}'")).ToArray();
            // The sum of the standardised crystal means of the descriptors: each matters equally, none dominates by units.
            var values = new double[means.Length];
            foreach (int f in indices)
            {
                double mean = means.Average(m => m[f]), std = Math.Sqrt(means.Average(m => (m[f] - mean) * (m[f] - mean)));
                for (int c = 0; c < means.Length; c++) values[c] += (means[c][f] - mean) / Math.Max(std, 1e-12);
            }

            targets.Add(($"planted {string.Join("+", combination)}", values, indices));
        }

        Console.WriteLine($"{data.Ids.Count} crystals, {names.Count} features, {epochs} epochs, batch {batchSize}, seed {seed}, 80/10/10 split; " +
                          "importance over the training crystals; uniform = 1/F");
        Console.WriteLine($"{"target",-24} {"variant",-12} {"val MAE",9} {"mean MAE",9} {"top1/unif",10} {"top5 mass",10} {"top10 mass",11} {"entropy",8} " +
                          $"{"planted ranks (near-duplicate |r|>0.95)",-40} {"s",6}  top 5");
        using var backend = Devices.Create(OptionValue(args, "--device", "cpu"));
        foreach (var (targetName, values, plantedIndices) in targets)
        {
            var targetData = data with { Targets = values, TargetName = targetName };
            foreach (var variant in variants)
            {
                var watch = Stopwatch.StartNew();
                var result = Trainer.Train(backend, targetData,
                    new SaGatConfig
                    {
                        Seed = seed, SaeNormalization = variant.Normalise, SaeFeatureLogits = variant.Logits, SaeSparsity = variant.Sparsity,
                        SaeTemperature = variant.Temperature,
                    },
                    new TrainingOptions { Epochs = epochs, BatchSize = batchSize, Seed = seed, Patience = epochs });
                using var model = result.Model;
                var ranking = model.Importance!;
                double uniform = 1.0 / ranking.Count;
                double entropy = -ranking.Sum(f => f.Mean > 0 ? f.Mean * Math.Log(f.Mean) : 0) / Math.Log(ranking.Count);
                double trainMean = result.Split.Train.Average(i => values[i]);
                double meanMae = result.Split.Validation.Average(i => Math.Abs(values[i] - trainMean));
                var ranks = plantedIndices.Select(f => $"{names[f]} {RankOf(ranking, f)} ({BestDuplicateRank(ranking, means, f)})");
                Console.WriteLine($"{Truncate(targetName, 24),-24} {variant.Name,-12} {result.Validation.Metrics.Mae,9:G4} {meanMae,9:G4} " +
                                  $"{ranking[0].Mean / uniform,10:F2} {ranking.Take(5).Sum(f => f.Mean),10:F3} {ranking.Take(10).Sum(f => f.Mean),11:F3} " +
                                  $"{entropy,8:F3} {string.Join(", ", ranks),-40} {watch.Elapsed.TotalSeconds,6:F0}  " +
                                  string.Join(" ", ranking.Take(5).Select(f => f.Name)));
            }
        }

        return 0;
    }

    private static int RankOf(IReadOnlyList<FeatureImportance> ranking, int feature) =>
        ranking.Select((f, r) => (f.Index, Rank: r + 1)).First(p => p.Index == feature).Rank;

    /// <summary>The best rank among the feature and those whose crystal means correlate with its own at |r| above 0.95.</summary>
    private static int BestDuplicateRank(IReadOnlyList<FeatureImportance> ranking, double[][] means, int feature) =>
        ranking.Select((f, r) => (f.Index, Rank: r + 1))
            .Where(p => p.Index == feature || Math.Abs(Correlation(means, feature, p.Index)) > 0.95).Min(p => p.Rank);

    private static double Correlation(double[][] rows, int a, int b)
    {
        double meanA = rows.Average(r => r[a]), meanB = rows.Average(r => r[b]), covariance = 0, varianceA = 0, varianceB = 0;
        foreach (var r in rows)
        {
            covariance += (r[a] - meanA) * (r[b] - meanB);
            varianceA += (r[a] - meanA) * (r[a] - meanA);
            varianceB += (r[b] - meanB) * (r[b] - meanB);
        }

        return varianceA > 0 && varianceB > 0 ? covariance / Math.Sqrt(varianceA * varianceB) : 0;
    }

    /// <summary>Each crystal's per-atom features averaged over its atoms, in physical units: [crystal][feature].</summary>
    private static double[][] CrystalMeans(TrainingData data)
    {
        int featureCount = data.Features.Count;
        return data.Inputs.Select(input =>
        {
            int atoms = input.Features.Length / featureCount;
            var mean = new double[featureCount];
            for (int a = 0; a < atoms; a++)
                for (int f = 0; f < featureCount; f++) mean[f] += input.Features[a * featureCount + f] / (double)atoms;
            return mean;
        }).ToArray();
    }
}
