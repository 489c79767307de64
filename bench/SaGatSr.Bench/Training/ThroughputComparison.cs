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
        // Supercells of the same 16 smallest crystals at every size (the same chemistry, growing cells), repeated to about
        // the same number of atoms at every size.
        var seeds = structures.OrderBy(s => s.AtomCount).ThenBy(s => s.Id, StringComparer.Ordinal).Take(16).ToArray();
        int atomBudget = int.Parse(OptionValue(args, "--supercell-atoms", "4096"));
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

        // Every group is prepared first, then timed round-robin: on a shared machine a burst of load then hits every group
        // alike, and the medians over rounds stay comparable down the table.
        var prepared = groups.Select(group => PrepareThroughputGroup(backend, architecture, featurizer, graphOptions, group.Structures, batchSize)).ToArray();
        int rounds = int.Parse(OptionValue(args, "--rounds", "5"));
        var times = prepared.Select(_ => (Featurize: new List<double>(), Train: new List<double>(), Predict: new List<double>())).ToArray();
        for (int round = 0; round < rounds; round++)
            for (int g = 0; g < prepared.Length; g++)
            {
                var group = prepared[g];
                var members = groups[g].Structures;
                // At least ~20,000 atoms per timed pass, so small groups are not timed on a handful of steps.
                int passes = Math.Max(1, (int)Math.Ceiling(20_000.0 / group.Atoms));
                var watch = Stopwatch.StartNew();
                for (int p = 0; p < passes; p++) SamplePreparer.Featurize(members, featurizer, graphOptions);
                times[g].Featurize.Add(watch.Elapsed.TotalSeconds / passes);
                watch.Restart();
                for (int p = 0; p < passes; p++) group.Epoch();
                times[g].Train.Add(watch.Elapsed.TotalSeconds / passes);
                watch.Restart();
                for (int p = 0; p < passes; p++) group.Model.Predict(group.Samples, batchSize);
                times[g].Predict.Add(watch.Elapsed.TotalSeconds / passes);
            }

        Console.WriteLine($"{"crystals",-20} {"n",5} {"atoms/cr",8} {"featurize cr/s",15} {"atoms/s",9} {"train cr/s",11} {"atoms/s",9} " +
                          $"{"predict cr/s",13} {"atoms/s",9} {"step ms",8}");
        for (int g = 0; g < prepared.Length; g++)
        {
            var members = groups[g].Structures;
            long atoms = prepared[g].Atoms;
            double featurize = Median(times[g].Featurize), train = Median(times[g].Train), predict = Median(times[g].Predict);
            Console.WriteLine($"{groups[g].Name,-20} {members.Length,5} {(double)atoms / members.Length,8:F1} {members.Length / featurize,15:F0} " +
                              $"{atoms / featurize,9:F0} {members.Length / train,11:F0} {atoms / train,9:F0} {members.Length / predict,13:F0} " +
                              $"{atoms / predict,9:F0} {train * 1000 / prepared[g].Batches,8:F1}");
        }

        foreach (var group in prepared) group.Dispose();
        Console.WriteLine($"peak working set of the process: {Process.GetCurrentProcess().PeakWorkingSet64 / (1 << 20)} MB; medians of {rounds} rounds");
        Console.WriteLine($"featurize = graph and the {featurizer.Features.Count} SAE features (all cores), {graphOptions.MaxNeighbors} neighbours; train = forward, loss, backward and Adam step, with the " +
                          "next batch built on the host meanwhile; predict = forward without a tape.");
        return 0;
    }

    private sealed class ThroughputGroup(TrainedModel model, Adam optimizer, CrystalSample[] samples, int[][] batches, GraphOptions graphOptions)
        : IDisposable
    {
        public TrainedModel Model => model;
        public CrystalSample[] Samples => samples;
        public int Batches => batches.Length;
        public long Atoms { get; } = samples.Sum(s => (long)s.Graph.AtomCount);

        public void Epoch()
        {
            foreach (double _ in Trainer.TrainBatches(model.Network, optimizer, samples, batches, TargetEncoding.Regression(new TargetScaler(0, 1)), graphOptions,
                         new TrainingOptions())) { }
        }

        public void Dispose()
        {
            optimizer.Dispose();
            model.Dispose();
        }
    }

    private static ThroughputGroup PrepareThroughputGroup(IComputeBackend backend, SaGatConfig architecture, SaeFeaturizer featurizer,
        GraphOptions graphOptions, Structure[] members, int batchSize)
    {
        var inputs = SamplePreparer.Featurize(members, featurizer, graphOptions);
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
        var batches = Enumerable.Range(0, (samples.Length + batchSize - 1) / batchSize)
            .Select(b => Enumerable.Range(b * batchSize, Math.Min(batchSize, samples.Length - b * batchSize)).ToArray()).ToArray();
        var group = new ThroughputGroup(new TrainedModel(network, scaler, new ModelMetadata(), null), new Adam(network.Parameters(), 1e-3f),
            samples, batches, graphOptions);
        group.Epoch(); // warm-up: JIT and buffer pools
        group.Model.Predict(samples, batchSize);
        return group;
    }
}
