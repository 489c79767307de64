using System.Globalization;
using System.Text;
using SaGatSr.Gat;
using SaGatSr.Cli.Reports;
using SaGatSr.Gat.Materials;

namespace SaGatSr.Cli.Commands;

internal static class PredictCommand
{
    private static readonly string[] StructureExtensions = [".cif", ".vasp", ".poscar", ".contcar", ".xyz", ".extxyz"];

    public static int Run(string modelPath, string[] inputs, string? output, int batchSize, string? device, DisorderPolicy disorder)
    {
        using var predictor = SaGatPredictor.Load(modelPath, device);
        Console.Error.WriteLine($"device: {predictor.DeviceName}");
        var files = inputs.SelectMany(Expand).ToArray();
        var structures = new List<Structure>();
        int failed = 0;
        foreach (var file in files)
        {
            try
            {
                structures.Add(StructureReader.Read(file, disorder));
            }
            catch (StructureFormatException e)
            {
                Console.Error.WriteLine($"skipped: {e.Message}");
                failed++;
            }
        }

        if (structures.Count == 0) throw new ArgumentException("No readable structures were given.");
        DisorderReport.Print(structures, disorder);
        var predictions = predictor.Predict(structures, batchSize);
        var csv = new StringBuilder($"id,file,{predictor.TargetName}\n");
        for (int i = 0; i < structures.Count; i++)
            csv.Append(CultureInfo.InvariantCulture, $"{structures[i].Id},{structures[i].SourcePath},{predictions[i]:G6}\n");
        if (output is null) Console.Write(csv);
        else
        {
            File.WriteAllText(output, csv.ToString());
            Console.Error.WriteLine($"wrote {structures.Count} predictions to {output}");
        }

        if (failed > 0) Console.Error.WriteLine($"{failed} of {files.Length} files could not be read (see above)");
        return failed > 0 ? 3 : 0;
    }

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
