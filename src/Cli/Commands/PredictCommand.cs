using System.Globalization;
using System.Text;
using SaGatSr.Gat;
using SaGatSr.Cli.Reports;
using SaGatSr.Gat.Materials;
using SaGatSr.Mpi;
using SaGatSr.Pipeline;

namespace SaGatSr.Cli.Commands;

internal static class PredictCommand
{
    private static readonly string[] StructureExtensions = [".cif", ".vasp", ".poscar", ".contcar", ".xyz", ".extxyz", ".json"];

    /// <summary>
    /// Under mpirun the structures (each file, each row of a dataset file) are split into contiguous blocks, one per rank;
    /// each rank reads and predicts its block and rank 0 writes every row in input order. Every rank reads the dataset
    /// files whole, so their rows can be split.
    /// </summary>
    /// <param name="gatePath">a classifier of whether the value is non-zero: the model is then a regressor trained where it is,
    /// and the two join by <paramref name="combine"/> (<see cref="TwoStage"/>)</param>
    public static int Run(string modelPath, string[] inputs, string? output, int batchSize, string? device, DisorderPolicy disorder,
        string structureColumn = Dataset.DefaultStructureColumn, string? gatePath = null, string combine = "expected")
    {
        var world = Communicator.World;
        // A formula.json written by explain predicts as a model: its descriptors are computed for each structure.
        var formula = FormulaModel.IsFormulaFile(modelPath) ? FormulaModel.Load(modelPath) : null;
        string? networkPath = formula is null ? modelPath
            : formula.UsesNetworkPrediction ? Path.Combine(Path.GetDirectoryName(Path.GetFullPath(modelPath))!, formula.Model
                ?? throw new InvalidDataException($"{modelPath}: the formula reads the network's prediction but names no model")) : null;
        using var predictor = networkPath is null ? null : SaGatPredictor.Load(networkPath, device);
        if (predictor is not null) Console.Error.WriteLine($"device: {predictor.DeviceName}");
        if (gatePath is not null && (formula is not null || predictor!.IsClassifier))
            throw new ArgumentException("--gate joins a classifier to a regressor: MODEL must be a network trained with --task regress.");
        using var gate = gatePath is null ? null : SaGatPredictor.Load(gatePath, device);
        if (gate is not null && !gate.IsClassifier)
            throw new ArgumentException($"--gate {gatePath}: not a classifier; train one with --task classify (e.g. --target dir_gap --threshold 0).");
        var columns = predictor is null ? null : new NetworkColumns(predictor, gate, TwoStage.ParseRule(combine));
        string targetName = formula?.Target ?? predictor!.TargetName;
        var files = inputs.SelectMany(Expand).ToArray();
        // One process predicting with a network streams (flat memory on any number of structures); ranks split a list.
        if (world.Size == 1 && formula is null) return RunStreaming(columns!, files, output, batchSize, disorder, structureColumn);
        // Each item is a file still to read, or a dataset row already read (with its id and location).
        var items = new List<(string File, (string Id, string Source, Structure Structure)? Row)>();
        var datasetProblems = new StringBuilder();
        int datasetFailures = 0;
        foreach (var file in files)
        {
            if (!Dataset.IsDatasetFile(file))
            {
                items.Add((file, null));
                continue;
            }

            try
            {
                var dataset = Dataset.Load(file, structureColumn: structureColumn, disorder: disorder);
                items.AddRange(dataset.Entries.Select(e => (file, ((string, string, Structure)?)(e.Id, e.Location ?? file, e.Structure))));
                foreach (var bad in dataset.Skipped) datasetProblems.Append(CultureInfo.InvariantCulture, $"skipped: {bad.Reason}\n");
                datasetFailures += dataset.Skipped.Count;
            }
            catch (StructureFormatException e)
            {
                datasetProblems.Append(CultureInfo.InvariantCulture, $"skipped: {e.Message}\n");
                datasetFailures++;
            }
        }

        var (first, end) = world.BlockRange(items.Count);
        var rows = new List<(string Id, string Source, Structure Structure)>();
        var skipped = new StringBuilder();
        foreach (var (file, row) in items[first..end])
        {
            if (row is { } read)
            {
                rows.Add(read);
                continue;
            }

            try
            {
                var structure = StructureReader.Read(file, disorder);
                rows.Add((structure.Id, structure.SourcePath ?? file, structure));
            }
            catch (StructureFormatException e)
            {
                skipped.Append(CultureInfo.InvariantCulture, $"skipped: {e.Message}\n");
            }
        }

        long readable = world.AllReduce((long)rows.Count, ReduceOp.Sum);
        if (readable == 0)
        {
            if (world.IsRoot) Console.Error.Write(datasetProblems);
            Console.Error.Write(string.Concat(world.AllGather(skipped.ToString())));
            throw new ArgumentException("No readable structures were given.");
        }

        var structures = rows.Select(r => r.Structure).ToList();
        if (world.IsRoot) DisorderReport.Print(structures, disorder);
        // An ensemble's spread is written beside its mean; a formula built on the network's prediction has none of its own.
        var lines = new StringBuilder();
        if (formula is null)
        {
            var values = structures.Count == 0 ? [] : columns!.Values(structures, batchSize);
            for (int i = 0; i < rows.Count; i++) lines.Append(CultureInfo.InvariantCulture, $"{CsvField(rows[i].Id)},{CsvField(rows[i].Source)}{values[i]}\n");
        }
        else
        {
            var network = structures.Count > 0 && predictor is not null ? predictor.Predict(structures, batchSize) : null;
            var predictions = structures.Count == 0 ? [] : formula.Predict(structures, network);
            for (int i = 0; i < rows.Count; i++)
                lines.Append(CultureInfo.InvariantCulture, $"{CsvField(rows[i].Id)},{CsvField(rows[i].Source)},{predictions[i]:G6}\n");
        }
        var allRows = world.Gather<byte>(Encoding.UTF8.GetBytes(lines.ToString()), 0);
        var allSkipped = world.Gather<byte>(Encoding.UTF8.GetBytes(skipped.ToString()), 0);
        if (!world.IsRoot) return 0;

        Console.Error.Write(datasetProblems);
        Console.Error.Write(Encoding.UTF8.GetString(allSkipped!));
        int failed = datasetFailures + items.Count - (int)readable;
        var csv = (formula is null ? columns!.Header() : $"id,file,{targetName}\n") + Encoding.UTF8.GetString(allRows!);
        if (output is null) Console.Write(csv);
        else
        {
            File.WriteAllText(output, csv);
            Console.Error.WriteLine($"wrote {readable} predictions to {output}{(world.Size > 1 ? $" ({world.Size} ranks)" : "")}");
        }

        if (failed > 0) Console.Error.WriteLine($"{failed} structures could not be read (see above); {readable} were predicted");
        return failed > 0 ? 3 : 0;
    }

    /// <summary>
    /// The columns of a network's predictions: each target (and its std for an ensemble); for a classifier the probability
    /// of class 1 (its members' spread) and the class at the threshold chosen on validation. With a gate (a classifier of
    /// whether the value is non-zero), the two-stage value, the gate's probability and the regressor's own value.
    /// </summary>
    private sealed record NetworkColumns(SaGatPredictor Predictor, SaGatPredictor? Gate, TwoStageRule Rule)
    {
        public string Header()
        {
            var header = new StringBuilder("id,file");
            if (Gate is not null)
            {
                string name = Predictor.OutputNames[0];
                return header.Append($",{name},{Gate.OutputNames[0]}_probability,{name}_if_nonzero\n").ToString();
            }

            foreach (var name in Predictor.OutputNames)
            {
                header.Append(Predictor.IsClassifier ? $",{name}_probability" : $",{name}");
                if (Predictor.HasUncertainty) header.Append($",{name}_std");
                if (Predictor.IsClassifier) header.Append($",{name}_class");
            }

            return header.Append('\n').ToString();
        }

        /// <summary>Each structure's value columns, comma-led.</summary>
        public string[] Values(IReadOnlyList<Structure> structures, int batchSize)
        {
            var outputs = Predictor.PredictOutputs(structures, batchSize);
            var values = new string[structures.Count];
            if (Gate is not null)
            {
                var probability = Gate.PredictOutputs(structures, batchSize)[0].Mean;
                var combined = TwoStage.Combine(probability, outputs[0].Mean, Gate.DecisionThreshold, Rule);
                for (int i = 0; i < values.Length; i++)
                    values[i] = FormattableString.Invariant($",{combined[i]:G6},{probability[i]:G6},{outputs[0].Mean[i]:G6}");
                return values;
            }

            for (int i = 0; i < values.Length; i++)
            {
                var line = new StringBuilder();
                foreach (var output in outputs)
                {
                    line.Append(CultureInfo.InvariantCulture, $",{output.Mean[i]:G6}");
                    if (Predictor.HasUncertainty) line.Append(CultureInfo.InvariantCulture, $",{output.Std[i]:G6}");
                    if (Predictor.IsClassifier) line.Append(output.Mean[i] >= Predictor.DecisionThreshold ? ",1" : ",0");
                }

                values[i] = line.ToString();
            }

            return values;
        }
    }

    /// <summary>Structures predicted and written a block at a time, with the same rows and messages as the whole-list path.</summary>
    private const int StreamBlock = 4096;

    private static int RunStreaming(NetworkColumns columns, string[] files, string? output, int batchSize,
        DisorderPolicy disorder, string structureColumn)
    {
        using var file = output is null ? null : new StreamWriter(output);
        var writer = file ?? Console.Out;
        writer.Write(columns.Header());
        var block = new List<(string Id, string Source, Structure Structure)>(StreamBlock);
        long predicted = 0, failed = 0, disorderedSites = 0, disorderedStructures = 0;
        void Predict()
        {
            if (block.Count == 0) return;
            var structures = block.Select(r => r.Structure).ToList();
            disorderedSites += structures.Sum(s => s.DisorderedSites);
            disorderedStructures += structures.Count(s => s.DisorderedSites > 0);
            var values = columns.Values(structures, batchSize);
            var lines = new StringBuilder();
            for (int i = 0; i < block.Count; i++) lines.Append(CultureInfo.InvariantCulture, $"{CsvField(block[i].Id)},{CsvField(block[i].Source)}{values[i]}\n");

            writer.Write(lines);

            predicted += block.Count;
            block.Clear();
        }

        ConsoleProgress.Run("predicting", sink =>
        {
            for (int f = 0; f < files.Length; f++)
            {
                foreach (var (row, problem) in Stream(files[f], structureColumn, disorder, fraction => sink.Report((f + fraction) / files.Length, $"{predicted + block.Count} structures")))
                {
                    if (problem is not null)
                    {
                        Console.Error.WriteLine($"skipped: {problem}");
                        failed++;
                        continue;
                    }

                    block.Add(row);
                    if (block.Count == StreamBlock) Predict();
                }
            }

            Predict();
            return 0;
        });
        writer.Flush();
        if (predicted == 0) throw new ArgumentException("No readable structures were given.");
        if (DisorderReport.Describe(disorderedSites, disorderedStructures, predicted, disorder) is { } disorderLine) Console.Error.WriteLine(disorderLine);
        if (output is not null) Console.Error.WriteLine($"wrote {predicted} predictions to {output}");
        if (failed > 0) Console.Error.WriteLine($"{failed} structures could not be read (see above); {predicted} were predicted");
        return failed > 0 ? 3 : 0;
    }

    /// <summary>Each structure of a file (a CSV dataset read as it goes), or why one could not be read.</summary>
    private static IEnumerable<((string Id, string Source, Structure Structure) Row, string? Problem)> Stream(string file,
        string structureColumn, DisorderPolicy disorder, Action<double> progress)
    {
        if (file.EndsWith(".csv", StringComparison.OrdinalIgnoreCase))
        {
            using var reader = new StreamReader(file, Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
            IEnumerable<(DatasetEntry? Entry, SkippedEntry? Skipped)> rows;
            try
            {
                rows = Dataset.StreamCsv(reader, file, structureColumn, disorder);
            }
            catch (StructureFormatException e)
            {
                rows = [(null, new SkippedEntry(file, e.Message))];
            }

            long length = Math.Max(1, reader.BaseStream.Length);
            foreach (var (entry, skipped) in rows)
            {
                yield return entry is null ? (default, skipped!.Reason) : ((entry.Id, entry.Location!, entry.Structure), null);
                progress((double)reader.BaseStream.Position / length);
            }

            yield break;
        }

        if (Dataset.IsDatasetFile(file))
        {
            Dataset dataset;
            string? error = null;
            try
            {
                dataset = Dataset.Load(file, structureColumn: structureColumn, disorder: disorder);
            }
            catch (StructureFormatException e)
            {
                dataset = null!;
                error = e.Message;
            }

            if (error is not null)
            {
                yield return (default, error);
                yield break;
            }

            foreach (var bad in dataset.Skipped) yield return (default, bad.Reason);
            foreach (var e in dataset.Entries) yield return ((e.Id, e.Location ?? file, e.Structure), null);
            progress(1);
            yield break;
        }

        (string, string, Structure) read;
        string? problem = null;
        try
        {
            var structure = StructureReader.Read(file, disorder);
            read = (structure.Id, structure.SourcePath ?? file, structure);
        }
        catch (StructureFormatException e)
        {
            read = default;
            problem = e.Message;
        }

        yield return (read, problem);
        progress(1);
    }

    /// <summary>A CSV field, quoted when it holds a comma, quote or line break.</summary>
    private static string CsvField(string text) =>
        text.IndexOfAny([',', '"', '\n', '\r']) < 0 ? text : "\"" + text.Replace("\"", "\"\"") + "\"";

    /// <summary>A file as it is; a folder's structure files (by extension, *POSCAR*, *CONTCAR*), sorted.</summary>
    internal static IEnumerable<string> Expand(string input)
    {
        if (File.Exists(input)) return [input];
        if (Directory.Exists(input))
            return Directory.EnumerateFiles(input)
                .Where(f => StructureExtensions.Contains(Path.GetExtension(f).ToLowerInvariant())
                            || Path.GetFileName(f).Contains("POSCAR", StringComparison.OrdinalIgnoreCase)
                            || Path.GetFileName(f).Contains("CONTCAR", StringComparison.OrdinalIgnoreCase))
                .Order(StringComparer.Ordinal);
        throw new FileNotFoundException($"{input}: no such file or folder.", input);
    }
}
