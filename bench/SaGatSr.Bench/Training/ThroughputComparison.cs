using System.Diagnostics;
using SaGatSr.Autodiff;
using SaGatSr.Gat.Materials;
using SaGatSr.Gat.Model;
using SaGatSr.Gat.Training;
using SaGatSr.Kernels;

namespace SaGatSr.Bench;

/// <summary>
/// Crystals/s and atoms/s of featurizing, training and predicting, by cell size: the dataset's crystals grouped into size
/// classes, and supercells of its first crystals, so a rate that falls as cells grow shows up as a falling column.
/// </summary>
public static partial class Comparisons
{
    private static void RegisterThroughput() => Register("throughput",
        "featurize / train / predict crystals/s and atoms/s by cell size, with peak memory [--data folder] [--batch-size 64] " +
        "[--supercells 1,2,3] [--size-classes 8,20] [--device cpu] [--hidden 48 --layers 3 --heads 4]",
        RunThroughput);

    private static int RunThroughput(string[] args)
    {
        string dataPath = OptionValue(args, "--data", Path.Combine(SharedData(), "jarvis-sample"));
        int batchSize = int.Parse(OptionValue(args, "--batch-size", "64"));
        var supercells = OptionValue(args, "--supercells", "1,2,3").Split(',').Select(int.Parse).ToArray();
        var classLimits = OptionValue(args, "--size-classes", "8,20").Split(',').Select(int.Parse).ToArray();
        var defaults = new SaGatConfig();
        var architecture = defaults with
        {
            Hidden = int.Parse(OptionValue(args, "--hidden", defaults.Hidden.ToString())),
            Heads = int.Parse(OptionValue(args, "--heads", defaults.Heads.ToString())),
            Layers = int.Parse(OptionValue(args, "--layers", defaults.Layers.ToString())),
        };
        using var backend = Devices.Create(OptionValue(args, "--device", "cpu"));
        var graphOptions = new GraphOptions();
        var featurizer = new SaeFeaturizer();

        var load = Stopwatch.StartNew();
        var dataset = Dataset.Load(dataPath);
        double loadSeconds = load.Elapsed.TotalSeconds;
        var structures = dataset.Entries.Select(e => e.Structure).ToArray();
        Console.WriteLine($"{dataPath}: {structures.Length} crystals, {structures.Sum(s => s.AtomCount)} atoms ({structures.Min(s => s.AtomCount)}-" +
                          $"{structures.Max(s => s.AtomCount)} per crystal), read in {loadSeconds:F2} s ({structures.Length / loadSeconds:F0} crystals/s); " +
                          $"{backend.Name}; hidden {architecture.Hidden}, {architecture.Heads} heads, {architecture.Layers} layers, batch {batchSize} crystals; " +
                          $"{Environment.ProcessorCount} logical CPUs");

        var groups = new List<(string Name, Structure[] Structures)>();
        int lower = 0;
        foreach (int limit in classLimits.Append(int.MaxValue))
        {
            var members = structures.Where(s => s.AtomCount > lower && s.AtomCount <= limit).ToArray();
            if (members.Length > 0)
                groups.Add((limit == int.MaxValue ? $"{lower + 1}+ atoms" : $"{lower + 1}-{limit} atoms", members));
            lower = limit;
        }

        if (groups.Count > 1) groups.Insert(0, ("all", structures));
        // Supercells of the smallest crystals: the same chemistry at growing size. About as many atoms at every size.
        var seeds = structures.OrderBy(s => s.AtomCount).ThenBy(s => s.Id, StringComparer.Ordinal).ToArray();
        int atomBudget = Math.Min(structures.Sum(s => s.AtomCount), 8192);
        foreach (int n in supercells)
        {
            var cells = new List<Structure>();
            for (int i = 0, atoms = 0; atoms < atomBudget; i = (i + 1) % seeds.Length)
            {
                cells.Add(n == 1 ? seeds[i] : seeds[i].Supercell(n, n, n));
                atoms += cells[^1].AtomCount;
            }

            groups.Add(($"supercell {n}x{n}x{n}", cells.ToArray()));
        }

        Console.WriteLine($"{"crystals",-20} {"n",5} {"atoms/cr",8} {"featurize cr/s",15} {"atoms/s",9} {"train cr/s",11} {"atoms/s",9} " +
                          $"{"predict cr/s",13} {"atoms/s",9} {"step ms",8} {"peak MB",8}");
        foreach (var (name, members) in groups)
        {
            // Featurizing: graph and the 180 SAE features of every crystal (all cores, as training and predict do).
            SamplePreparer.Featurize(members.Take(16).ToArray(), featurizer, graphOptions);
            var watch = Stopwatch.StartNew();
            var inputs = SamplePreparer.Featurize(members, featurizer, graphOptions);
            double featurizeSeconds = watch.Elapsed.TotalSeconds;
            var scaler = FeatureScaler.Fit(inputs.Select(i => i.Features), featurizer.Features.Count);
            var samples = inputs.Select((input, i) =>
            {
                var features = (float[])input.Features.Clone();
                scaler.TransformInPlace(features);
                return new CrystalSample(members[i].Id, input.Graph, features, 0.0);
            }).ToArray();
            var config = architecture with
            {
                FeatureNames = featurizer.Features.Features.Select(f => f.Name).ToArray(),
                FeatureDescriptions = featurizer.Features.Features.Select(f => f.Description).ToArray(),
                GaussianCount = graphOptions.GaussianCount,
            };
            var network = new SaGatModel(backend, config);
            using var model = new TrainedModel(network, scaler, new ModelMetadata(), null);
            using var optimizer = new Adam(network.Parameters(), 1e-3f);
            var batches = Enumerable.Range(0, (samples.Length + batchSize - 1) / batchSize)
                .Select(b => Enumerable.Range(b * batchSize, Math.Min(batchSize, samples.Length - b * batchSize)).ToArray()).ToArray();
            var options = new TrainingOptions();
            var targets = new TargetScaler(0, 1);
            void Epoch()
            {
                foreach (double _ in Trainer.TrainBatches(network, optimizer, samples, batches, targets, graphOptions, options)) { }
            }

            // At least ~2 s of work per timed pass, so small groups are not timed on a handful of steps.
            int passes = Math.Max(1, (int)Math.Ceiling(20_000.0 / samples.Sum(s => s.Graph.AtomCount)));
            Epoch();
            double trainSeconds = MedianMilliseconds(() => { for (int p = 0; p < passes; p++) Epoch(); }, 3) / 1000 / passes;
            model.Predict(samples);
            double predictSeconds = MedianMilliseconds(() => { for (int p = 0; p < passes; p++) model.Predict(samples, batchSize); }, 3) / 1000 / passes;
            double stepMs = trainSeconds * 1000 / batches.Length;
            long atoms = members.Sum(s => s.AtomCount);
            Console.WriteLine($"{name,-20} {members.Length,5} {(double)atoms / members.Length,8:F1} {members.Length / featurizeSeconds,15:F0} " +
                              $"{atoms / featurizeSeconds,9:F0} {members.Length / trainSeconds,11:F0} {atoms / trainSeconds,9:F0} " +
                              $"{members.Length / predictSeconds,13:F0} {atoms / predictSeconds,9:F0} {stepMs,8:F1} " +
                              $"{Process.GetCurrentProcess().PeakWorkingSet64 / (1 << 20),8}");
        }

        Console.WriteLine("peak MB: the process's peak working set so far (it only grows down the table); train = forward, loss, " +
                          "backward and Adam step, with the next batch built on the host meanwhile; predict = forward without a tape.");
        return 0;
    }
}
