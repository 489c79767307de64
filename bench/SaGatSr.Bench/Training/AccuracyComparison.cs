using SaGatSr.Gat.Model;
using SaGatSr.Gat.Training;
using SaGatSr.Kernels;

namespace SaGatSr.Bench;

/// <summary>
/// Test MAE of SA-GAT on the shipped dataset against a predictor of the training mean, over several seeded splits:
/// with 50 crystals one split's 5-crystal test set is too noisy to say anything alone.
/// </summary>
public static partial class Comparisons
{
    private static void RegisterAccuracy() => Register("accuracy",
        "SA-GAT test MAE vs the mean predictor on the shipped data, over seeded splits [--seeds 5] [--epochs 120]",
        RunAccuracy);

    private static int RunAccuracy(string[] args)
    {
        int seeds = int.Parse(OptionValue(args, "--seeds", "5"));
        int epochs = int.Parse(OptionValue(args, "--epochs", "120"));
        var data = ShippedData.Load();
        using var backend = Devices.Create(OptionValue(args, "--device", "cpu"));
        Console.WriteLine($"{data.Ids.Count} crystals, split 70/15/15, hidden 32, 2 GAT layers, batch 8, up to {epochs} epochs");
        Console.WriteLine($"{"seed",4} {"SA-GAT test MAE",16} {"mean-predictor MAE",19} {"test R2",8}");
        var network = new List<double>();
        var baseline = new List<double>();
        for (int seed = 1; seed <= seeds; seed++)
        {
            var result = Trainer.Train(backend, data, new SaGatConfig { Hidden = 32, Heads = 4, Layers = 2, Seed = seed },
                new TrainingOptions { Epochs = epochs, BatchSize = 8, Seed = seed, TrainRatio = 0.7, ValidationRatio = 0.15 });
            result.Model.Dispose();
            double mean = result.Train.Actual.Average();
            double meanMae = result.Test.Actual.Average(a => Math.Abs(a - mean));
            network.Add(result.Test.Metrics.Mae);
            baseline.Add(meanMae);
            Console.WriteLine($"{seed,4} {result.Test.Metrics.Mae,16:F3} {meanMae,19:F3} {result.Test.Metrics.R2,8:F2}");
        }

        Console.WriteLine($"mean {network.Average(),11:F3} {baseline.Average(),19:F3}   ratio {network.Average() / baseline.Average():F2}");
        return 0;
    }
}
