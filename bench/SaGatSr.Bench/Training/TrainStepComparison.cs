using System.Diagnostics;
using System.Text.Json;
using SaGatSr.Gat.Materials;
using SaGatSr.Gat.Model;
using SaGatSr.Gat.Training;
using SaGatSr.Kernels;

namespace SaGatSr.Bench;

/// <summary>
/// One training step and one epoch of SA-GAT on the shipped dataset: this engine's SIMD CPU path against the same
/// architecture in PyTorch on the CPU (bench/pytorch/sagat_reference.py, Debian's python3-torch), in one run.
/// </summary>
public static partial class Comparisons
{
    private static void RegisterTrainStep() => Register("train-step",
        "SA-GAT training step and epoch: SIMD CPU vs PyTorch CPU [--device cpu] [--batch-size 16] [--python /usr/bin/python3]",
        RunTrainStep);

    private static int RunTrainStep(string[] args)
    {
        string device = OptionValue(args, "--device", "cpu");
        int batchSize = int.Parse(OptionValue(args, "--batch-size", "16"));
        string python = OptionValue(args, "--python", "/usr/bin/python3");
        var data = ShippedData.Load();
        var graphOptions = data.GraphOptions;
        var scaler = FeatureScaler.Fit(data.Inputs.Select(i => i.Features), data.Features.Count);
        var targets = TargetScaler.Fit(data.Targets);
        var samples = data.Inputs.Select((input, i) =>
        {
            var features = (float[])input.Features.Clone();
            scaler.TransformInPlace(features);
            return new CrystalSample(data.Ids[i], input.Graph, features, data.Targets[i]);
        }).ToArray();
        var config = new SaGatConfig
        {
            FeatureNames = data.Features.Features.Select(f => f.Name).ToArray(),
            FeatureDescriptions = data.Features.Features.Select(f => f.Description).ToArray(),
            Hidden = 48, Heads = 4, Layers = 3, GaussianCount = graphOptions.GaussianCount,
        };
        var batches = Enumerable.Range(0, (samples.Length + batchSize - 1) / batchSize)
            .Select(b => Enumerable.Range(b * batchSize, Math.Min(batchSize, samples.Length - b * batchSize)).ToArray()).ToArray();

        using var backend = Devices.Create(device);
        using var network = new SaGatModel(backend, config);
        var optimizer = new SaGatSr.Autodiff.Adam(network.Parameters(), 1e-3f);
        var options = new TrainingOptions { ClipNorm = 0 };
        double stepMs = MedianMilliseconds(() => Trainer.TrainStep(network, optimizer, samples, batches[0], targets, graphOptions, options), 9);
        double epochMs = MedianMilliseconds(() =>
        {
            foreach (var batch in batches) Trainer.TrainStep(network, optimizer, samples, batch, targets, graphOptions, options);
        }, 3);

        var export = Path.Combine(Path.GetTempPath(), "sagatsr-train-step");
        Export(export, samples, batches, config, graphOptions, targets);
        var start = new ProcessStartInfo(python, [Path.Combine(RepositoryPaths.Root, "bench", "pytorch", "sagat_reference.py"), export,
            Environment.ProcessorCount.ToString()]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd();
        var errors = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Console.WriteLine($"SA-GAT (hidden 48, 4 heads, 3 layers, {config.FeatureCount} features), {samples.Length} crystals, " +
                          $"{batches.Length} batches of <= {batchSize}; atoms in batch 0: {batches[0].Sum(i => samples[i].Graph.AtomCount)}");
        Console.WriteLine($"{"engine",-34} {"step ms",10} {"epoch ms",10}");
        Console.WriteLine($"{"SaGatSr " + backend.Name,-34} {stepMs,10:F2} {epochMs,10:F1}");
        if (process.ExitCode != 0)
        {
            Console.WriteLine($"PyTorch reference failed ({python}): {errors.Trim()}");
            return 1;
        }

        using var result = JsonDocument.Parse(output);
        double torchStep = result.RootElement.GetProperty("step_ms").GetDouble(), torchEpoch = result.RootElement.GetProperty("epoch_ms").GetDouble();
        Console.WriteLine($"{"PyTorch " + result.RootElement.GetProperty("torch").GetString() + " CPU",-34} {torchStep,10:F2} {torchEpoch,10:F1}");
        Console.WriteLine($"ratio PyTorch / SaGatSr: step {torchStep / stepMs:F2}x, epoch {torchEpoch / epochMs:F2}x " +
                          $"(parameters: SaGatSr {network.ParameterCount}, PyTorch {result.RootElement.GetProperty("parameters").GetInt64()})");
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
