using System.Globalization;
using System.Text;
using SaGatSr.Gat;
using SaGatSr.Gat.Materials;
using SaGatSr.Mpi;

namespace SaGatSr.Cli.Commands;

internal static class PredictCommand
{
    private static readonly string[] StructureExtensions = [".cif", ".vasp", ".poscar", ".contcar", ".xyz", ".extxyz"];

    /// <summary>
    /// Under mpirun the files are split into contiguous blocks, one per rank; each rank reads and predicts its block and
    /// rank 0 writes every row in input order.
    /// </summary>
    public static int Run(string modelPath, string[] inputs, string? output, int batchSize, string? device)
    {
        var world = Communicator.World;
        using var predictor = SaGatPredictor.Load(modelPath, device);
        Console.Error.WriteLine($"device: {predictor.DeviceName}");
        var files = inputs.SelectMany(Expand).ToArray();
        var (first, end) = world.BlockRange(files.Length);
        var structures = new List<Structure>();
        var skipped = new StringBuilder();
        foreach (var file in files[first..end])
        {
            try
            {
                structures.Add(StructureReader.Read(file));
            }
            catch (StructureFormatException e)
            {
                skipped.Append(CultureInfo.InvariantCulture, $"skipped: {e.Message}\n");
            }
        }

        long readable = world.AllReduce((long)structures.Count, ReduceOp.Sum);
        if (readable == 0)
        {
            Console.Error.Write(string.Concat(world.AllGather(skipped.ToString())));
            throw new ArgumentException("No readable structures were given.");
        }

        var predictions = structures.Count > 0 ? predictor.Predict(structures, batchSize) : [];
        var rows = new StringBuilder();
        for (int i = 0; i < structures.Count; i++)
            rows.Append(CultureInfo.InvariantCulture, $"{structures[i].Id},{structures[i].SourcePath},{predictions[i]:G6}\n");
        var allRows = world.Gather<byte>(Encoding.UTF8.GetBytes(rows.ToString()), 0);
        var allSkipped = world.Gather<byte>(Encoding.UTF8.GetBytes(skipped.ToString()), 0);
        if (!world.IsRoot) return 0;

        Console.Error.Write(Encoding.UTF8.GetString(allSkipped!));
        int failed = files.Length - (int)readable;
        var csv = $"id,file,{predictor.TargetName}\n" + Encoding.UTF8.GetString(allRows!);
        if (output is null) Console.Write(csv);
        else
        {
            File.WriteAllText(output, csv);
            Console.Error.WriteLine($"wrote {readable} predictions to {output}{(world.Size > 1 ? $" ({world.Size} ranks)" : "")}");
        }

        if (failed > 0) Console.Error.WriteLine($"{failed} of {files.Length} files could not be read (see above)");
        return failed > 0 ? 3 : 0;
    }

    private static IEnumerable<string> Expand(string input)
    {
        if (File.Exists(input)) return [input];
        if (Directory.Exists(input))
            return Directory.EnumerateFiles(input)
                .Where(f => StructureExtensions.Contains(Path.GetExtension(f).ToLowerInvariant())
                            || Path.GetFileName(f).StartsWith("POSCAR", StringComparison.OrdinalIgnoreCase)
                            || Path.GetFileName(f).StartsWith("CONTCAR", StringComparison.OrdinalIgnoreCase))
                .Order(StringComparer.Ordinal);
        throw new FileNotFoundException($"{input}: no such file or folder.", input);
    }
}
