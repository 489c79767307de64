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

    public static int Run(string[] inputs, bool csv, DisorderPolicy disorder)
    {
        var files = inputs.SelectMany(PredictCommand.Expand).ToArray();
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
        Console.Write(csv ? Csv(rows) : Table(rows));
        var read = structures.OfType<Structure>().ToList();
        Console.Error.WriteLine($"read {read.Count} of {files.Length} files" +
                                (read.Count < files.Length ? $"; {files.Length - read.Count} refused (see the error column)" : ""));
        DisorderReport.Print(read, disorder);
        return read.Count < files.Length ? 3 : 0;
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

    private static string Csv(List<string[]> rows)
    {
        var text = new StringBuilder(string.Join(',', Columns)).Append('\n');
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
