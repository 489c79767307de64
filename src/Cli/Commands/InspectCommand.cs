using System.Globalization;
using System.Text;
using SaGatSr.Cli.Reports;
using SaGatSr.Gat.Materials;
using SaGatSr.Gat.Materials.Symmetry;

namespace SaGatSr.Cli.Commands;

/// <summary>
/// `sagatsr inspect`: one row per structure file with what was read (formula, sites, volume, cell, space group,
/// disordered sites) or why it was refused, the first thing to run on a new dataset and the row to compare with
/// other tools' readers.
/// </summary>
internal static class InspectCommand
{
    public static readonly string[] Columns =
        ["file", "id", "formula", "sites", "volume", "a", "b", "c", "alpha", "beta", "gamma", "space_group", "disordered_sites", "error"];

    /// <summary>Files read (in parallel) and written per block when streaming.</summary>
    private const int StreamBlock = 4096;

    public static int Run(string[] inputs, bool csv, DisorderPolicy disorder)
    {
        var files = inputs.SelectMany(PredictCommand.Expand).ToArray();
        // A CSV needs no column widths, so its rows go out a block at a time: flat memory on any number of files.
        if (csv) return RunStreaming(files, disorder);
        var structures = new Structure?[files.Length];
        var errors = new StructureFormatException?[files.Length];
        Parallel.For(0, files.Length, k =>
        {
            try
            {
                structures[k] = StructureReader.Read(files[k], disorder);
            }
            catch (StructureFormatException e)
            {
                errors[k] = e;
            }
        });

        var rows = files.Select((file, k) => Row(file, structures[k], errors[k])).ToList();
        Console.Write(Table(rows));
        var read = structures.OfType<Structure>().ToList();
        Console.Error.WriteLine($"read {read.Count} of {files.Length} files" +
                                (read.Count < files.Length ? $"; {files.Length - read.Count} refused (see the error column)" : ""));
        DisorderReport.Print(read, disorder);
        return read.Count < files.Length ? 3 : 0;
    }

    private static int RunStreaming(string[] files, DisorderPolicy disorder)
    {
        Console.Write(string.Join(',', Columns) + "\n");
        long read = 0, disorderedSites = 0, disorderedStructures = 0;
        ConsoleProgress.Run("reading structures", sink =>
        {
            for (int start = 0; start < files.Length; start += StreamBlock)
            {
                int count = Math.Min(StreamBlock, files.Length - start);
                var rows = new string[count][];
                Parallel.For(0, count, k =>
                {
                    try
                    {
                        var structure = StructureReader.Read(files[start + k], disorder);
                        rows[k] = Row(files[start + k], structure, null);
                        Interlocked.Increment(ref read);
                        Interlocked.Add(ref disorderedSites, structure.DisorderedSites);
                        if (structure.DisorderedSites > 0) Interlocked.Increment(ref disorderedStructures);
                    }
                    catch (StructureFormatException e)
                    {
                        rows[k] = Row(files[start + k], null, e);
                    }
                });
                Console.Write(Csv(rows));
                sink.Report((double)(start + count) / files.Length, $"{start + count}/{files.Length}");
            }

            return 0;
        });
        Console.Error.WriteLine($"read {read} of {files.Length} files" +
                                (read < files.Length ? $"; {files.Length - read} refused (see the error column)" : ""));
        if (DisorderReport.Describe(disorderedSites, disorderedStructures, read, disorder) is { } line) Console.Error.WriteLine(line);
        return read < files.Length ? 3 : 0;
    }

    internal static string[] Row(string file, Structure? s, StructureFormatException? error)
    {
        if (s is null)
        {
            string problem = error!.Line is { } line ? $"line {line}: {error.Problem}" : error.Problem;
            return [file, Path.GetFileNameWithoutExtension(file), "", "", "", "", "", "", "", "", "", "", "", problem];
        }

        var cell = s.CellParameters;
        string F(double v, string format) => v.ToString(format, CultureInfo.InvariantCulture);
        return
        [
            file, s.Id, s.Formula, s.AtomCount.ToString(CultureInfo.InvariantCulture), F(s.Volume, "0.###"),
            F(cell.A, "0.####"), F(cell.B, "0.####"), F(cell.C, "0.####"), F(cell.Alpha, "0.###"), F(cell.Beta, "0.###"), F(cell.Gamma, "0.###"),
            s.SpaceGroup ?? Detected(s), s.DisorderedSites.ToString(CultureInfo.InvariantCulture), "",
        ];
    }

    /// <summary>The space group found from the atoms, for files that name none (POSCAR, extended XYZ, bare CIFs).</summary>
    private static string Detected(Structure s) =>
        SpaceGroupFinder.Find(s) is { } setting ? $"{setting.Symbol} ({setting.Number}) detected" : "";

    private static string Csv(IEnumerable<string[]> rows)
    {
        var text = new StringBuilder();
        foreach (var row in rows)
            text.Append(string.Join(',', row.Select(Quote))).Append('\n');
        return text.ToString();

        static string Quote(string cell) =>
            cell.IndexOfAny([',', '"', '\n']) >= 0 ? '"' + cell.Replace("\"", "\"\"").Replace('\n', ' ') + '"' : cell;
    }

    private static string Table(List<string[]> rows)
    {
        var all = rows.Prepend(Columns).ToList();
        var widths = Enumerable.Range(0, Columns.Length).Select(c => all.Max(r => r[c].Length)).ToArray();
        var text = new StringBuilder();
        foreach (var row in all)
            text.Append(string.Join("  ", row.Select((cell, c) => c == Columns.Length - 1 ? cell : cell.PadRight(widths[c]))).TrimEnd()).Append('\n');
        return text.ToString();
    }
}
