using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace SaGatSr.Gat.Materials;

/// <summary>A missing or non-numeric value of one target for one entry that was otherwise read.</summary>
public sealed record TargetGap(string Id, int Target, string Reason);

/// <summary>
/// Datasets kept in one file: a CSV with a structure column (CDVAE/DiffCSP's perov_5, mp_20, carbon_24: an unnamed index,
/// material_id, cif, then properties) and multi-frame extended XYZ (ASE) with per-frame properties.
/// </summary>
public sealed partial class Dataset
{
    public const string DefaultStructureColumn = "cif";

    /// <summary>Columns that name an entry, in order of preference; without one, entries are numbered by row.</summary>
    public static readonly IReadOnlyList<string> IdColumns = ["material_id", "id"];

    /// <summary>Per-entry values of a target that were missing or not numbers (the entry's value is NaN there).</summary>
    public IReadOnlyList<TargetGap> TargetGaps { get; private init; } = [];

    /// <summary>True for files that hold a whole dataset rather than one structure.</summary>
    public static bool IsDatasetFile(string path)
    {
        string name = path.ToLowerInvariant();
        return name.EndsWith(".csv", StringComparison.Ordinal) || name.EndsWith(".xyz", StringComparison.Ordinal) ||
               name.EndsWith(".extxyz", StringComparison.Ordinal) || StructureReader.IsJson(name);
    }

    private static Dataset LoadFile(string path, string structureColumn, IProgress<(int done, int total)>? progress, DisorderPolicy disorder)
    {
        if (path.EndsWith(".csv", StringComparison.OrdinalIgnoreCase)) return LoadCsv(path, structureColumn, progress, disorder);
        return StructureReader.IsJson(path) ? LoadJson(path, structureColumn, progress, disorder) : LoadXyzFrames(path, progress);
    }

    /// <summary>
    /// A Matbench-style dataset (pandas "split" layout: "index" = ids, "columns" = [structure, target...], "data" = rows of a
    /// pymatgen Structure and the targets), or a single pymatgen Structure, which loads for prediction.
    /// </summary>
    private static Dataset LoadJson(string path, string structureColumn, IProgress<(int done, int total)>? progress, DisorderPolicy disorder)
    {
        using var document = PymatgenJsonReader.ReadDocument(path);
        var root = document.RootElement;
        if (PymatgenJsonReader.IsStructure(root))
        {
            var single = PymatgenJsonReader.Parse(root, path, StructureReader.JsonId(path), Path.GetFullPath(path), disorder);
            progress?.Report((1, 1));
            return new Dataset([new DatasetEntry(single.Id, single, [], path)], [], []);
        }

        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("columns", out var columnList) || !root.TryGetProperty("data", out var data)
            || columnList.ValueKind != JsonValueKind.Array || data.ValueKind != JsonValueKind.Array)
            throw new StructureFormatException(path, null,
                "neither a pymatgen Structure nor a Matbench-style dataset (an object with \"columns\" and \"data\", pandas' split layout)");
        var columns = columnList.EnumerateArray().Select(c => c.ToString()).ToArray();
        int structureAt = Array.FindIndex(columns, c => c.Equals(structureColumn, StringComparison.OrdinalIgnoreCase));
        if (structureAt < 0) structureAt = Array.FindIndex(columns, c => c.Equals("structure", StringComparison.OrdinalIgnoreCase));
        if (structureAt < 0)
            throw new StructureFormatException(path, null,
                $"no structure column '{structureColumn}' or 'structure' (columns: {string.Join(", ", columns)}); name it with --structure-column");
        var ids = root.TryGetProperty("index", out var index) && index.ValueKind == JsonValueKind.Array
            ? index.EnumerateArray().Select(i => i.ToString()).ToArray()
            : [];
        var rows = data.EnumerateArray().ToArray();
        var targetColumns = Enumerable.Range(0, columns.Length)
            .Where(c => c != structureAt && rows.Any(r => r.ValueKind == JsonValueKind.Array && c < r.GetArrayLength() && r[c].ValueKind == JsonValueKind.Number))
            .ToArray();

        var skipped = new List<SkippedEntry>();
        var structures = new Structure?[rows.Length];
        var reasons = new string?[rows.Length];
        var rowIds = new string[rows.Length];
        int done = 0;
        Parallel.For(0, rows.Length, r =>
        {
            rowIds[r] = r < ids.Length ? ids[r] : (r + 1).ToString(CultureInfo.InvariantCulture);
            string where = $"{path}: row {r + 1} (id {rowIds[r]})";
            try
            {
                if (rows[r].ValueKind != JsonValueKind.Array || rows[r].GetArrayLength() != columns.Length)
                    throw new StructureFormatException(where, null, $"a row needs {columns.Length} values ({string.Join(", ", columns)})");
                structures[r] = PymatgenJsonReader.Parse(rows[r][structureAt], where, rowIds[r], Path.GetFullPath(path), disorder);
            }
            catch (StructureFormatException e)
            {
                reasons[r] = e.Message;
            }

            progress?.Report((Interlocked.Increment(ref done), rows.Length));
        });

        var (entries, gaps) = Collect(rowIds, structures, reasons, targetColumns.Length, r => $"{path}: row {r + 1} (id {rowIds[r]})",
            r => $"{path}: row {r + 1}", skipped, (r, t) =>
            {
                var value = rows[r][targetColumns[t]];
                if (value.ValueKind == JsonValueKind.Number)
                {
                    double number = value.GetDouble();
                    return ValueProblem(value.GetRawText(), ref number) is { } problem ? (double.NaN, $"{columns[targetColumns[t]]} is {problem}") : (number, null);
                }

                return (double.NaN, $"{columns[targetColumns[t]]} is {(value.ValueKind == JsonValueKind.Null ? "missing" : $"{value}, not a number")}");
            });
        return new Dataset(entries, targetColumns.Select(c => columns[c]).ToList(), skipped) { TargetGaps = gaps };
    }

    private static Dataset LoadCsv(string path, string structureColumn, IProgress<(int done, int total)>? progress, DisorderPolicy disorder)
    {
        List<CsvRecord> records;
        try
        {
            records = CsvRecords.Read(path).ToList();
        }
        catch (IOException e)
        {
            throw new StructureFormatException(path, null, $"cannot read the file: {e.Message}");
        }

        if (records.Count == 0) throw new StructureFormatException(path, null, "empty file");
        var (header, structureAt, idAt) = CsvLayout(records[0], path, structureColumn);
        var rows = records.Skip(1).ToArray();
        // Targets: every named column but the structure and the id that holds a number somewhere (a formula column does not).
        var targetColumns = Enumerable.Range(0, header.Length)
            .Where(c => c != structureAt && c != idAt && header[c].Length > 0 &&
                        rows.Any(r => c < r.Fields.Length && double.TryParse(r.Fields[c], NumberStyles.Float, CultureInfo.InvariantCulture, out _)))
            .ToArray();

        var skipped = new List<SkippedEntry>();
        var gaps = new List<TargetGap>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var accepted = new List<(string Id, CsvRecord Row, int Number, double[] Targets)>();
        for (int r = 0; r < rows.Length; r++)
        {
            var row = rows[r];
            int number = r + 1;
            string where = $"{path}:{row.Line}: row {number}";
            if (CsvRowProblem(row, number, header, idAt, path, seen) is { } unreadable)
            {
                skipped.Add(unreadable);
                continue;
            }

            string id = CsvRowId(row, number, idAt);
            var targets = new double[targetColumns.Length];
            for (int t = 0; t < targetColumns.Length; t++)
            {
                if (TargetProblem(row.Fields[targetColumns[t]].Trim(), out targets[t]) is not { } problem) continue;
                targets[t] = double.NaN;
                gaps.Add(new TargetGap(id, t, $"{where}: {header[targetColumns[t]]} is {problem}"));
            }

            accepted.Add((id, row, number, targets));
        }

        var structures = new Structure?[accepted.Count];
        var reasons = new string?[accepted.Count];
        int done = 0;
        Parallel.For(0, accepted.Count, k =>
        {
            var (id, row, number, _) = accepted[k];
            (structures[k], reasons[k]) = ParseCsvStructure(row, number, id, header, structureAt, path, disorder);
            progress?.Report((Interlocked.Increment(ref done), accepted.Count));
        });

        var entries = new List<DatasetEntry>();
        var kept = new HashSet<string>(StringComparer.Ordinal);
        for (int k = 0; k < accepted.Count; k++)
        {
            if (structures[k] is { } structure)
            {
                entries.Add(new DatasetEntry(accepted[k].Id, structure, accepted[k].Targets, $"{path}:{accepted[k].Row.Line}"));
                kept.Add(accepted[k].Id);
            }
            else skipped.Add(new SkippedEntry(accepted[k].Id, reasons[k]!));
        }

        return new Dataset(entries, targetColumns.Select(c => header[c]).ToList(), skipped)
        {
            TargetGaps = gaps.Where(g => kept.Contains(g.Id)).ToList(),
        };
    }

    /// <summary>
    /// The structures of a CSV dataset one by one, in file order, for prediction on datasets larger than memory: records are
    /// read and parsed a block at a time (the block in parallel) and only the ids seen are kept, to name duplicates. Rows that
    /// cannot be read come as skipped entries with the reasons <see cref="Load"/> gives; targets are not read.
    /// </summary>
    public static IEnumerable<(DatasetEntry? Entry, SkippedEntry? Skipped)> StreamCsv(TextReader reader, string path,
        string structureColumn = DefaultStructureColumn, DisorderPolicy disorder = StructureReader.DefaultDisorderPolicy, int blockSize = 1024)
    {
        using var records = CsvRecords.Read(reader, path).GetEnumerator();
        if (!records.MoveNext()) throw new StructureFormatException(path, null, "empty file");
        var (header, structureAt, idAt) = CsvLayout(records.Current, path, structureColumn);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        int number = 0;
        var block = new List<(CsvRecord Row, int Number)>(blockSize);
        while (true)
        {
            block.Clear();
            while (block.Count < blockSize && records.MoveNext()) block.Add((records.Current, ++number));
            if (block.Count == 0) yield break;
            var results = new (DatasetEntry? Entry, SkippedEntry? Skipped)[block.Count];
            for (int k = 0; k < block.Count; k++)
                results[k] = (null, CsvRowProblem(block[k].Row, block[k].Number, header, idAt, path, seen));
            Parallel.For(0, block.Count, k =>
            {
                if (results[k].Skipped is not null) return;
                var (row, n) = block[k];
                string id = CsvRowId(row, n, idAt);
                var (structure, reason) = ParseCsvStructure(row, n, id, header, structureAt, path, disorder);
                results[k] = structure is null ? (null, new SkippedEntry(id, reason!)) : (new DatasetEntry(id, structure, [], $"{path}:{row.Line}"), null);
            });
            foreach (var result in results) yield return result;
        }
    }

    private static (string[] Header, int StructureAt, int IdAt) CsvLayout(CsvRecord first, string path, string structureColumn)
    {
        if (first.Error is { } headerError) throw new StructureFormatException(path, first.Line, $"header: {headerError}");
        var header = first.Fields.Select(f => f.Trim()).ToArray();
        int structureAt = Array.FindIndex(header, h => h.Equals(structureColumn, StringComparison.OrdinalIgnoreCase));
        if (structureAt < 0)
            throw new StructureFormatException(path, 1,
                $"no structure column '{structureColumn}' (columns: {string.Join(", ", header.Select(h => h.Length == 0 ? "(unnamed)" : h))}); " +
                "name it with --structure-column");
        int idAt = IdColumns.Select(name => Array.FindIndex(header, h => h.Equals(name, StringComparison.OrdinalIgnoreCase)))
            .FirstOrDefault(i => i >= 0, -1);
        return (header, structureAt, idAt);
    }

    private static string CsvRowId(CsvRecord row, int number, int idAt) =>
        idAt >= 0 && idAt < row.Fields.Length ? row.Fields[idAt].Trim() : number.ToString(CultureInfo.InvariantCulture);

    /// <summary>Why a row is skipped before its structure is read (unreadable, wrong width, no id, a repeated id), or null.</summary>
    private static SkippedEntry? CsvRowProblem(CsvRecord row, int number, string[] header, int idAt, string path, HashSet<string> seen)
    {
        string where = $"{path}:{row.Line}: row {number}";
        if (row.Error is { } error) return new SkippedEntry($"(row {number})", $"{where}: {error}");
        string id = CsvRowId(row, number, idAt);
        if (row.Fields.Length != header.Length) return new SkippedEntry(id, $"{where}: {row.Fields.Length} fields, the header has {header.Length}");
        if (id.Length == 0) return new SkippedEntry($"(row {number})", $"{where}: empty {header[idAt]}");
        return seen.Add(id) ? null : new SkippedEntry(id, $"{where}: duplicate id '{id}' (first occurrence kept)");
    }

    private static (Structure? Structure, string? Reason) ParseCsvStructure(CsvRecord row, int number, string id, string[] header,
        int structureAt, string path, DisorderPolicy disorder)
    {
        string text = row.Fields[structureAt];
        try
        {
            if (string.IsNullOrWhiteSpace(text)) throw new StructureFormatException(id, 1, $"{header[structureAt]} is empty");
            return (StructureReader.Parse(text, "auto", id, disorder), null);
        }
        catch (StructureFormatException e)
        {
            // Lines inside the field count from the line the field starts on.
            int line = row.Lines[structureAt] + (e.Line ?? 1) - 1;
            return (null, $"{path}:{line}: row {number} ({header[structureAt]}): {e.Problem}");
        }
    }

    private static bool TryParseTarget(string text, out double value) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value) && double.IsFinite(value);

    /// <summary>
    /// Largest target magnitude taken as a value. No property a crystal graph predicts (energies in eV, gaps, moduli in GPa,
    /// conductivities on a log scale) comes near it: a larger value is a unit slip or a corrupt number, and one such target
    /// would dominate the standardised loss of the whole dataset.
    /// </summary>
    public const double MaximumTargetMagnitude = 1e6;

    /// <summary>Why a target text is not a usable value (null when it is one).</summary>
    private static string? TargetProblem(string? text, out double value)
    {
        value = double.NaN;
        if (text is null) return "missing";
        if (text.Length == 0) return "empty";
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value)) return $"'{text}', not a number";
        return ValueProblem(text, ref value);
    }

    private static string? ValueProblem(string text, ref double value)
    {
        string? problem = !double.IsFinite(value) ? $"'{text}', not a finite number"
            : Math.Abs(value) > MaximumTargetMagnitude ? $"{text}, beyond ±{MaximumTargetMagnitude:G} (a unit or corrupt value)" : null;
        if (problem is not null) value = double.NaN;
        return problem;
    }

    [GeneratedRegex("""(\w+)=("[^"]*"|\S+)""")]
    private static partial Regex XyzKeyValue();

    /// <summary>Keys of an extended XYZ comment line that describe the frame rather than a property of it.</summary>
    private static readonly HashSet<string> XyzLayoutKeys = new(StringComparer.OrdinalIgnoreCase) { "Lattice", "Properties", "pbc", "Time" };

    /// <summary>
    /// Every frame of an extended XYZ file: each frame's numeric key=value pairs (energy=..., any scalar property) are its
    /// targets, named in order of first appearance; a frame without one of them has NaN there. Ids come from an id,
    /// material_id or name key, else "file#frame".
    /// </summary>
    private static Dataset LoadXyzFrames(string path, IProgress<(int done, int total)>? progress)
    {
        string[] lines;
        try
        {
            lines = File.ReadAllText(path).Replace("\r\n", "\n").Replace('\r', '\n').Split('\n');
        }
        catch (IOException e)
        {
            throw new StructureFormatException(path, null, $"cannot read the file: {e.Message}");
        }

        var frames = new List<(int Start, int Length, Dictionary<string, string> Keys)>();
        var skipped = new List<SkippedEntry>();
        int at = 0;
        while (at < lines.Length)
        {
            if (lines[at].Trim().Length == 0)
            {
                at++;
                continue;
            }

            if (!int.TryParse(lines[at].Trim(), out int atoms) || atoms < 0)
            {
                if (frames.Count == 0)
                    throw new StructureFormatException(path, at + 1, $"expected the number of atoms, found '{lines[at].Trim()}'");
                // A broken count cannot be stepped over: the rest of the file is not framed.
                skipped.Add(new SkippedEntry($"{Path.GetFileName(path)}#{frames.Count + 1}",
                    $"{path}:{at + 1}: expected the number of atoms of frame {frames.Count + 1}, found '{lines[at].Trim()}'; the rest of the file is not read"));
                break;
            }

            int length = Math.Min(atoms + 2, lines.Length - at);
            var keys = length >= 2
                ? XyzKeyValue().Matches(lines[at + 1]).GroupBy(m => m.Groups[1].Value, StringComparer.OrdinalIgnoreCase)
                    .ToDictionary(g => g.Key, g => g.First().Groups[2].Value.Trim('"'), StringComparer.OrdinalIgnoreCase)
                : new Dictionary<string, string>();
            frames.Add((at, length, keys));
            at += length;
        }

        var targetNames = new List<string>();
        foreach (var (_, _, keys) in frames)
            foreach (var (key, value) in keys)
                if (!XyzLayoutKeys.Contains(key) && !IdColumns.Contains(key, StringComparer.OrdinalIgnoreCase) && !key.Equals("name", StringComparison.OrdinalIgnoreCase)
                    && TryParseTarget(value, out _) && !targetNames.Contains(key, StringComparer.OrdinalIgnoreCase))
                    targetNames.Add(key);

        var structures = new Structure?[frames.Count];
        var reasons = new string?[frames.Count];
        var ids = new string[frames.Count];
        int done = 0;
        Parallel.For(0, frames.Count, f =>
        {
            var (start, length, keys) = frames[f];
            string? named = IdColumns.Append("name").Select(k => keys.GetValueOrDefault(k)).FirstOrDefault(v => !string.IsNullOrWhiteSpace(v));
            ids[f] = named ?? $"{Path.GetFileName(path)}#{f + 1}";
            try
            {
                structures[f] = ExtendedXyzReader.Parse(lines[start..(start + length)], ids[f], ids[f], Path.GetFullPath(path));
            }
            catch (StructureFormatException e)
            {
                reasons[f] = $"{path}:{start + (e.Line ?? 1)}: frame {f + 1}: {e.Problem}";
            }

            progress?.Report((Interlocked.Increment(ref done), frames.Count));
        });

        var (entries, gaps) = Collect(ids, structures, reasons, targetNames.Count, f => $"{path}:{frames[f].Start + 1}: frame {f + 1}",
            f => $"{path}:{frames[f].Start + 1}", skipped, (f, t) =>
            {
                string? problem = TargetProblem(frames[f].Keys.GetValueOrDefault(targetNames[t]), out double value);
                return (value, problem is null ? null : $"{targetNames[t]} is {problem}");
            });
        return new Dataset(entries, targetNames, skipped) { TargetGaps = gaps };
    }

    /// <summary>
    /// Entries in file order from structures read in parallel: an unreadable one is skipped with its reason, a repeated id
    /// with its place (the first is kept), and a target <paramref name="target"/> finds missing or not a number becomes NaN
    /// with a gap saying why.
    /// </summary>
    private static (List<DatasetEntry> Entries, List<TargetGap> Gaps) Collect(IReadOnlyList<string> ids, Structure?[] structures,
        string?[] reasons, int targetCount, Func<int, string> where, Func<int, string> source, List<SkippedEntry> skipped,
        Func<int, int, (double Value, string? Problem)> target)
    {
        var entries = new List<DatasetEntry>();
        var gaps = new List<TargetGap>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < structures.Length; i++)
        {
            if (structures[i] is not { } structure)
            {
                skipped.Add(new SkippedEntry(ids[i], reasons[i]!));
                continue;
            }

            if (!seen.Add(ids[i]))
            {
                skipped.Add(new SkippedEntry(ids[i], $"{where(i)}: duplicate id '{ids[i]}' (first occurrence kept)"));
                continue;
            }

            var targets = new double[targetCount];
            for (int t = 0; t < targetCount; t++)
            {
                (targets[t], string? problem) = target(i, t);
                if (problem is not null) gaps.Add(new TargetGap(ids[i], t, $"{where(i)}: {problem}"));
            }

            entries.Add(new DatasetEntry(ids[i], structure, targets, source(i)));
        }

        return (entries, gaps);
    }
}
