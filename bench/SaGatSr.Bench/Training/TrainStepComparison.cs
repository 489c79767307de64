using System.Diagnostics;
using System.Text.Json;
using SaGatSr.Gat.Materials;
using SaGatSr.Gat.Model;
using SaGatSr.Gat.Training;
using SaGatSr.Kernels;

namespace SaGatSr.Bench;

/// <summary>
/// One training step and one epoch of SA-GAT on a dataset (default: the shipped sample) on each device asked for, against the
/// same architecture in PyTorch (bench/pytorch/sagat_reference.py) on its CPU or GPU, in one run and at several batch sizes.
/// </summary>
public static partial class Comparisons
{
    private static void RegisterTrainStep() => Register("train-step",
        "SA-GAT training step and epoch vs PyTorch [--devices cpu,cuda] [--batch-size 16,64] [--data folder] [--pytorch cpu|cuda|none] [--python /usr/bin/python3]",
        RunTrainStep);

    private static int RunTrainStep(string[] args)
    {
        var devices = OptionValue(args, "--devices", OptionValue(args, "--device", "cpu")).Split(',');
        var batchSizes = OptionValue(args, "--batch-size", "16").Split(',').Select(int.Parse).ToArray();
        string python = OptionValue(args, "--python", "/usr/bin/python3");
        string torchDevice = OptionValue(args, "--pytorch", "cpu");
        string dataPath = OptionValue(args, "--data", "");
        var data = ShippedData.Load(dataPath == "" ? null : dataPath);
        var graphOptions = data.GraphOptions;
        var targets = TargetScaler.Fit(data.Targets);
        var samples = ShippedData.StandardisedSamples(data);
        var config = ShippedData.DefaultConfig(data);
        Console.WriteLine($"SA-GAT (hidden {config.Hidden}, {config.Heads} heads, {config.Layers} layers, {config.FeatureCount} features) on " +
                          $"{(dataPath == "" ? "the shipped sample" : dataPath)}: {samples.Length} crystals, " +
                          $"{samples.Average(s => s.Graph.AtomCount):F1} atoms each on average; {Environment.ProcessorCount} logical CPUs");
        Console.WriteLine($"{"engine",-52} {"batch",6} {"atoms",6} {"step ms",10} {"epoch ms",10} {"crystals/s",11} {"vs first",9}");

        var backends = devices.Select(d => Devices.Create(d)).ToArray();
        try
        {
            foreach (int batchSize in batchSizes)
            {
                var batches = Enumerable.Range(0, (samples.Length + batchSize - 1) / batchSize)
                    .Select(b => Enumerable.Range(b * batchSize, Math.Min(batchSize, samples.Length - b * batchSize)).ToArray()).ToArray();
                int atoms = batches[0].Sum(i => samples[i].Graph.AtomCount);
                // Fewer epochs timed where one epoch is long, so a large dataset stays minutes.
                int epochRepeats = samples.Length > 1000 ? 1 : 3;
                double? firstEpoch = null;
                void Row(string engine, double stepMs, double epochMs)
                {
                    firstEpoch ??= epochMs;
                    Console.WriteLine($"{Truncate(engine, 52),-52} {batchSize,6} {atoms,6} {stepMs,10:F2} {epochMs,10:F1} " +
                                      $"{samples.Length / (epochMs / 1000),11:F0} {firstEpoch / epochMs,8:F2}x");
                }

                foreach (var backend in backends)
                {
                    using var network = new SaGatModel(backend, config);
                    var optimizer = new SaGatSr.Autodiff.Adam(network.Parameters(), 1e-3f);
                    var options = new TrainingOptions { ClipNorm = 0 };
                    double stepMs = MedianMilliseconds(() => Trainer.TrainStep(network, optimizer, samples, batches[0], TargetEncoding.Regression(targets), graphOptions, options), 9);
                    // As training runs an epoch: the next batch is built on the host while the device trains on this one.
                    double epochMs = MedianMilliseconds(() =>
                    {
                        foreach (double _ in Trainer.TrainBatches(network, optimizer, samples, batches, TargetEncoding.Regression(targets), graphOptions, options)) { }
                    }, epochRepeats);
                    Row("SaGatSr " + backend.Name, stepMs, epochMs);
                }

                if (torchDevice == "none") continue;
                var export = Path.Combine(Path.GetTempPath(), $"sagatsr-train-step-{batchSize}");
                Export(export, samples, batches, config, graphOptions, targets);
                var start = new ProcessStartInfo(python, [Path.Combine(RepositoryPaths.Root, "bench", "pytorch", "sagat_reference.py"), export,
                    Environment.ProcessorCount.ToString(), torchDevice, epochRepeats.ToString()]) { RedirectStandardOutput = true, RedirectStandardError = true };
                using var process = Process.Start(start)!;
                var output = process.StandardOutput.ReadToEnd();
                var errors = process.StandardError.ReadToEnd();
                process.WaitForExit();
                if (process.ExitCode != 0)
                {
                    Console.WriteLine($"PyTorch reference failed ({python}): {errors.Trim()}");
                    return 1;
                }

                using var result = JsonDocument.Parse(output);
                var root = result.RootElement;
                Row($"PyTorch {root.GetProperty("torch").GetString()} {root.GetProperty("device").GetString()}",
                    root.GetProperty("step_ms").GetDouble(), root.GetProperty("epoch_ms").GetDouble());
            }
        }
        finally
        {
            foreach (var backend in backends) backend.Dispose();
        }

        return 0;
    }

    private static void Export(string folder, CrystalSample[] samples, int[][] batches, SaGatConfig config, GraphOptions graphOptions,
        TargetScaler targets)
    {
        Directory.CreateDirectory(folder);
        var meta = new List<object>();
        for (int b = 0; b < batches.Length; b++)
        {
            var items = batches[b].Select(i => (samples[i].Graph, samples[i].AtomFeatures)).ToArray();
            var batch = GraphBatch.Create(items, config.FeatureCount);
            var crystal = new int[batch.AtomCount];
            for (int c = 0; c < batch.CrystalCount; c++)
                for (int a = batch.NodeOffsets[c]; a < batch.NodeOffsets[c + 1]; a++) crystal[a] = c;
            string name = $"batch{b}";
            void Write<T>(string what, T[] values) where T : unmanaged =>
                File.WriteAllBytes(Path.Combine(folder, $"{name}.{what}.bin"), System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()).ToArray());
            Write("features", batch.AtomFeatures);
            Write("source", batch.EdgeSource);
            Write("target", batch.EdgeTarget);
            Write("rbf", GaussianExpansion.Expand(batch.EdgeDistance, graphOptions));
            Write("crystal", crystal);
            Write("y", batches[b].Select(i => targets.Normalise(samples[i].Target)).ToArray());
            meta.Add(new { name, atoms = batch.AtomCount, edges = batch.EdgeCount, crystals = batch.CrystalCount });
        }

        File.WriteAllText(Path.Combine(folder, "meta.json"), JsonSerializer.Serialize(new
        {
            features = config.FeatureCount, hidden = config.Hidden, heads = config.Heads, layers = config.Layers,
            gaussians = config.GaussianCount, batches = meta,
        }));
    }

    internal static string OptionValue(string[] args, string name, string fallback)
    {
        int at = Array.IndexOf(args, name);
        return at >= 0 && at + 1 < args.Length ? args[at + 1] : fallback;
    }
}
