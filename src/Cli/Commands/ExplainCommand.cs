using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using SaGatSr.Cli.Reports;
using SaGatSr.Gat.Training;
using SaGatSr.Symbolic;

namespace SaGatSr.Cli.Commands;

internal sealed record ExplainArguments(TrainArguments Training, SrArguments Sr, string Output, string? ModelPath, int? TopK,
    bool WithPrediction);

/// <summary>
/// SA-GAT-SR: the network screens the features (SAE importance), symbolic regression distils a formula from the few it
/// keeps. Each finished stage leaves its files, so a rerun after a crash resumes: training from its checkpoint, and a
/// finished model is reused rather than retrained.
/// </summary>
internal static class ExplainCommand
{
    public const string PredictionFeature = "sagat_prediction";

    /// <summary>
    /// Default k: the features whose mean importance is at least twice the uniform 1/F, but no fewer than 5 (SR needs
    /// material to combine) and no more than 10 (the SR feature space grows combinatorially with k).
    /// </summary>
    public static int DefaultTopK(IReadOnlyList<FeatureImportance> ranking) =>
        Math.Clamp(ranking.Count(f => f.Mean >= 2.0 / ranking.Count), Math.Min(5, ranking.Count), Math.Min(10, ranking.Count));

    public static int RunDemo(string output, int epochs, string? device, CancellationToken cancel)
    {
        var dataset = Path.Combine(AppContext.BaseDirectory, "data", "jarvis-bandgap");
        if (!Directory.Exists(dataset))
            throw new DirectoryNotFoundException($"{dataset}: the shipped demo dataset is missing from the build output.");
        var training = new TrainArguments(dataset, null, Path.Combine(output, "model"), device, epochs, 8, 3e-3f, 32, 4, 2, 8.0,
            12, "sae", null, 0.8, 0.1, 42, 40, "mse", true, "sae", "plateau", 0, 0, 1e-4f, 40);
        var sr = new SrArguments("sisso", null, 20, 60, 1, 2, 2, device);
        return Run(new ExplainArguments(training, sr, output, null, null, WithPrediction: false), cancel);
    }

    public static int Run(ExplainArguments arguments, CancellationToken cancel)
    {
        if (arguments.Training.Encoder != "sae" && arguments.ModelPath is null)
            throw new ArgumentException($"explain screens features by SAE importance; --encoder {arguments.Training.Encoder} ranks none. Use --encoder sae.");
        var total = Stopwatch.StartNew();
        Directory.CreateDirectory(arguments.Output);
        using var backend = DevicesCommand.Open(arguments.Training.Device);
        var prepared = TrainCommand.Prepare(arguments.Training);
        var data = prepared.Data;

        var modelPath = arguments.ModelPath ?? Path.Combine(arguments.Training.Output, TrainCommand.ModelFileName);
        var trainWatch = Stopwatch.StartNew();
        TrainedModel model;
        if (File.Exists(modelPath) && (arguments.ModelPath is not null || arguments.Training.Resume))
        {
            Console.Error.WriteLine($"using the trained model {modelPath}");
            model = ModelFile.Load(modelPath, backend);
            if (!model.Config.FeatureNames.SequenceEqual(data.Features.Features.Select(f => f.Name)))
                throw new InvalidDataException($"{modelPath} was trained on other features than --featurizer {arguments.Training.Featurizer} gives.");
        }
        else model = TrainCommand.Train(backend, prepared, arguments.Training, cancel);

        using (model)
        {
            double trainSeconds = trainWatch.Elapsed.TotalSeconds;
            var samples = model.Prepare(prepared.Structures);
            var networkPredictions = model.Predict(samples);
            var ranking = model.Importance ?? model.ComputeImportance(samples);
            int k = Math.Clamp(arguments.TopK ?? DefaultTopK(ranking), 1, ranking.Count);
            var top = ranking.Take(k).ToArray();
            Console.WriteLine($"SAE screening kept {k} of {ranking.Count} features: {string.Join(", ", top.Select(f => f.Name))}");

            var split = SplitOf(model, data, arguments.Training);
            var table = CrystalTable(data, top, arguments.WithPrediction ? networkPredictions : null);
            var trainTable = SelectRows(table, split.Train);
            var trainTarget = split.Train.Select(i => data.Targets[i]).ToArray();
            var srWatch = Stopwatch.StartNew();
            var result = SrCommand.Search(trainTable, trainTarget, arguments.Sr.ToOptions(), cancel);
            double srSeconds = srWatch.Elapsed.TotalSeconds;

            var srFolder = Path.Combine(arguments.Output, "sr");
            Directory.CreateDirectory(srFolder);
            SrCommand.WriteReport(srFolder, result, data.TargetName);
            var formulaPredictions = result.Best.Evaluate(table);
            var evaluation = Evaluate(split, data.Targets, networkPredictions, formulaPredictions);
            WriteReport(arguments, data, prepared, split, top, ranking, table, result, networkPredictions, formulaPredictions,
                evaluation, trainSeconds, srSeconds, total.Elapsed.TotalSeconds);

            Console.WriteLine(FormulaReport.Describe(result));
            Console.WriteLine($"chosen formula: {data.TargetName} = {result.Best.ToText()}");
            Console.WriteLine($"test MAE: SA-GAT {evaluation["network"]["test"].Mae:G4}, formula {evaluation["formula"]["test"].Mae:G4}, " +
                              $"training mean {evaluation["mean"]["test"].Mae:G4}");
            Console.WriteLine($"report: {arguments.Output} ({total.Elapsed.TotalSeconds:F1} s, peak memory {PeakMemoryMiB():F0} MiB)");
        }

        return 0;
    }

    /// <summary>
    /// The split the model was trained with, from the ids it recorded, so the formula is tested on the same unseen
    /// crystals as the network; crystals the model's split does not name are left out of both.
    /// </summary>
    private static DataSplit SplitOf(TrainedModel model, TrainingData data, TrainArguments training)
    {
        if (model.Metadata is not { TrainIds: { } train, ValidationIds: { } validation, TestIds: { } test })
            return training.SplitFile is { } file
                ? DataSplit.FromFile(file, data.Ids)
                : DataSplit.ByRatio(data.Ids.Count, training.TrainRatio, training.ValidationRatio, training.Seed);
        var index = new Dictionary<string, int>();
        for (int i = 0; i < data.Ids.Count; i++) index[data.Ids[i]] = i;
        int[] Indices(string[] ids) => ids.Where(index.ContainsKey).Select(id => index[id]).ToArray();
        var split = new DataSplit(Indices(train), Indices(validation), Indices(test));
        if (split.Train.Length == 0)
            throw new InvalidDataException("None of the crystals the model was trained on is in this dataset, so SR has nothing to fit; " +
                                           "train on this dataset (omit --model) instead.");
        return split;
    }

    /// <summary>One row per crystal: each kept feature averaged over the crystal's atoms, in its physical units.</summary>
    internal static FeatureTable CrystalTable(TrainingData data, IReadOnlyList<FeatureImportance> features, double[]? prediction)
    {
        int featureCount = data.Features.Count;
        var names = features.Select(f => f.Name).ToList();
        var columns = features.Select(_ => new double[data.Inputs.Count]).ToList();
        for (int c = 0; c < data.Inputs.Count; c++)
        {
            var matrix = data.Inputs[c].Features;
            int atoms = matrix.Length / featureCount;
            for (int j = 0; j < features.Count; j++)
            {
                double sum = 0;
                for (int a = 0; a < atoms; a++) sum += matrix[a * featureCount + features[j].Index];
                columns[j][c] = sum / atoms;
            }
        }

        if (prediction is not null)
        {
            names.Add(PredictionFeature);
            columns.Add(prediction);
        }

        return new FeatureTable(names.ToArray(), columns.ToArray());
    }

    private static FeatureTable SelectRows(FeatureTable table, int[] rows) =>
        new(table.Names.ToArray(), table.Columns.Select(column => rows.Select(r => column[r]).ToArray()).ToArray());

    private static Dictionary<string, Dictionary<string, RegressionMetrics>> Evaluate(DataSplit split, IReadOnlyList<double> targets,
        double[] network, double[] formula)
    {
        double mean = split.Train.Average(i => targets[i]);
        var result = new Dictionary<string, Dictionary<string, RegressionMetrics>>();
        foreach (var (name, values) in new[] { ("network", network), ("formula", formula), ("mean", targets.Select(_ => mean).ToArray()) })
        {
            result[name] = new Dictionary<string, RegressionMetrics>();
            foreach (var (set, indices) in new[] { ("train", split.Train), ("val", split.Validation), ("test", split.Test) })
                result[name][set] = RegressionMetrics.Compute(indices.Select(i => targets[i]).ToArray(),
                    indices.Select(i => values[i]).ToArray());
        }

        return result;
    }

    private static void WriteReport(ExplainArguments arguments, TrainingData data, PreparedDataset prepared, DataSplit split,
        FeatureImportance[] top, IReadOnlyList<FeatureImportance> ranking, FeatureTable table, SrResult result,
        double[] network, double[] formula, Dictionary<string, Dictionary<string, RegressionMetrics>> evaluation,
        double trainSeconds, double srSeconds, double totalSeconds)
    {
        var folder = arguments.Output;
        ImportanceCommand.WriteChart(Path.Combine(folder, "importance.png"), ranking, 20);
        (string, double[], double[]) Set(string name, int[] indices, double[] predicted) =>
            (name, indices.Select(i => data.Targets[i]).ToArray(), indices.Select(i => predicted[i]).ToArray());
        Plots.Parity(Path.Combine(folder, "parity_network.png"), $"SA-GAT: {data.TargetName}", data.TargetName,
            [Set("train", split.Train, network), Set($"test (MAE {evaluation["network"]["test"].Mae:G3})", split.Test, network)]);
        Plots.Parity(Path.Combine(folder, "parity_formula.png"), $"Formula: {data.TargetName}", data.TargetName,
            [Set("train", split.Train, formula), Set($"test (MAE {evaluation["formula"]["test"].Mae:G3})", split.Test, formula)]);
        File.Copy(Path.Combine(folder, "sr", "pareto.png"), Path.Combine(folder, "pareto.png"), overwrite: true);
        File.WriteAllText(Path.Combine(folder, "formula.txt"),
            $"{data.TargetName} = {result.Best.ToText()}\nexpanded: {data.TargetName} = {result.Best.ToSimplifiedText()}\n");
        File.WriteAllText(Path.Combine(folder, "formula.tex"), $"\\[ \\mathrm{{{data.TargetName.Replace("_", "\\_")}}} = {result.Best.ToLatex()} \\]\n");

        var csv = new StringBuilder("id,split," + string.Join(',', table.Names) + $",{data.TargetName},sagat,formula\n");
        var setOf = new string[data.Ids.Count];
        foreach (var (name, indices) in new[] { ("train", split.Train), ("val", split.Validation), ("test", split.Test) })
            foreach (var i in indices) setOf[i] = name;
        for (int i = 0; i < data.Ids.Count; i++)
        {
            csv.Append(data.Ids[i]).Append(',').Append(setOf[i] ?? "unused");
            foreach (var column in table.Columns) csv.Append(',').Append(column[i].ToString("R", CultureInfo.InvariantCulture));
            csv.Append(CultureInfo.InvariantCulture, $",{data.Targets[i]:R},{network[i]:R},{formula[i]:R}\n");
        }

        File.WriteAllText(Path.Combine(folder, "crystals.csv"), csv.ToString());
        var run = new
        {
            command = Environment.GetCommandLineArgs(),
            created = DateTime.UtcNow.ToString("O"),
            dataset = data.DatasetPath,
            target = data.TargetName,
            crystals = data.Ids.Count,
            skipped = prepared.Dataset.Skipped.Select(s => new { s.Id, s.Reason }),
            training = arguments.Training,
            model = arguments.ModelPath ?? Path.Combine(arguments.Training.Output, TrainCommand.ModelFileName),
            split = new { train = split.Train.Select(i => data.Ids[i]), val = split.Validation.Select(i => data.Ids[i]), test = split.Test.Select(i => data.Ids[i]) },
            screening = new
            {
                rule = arguments.TopK is null ? "features with importance >= 2/F, clamped to [5, 10]" : "--top-k",
                kept = top.Select(f => new { f.Name, f.Description, f.Mean, f.Std }),
                with_prediction = arguments.WithPrediction,
            },
            symbolic_regression = new
            {
                options = arguments.Sr,
                chosen = new { text = result.Best.ToText(), latex = result.Best.ToLatex(), result.Best.Complexity },
                pareto_front = result.ParetoFront.Select(f => new { f.Complexity, f.Mae, f.Rmse, f.R2, text = f.ToText() }),
                evaluations = result.Evaluations,
            },
            metrics = evaluation,
            seconds = new { training = trainSeconds, symbolic_regression = srSeconds, total = totalSeconds },
            peak_memory_mib = PeakMemoryMiB(),
            device = arguments.Training.Device ?? Environment.GetEnvironmentVariable("SAGATSR_DEVICE") ?? "auto",
        };
        File.WriteAllText(Path.Combine(folder, "run.json"), JsonSerializer.Serialize(run, ModelFile.Json));
    }

    private static double PeakMemoryMiB() => Process.GetCurrentProcess().PeakWorkingSet64 / (1024.0 * 1024.0);
}
