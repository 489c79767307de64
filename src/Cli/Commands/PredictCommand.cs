using System.Globalization;
using System.Text;
using SaGatSr.Gat;
using SaGatSr.Cli.Reports;
using SaGatSr.Gat.Materials;

namespace SaGatSr.Cli.Commands;

internal static class PredictCommand
{
    private static readonly string[] StructureExtensions = [".cif", ".vasp", ".poscar", ".contcar", ".xyz", ".extxyz", ".json"];

    public static int Run(string modelPath, string[] inputs, string? output, int batchSize, string? device, DisorderPolicy disorder,
        string structureColumn = Dataset.DefaultStructureColumn)
    {
        using var predictor = SaGatPredictor.Load(modelPath, device);
        Console.Error.WriteLine($"device: {predictor.DeviceName}");
        var files = inputs.SelectMany(Expand).ToArray();
        var rows = new List<(string Id, string Source, Structure Structure)>();
        int failed = 0;
        foreach (var file in files)
        {
            try
            {
                if (Dataset.IsDatasetFile(file))
                {
                    // A dataset file predicts every readable row under its own ids; its unreadable rows are reported.
                    var dataset = Dataset.Load(file, structureColumn: structureColumn, disorder: disorder);
                    rows.AddRange(dataset.Entries.Select(e => (e.Id, e.Location ?? file, e.Structure)));
                    foreach (var bad in dataset.Skipped) Console.Error.WriteLine($"skipped: {bad.Reason}");
                    failed += dataset.Skipped.Count;
                }
                else
                {
                    var structure = StructureReader.Read(file, disorder);
                    rows.Add((structure.Id, structure.SourcePath ?? file, structure));
                }
            }
            catch (StructureFormatException e)
            {
                Console.Error.WriteLine($"skipped: {e.Message}");
                failed++;
            }
        }

        if (rows.Count == 0) throw new ArgumentException("No readable structures were given.");
        var structures = rows.Select(r => r.Structure).ToList();
        DisorderReport.Print(structures, disorder);
        var predictions = predictor.Predict(structures, batchSize);
        var csv = new StringBuilder($"id,file,{predictor.TargetName}\n");
        for (int i = 0; i < rows.Count; i++)
            csv.Append(CultureInfo.InvariantCulture, $"{CsvField(rows[i].Id)},{CsvField(rows[i].Source)},{predictions[i]:G6}\n");
        if (output is null) Console.Write(csv);
        else
        {
            File.WriteAllText(output, csv.ToString());
            Console.Error.WriteLine($"wrote {structures.Count} predictions to {output}");
        }

        if (failed > 0) Console.Error.WriteLine($"{failed} structures could not be read (see above); {rows.Count} were predicted");
        return failed > 0 ? 3 : 0;
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
