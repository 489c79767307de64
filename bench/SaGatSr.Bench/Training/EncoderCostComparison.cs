using System.Diagnostics;
using SaGatSr.Gat.Materials;
using SaGatSr.Gat.Model;
using SaGatSr.Gat.Training;
using SaGatSr.Kernels;
using SaGatSr.Kernels.Cpu;

namespace SaGatSr.Bench;

/// <summary>
/// What the SAE costs over the FCN embedding: a training epoch of each (same network otherwise, defaults, batch 32) on a
/// one-thread SIMD backend, as ensemble members train, timed in alternation so that load on a shared machine hits both
/// alike; and the SAE kernel alone (forward and backward over every batch of an epoch).
/// </summary>
public static partial class Comparisons
{
    private static void RegisterEncoderCost() => Register("encoder-cost",
        "SAE vs FCN epoch on one core, alternated, and the SAE kernel alone [--data perovskites.csv] [--target heat_ref] [--rounds 7] [--threads 1]",
        RunEncoderCost);

    private static int RunEncoderCost(string[] args)
    {
        string dataPath = OptionValue(args, "--data", Path.Combine(SharedData(), "perovskites", "perovskites.csv"));
        int rounds = int.Parse(OptionValue(args, "--rounds", "7"));
        int threads = int.Parse(OptionValue(args, "--threads", "1"));
        var data = ShippedData.Load(dataPath, OptionValue(args, "--target", "heat_ref"));
        var targets = TargetScaler.Fit(data.Targets);
        var samples = ShippedData.StandardisedSamples(data);
        var shuffle = new Random(1);
        var order = Enumerable.Range(0, samples.Length).OrderBy(_ => shuffle.Next()).ToArray();
        const int batchSize = 32;
        var batches = order.Chunk(batchSize).ToArray();
        var baseConfig = ShippedData.DefaultConfig(data);
        using var backend = new SimdCpuBackend(threads: threads);
        Console.WriteLine($"{dataPath}: {samples.Length} crystals in {batches.Length} batches of {batchSize}, {samples.Average(s => s.Graph.AtomCount):F1} atoms each, " +
                          $"{baseConfig.FeatureCount} features; {backend.Name}; {rounds} rounds, encoders alternated");

        var encoders = new[] { "sae", "fcn" };
        var networks = encoders.Select(e => new SaGatModel(backend, baseConfig with { Encoder = e })).ToArray();
        var optimizers = networks.Select(n => new SaGatSr.Autodiff.Adam(n.Parameters(), 1e-3f)).ToArray();
        var options = new TrainingOptions { ClipNorm = 0 };
        var epochSeconds = encoders.Select(_ => new List<double>()).ToArray();
        try
        {
            for (int round = 0; round <= rounds; round++)
                for (int e = 0; e < encoders.Length; e++)
                {
                    var watch = Stopwatch.StartNew();
                    foreach (double _ in Trainer.TrainBatches(networks[e], optimizers[e], samples, batches, TargetEncoding.Regression(targets), data.GraphOptions, options)) { }
                    if (round > 0) epochSeconds[e].Add(watch.Elapsed.TotalSeconds); // round 0 warms up
                }
        }
        finally
        {
            foreach (var network in networks) network.Dispose();
        }

        double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);
        double sae = Median(epochSeconds[0]), fcn = Median(epochSeconds[1]);
        Console.WriteLine($"{"encoder",-8} {"median s/epoch",15} {"min",8} {"max",8}");
        for (int e = 0; e < encoders.Length; e++)
            Console.WriteLine($"{encoders[e],-8} {Median(epochSeconds[e]),15:F3} {epochSeconds[e].Min(),8:F3} {epochSeconds[e].Max(),8:F3}");
        Console.WriteLine($"SAE epoch / FCN epoch: {sae / fcn:F2}x (medians), {epochSeconds[0].Min() / epochSeconds[1].Min():F2}x (minima)");

        // The kernel alone, on the same batches, with weights of the scale the SAE starts from.
        int features = baseConfig.FeatureCount, hidden = baseConfig.Hidden;
        var rng = new Random(2);
        float[] Normal(int count, double scale) => Enumerable.Range(0, count).Select(_ => (float)(scale * (rng.NextDouble() * 2 - 1))).ToArray();
        using var weights = Upload(backend, Normal(features * hidden, 1));
        using var biases = Upload(backend, Normal(features * hidden, 0.1));
        using var scores = Upload(backend, Normal(hidden, 0.3));
        using var logits = Upload(backend, Normal(features, 0.3));
        using var dWeights = backend.Allocate(features * hidden);
        using var dBiases = backend.Allocate(features * hidden);
        using var dScores = backend.Allocate(hidden);
        using var dLogits = backend.Allocate(features);
        var inputs = batches.Select(batch => batch.SelectMany(i => samples[i].AtomFeatures).ToArray()).ToArray();
        double distinct = 0, slots = 0;
        foreach (var x in inputs)
            for (int f = 0; f < features; f++)
            {
                var column = Enumerable.Range(0, x.Length / features).Select(r => x[r * features + f]).ToArray();
                distinct += column.Distinct().Count();
                slots += column.Length;
            }

        // Every batch's buffers are made before the clock starts: only the two kernel calls are timed.
        var buffers = inputs.Select(x =>
        {
            int rows = x.Length / features;
            return (Rows: rows, Input: Upload(backend, x), Encoded: backend.Allocate(rows * hidden), Coefficients: backend.Allocate(rows * features),
                DEncoded: Upload(backend, Normal(rows * hidden, 1)));
        }).ToArray();
        var kernelSeconds = new List<double>();
        try
        {
            for (int round = 0; round <= rounds; round++)
            {
                var watch = Stopwatch.StartNew();
                foreach (var (rows, input, encoded, coefficients, dEncoded) in buffers)
                {
                    backend.SaeEncode(input, weights, biases, scores, logits, encoded, coefficients, rows, features, hidden, 1, 1 / baseConfig.SaeTemperature);
                    backend.SaeEncodeBackward(input, weights, biases, scores, coefficients, dEncoded, null, dWeights, dBiases, dScores, dLogits,
                        rows, features, hidden, 1, 1 / baseConfig.SaeTemperature);
                }

                if (round > 0) kernelSeconds.Add(watch.Elapsed.TotalSeconds);
            }
        }
        finally
        {
            foreach (var batch in buffers)
                foreach (var buffer in new[] { batch.Input, batch.Encoded, batch.Coefficients, batch.DEncoded }) buffer.Dispose();
        }

        Console.WriteLine($"SAE kernel alone, forward + backward over every batch: median {Median(kernelSeconds):F3} s per epoch " +
                          $"({Median(kernelSeconds) / sae:P0} of the SAE epoch); distinct (feature, value) pairs per batch: {distinct / slots:P1} of the slots");
        return 0;
    }

    private static DeviceBuffer Upload(IComputeBackend backend, float[] values)
    {
        var buffer = backend.Allocate(values.Length);
        backend.Upload(buffer, values);
        return buffer;
    }
}
