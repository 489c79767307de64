using System.Globalization;
using System.Text;

namespace SaGatSr.Gat.Materials;

/// <param name="Location">where the entry came from in a one-file dataset ("file:line"), for messages</param>
public sealed record DatasetEntry(string Id, Structure Structure, double[] Targets, string? Location = null);

public sealed record SkippedEntry(string Id, string Reason);

/// <summary>Something odd about an entry that was kept (e.g. the same structure as another entry under another id).</summary>
public sealed record DatasetWarning(string Id, string Message);

/// <summary>
/// Structures with targets, in the layouts CGCNN and ALIGNN users already have (one-file datasets: Dataset.Files.cs): a folder with id_prop.csv
/// ("id,target[,target2...]", optional header) where the id is a file name (ALIGNN/JARVIS) or a name without extension
/// (CGCNN: "&lt;id&gt;.cif"). Bad rows and unreadable structures are skipped with a reason, never fatal.
/// A folder without id_prop.csv, or a single structure file, loads for prediction (no targets).
/// </summary>
public sealed partial class Dataset
{
    public const string DefaultIdPropFile = "id_prop.csv";

    private Dataset(List<DatasetEntry> entries, List<string> targetNames, List<SkippedEntry> skipped)
    {
        Entries = entries;
        TargetNames = targetNames;
        Skipped = skipped;
        Warnings = [.. IdenticalStructures(entries), .. UntabulatedElements(entries)];
    }

    /// <summary>
    /// Entries with an element that lacks most elemental properties (the superheavy ones): the featurizer imputes the column
    /// medians, so they train, but their features say little about them.
    /// </summary>
    private static IEnumerable<DatasetWarning> UntabulatedElements(List<DatasetEntry> entries)
    {
        var table = ElementTable.Default;
        int count = table.Properties.Count;
        var missing = new int[Elements.Count + 1];
        for (int z = 1; z <= Elements.Count; z++)
            missing[z] = Enumerable.Range(0, count).Count(p => table.RawValue(z, p) is null);
        foreach (var entry in entries)
            foreach (int z in entry.Structure.Composition.Keys.Where(z => missing[z] > count / 2).Order())
                yield return new DatasetWarning(entry.Id, $"{entry.Location ?? entry.Structure.SourcePath}: {Elements.Symbol(z)} has no tabulated value " +
                                                         $"for {missing[z]} of {count} elemental properties (imputed with the medians over elements)");
    }

    /// <summary>Entries kept but worth a look: structures identical to an earlier entry's under another id.</summary>
    public IReadOnlyList<DatasetWarning> Warnings { get; }

    /// <summary>"N warnings" and one line per warning (at most <paramref name="maxLines"/>).</summary>
    public string WarningSummary(int maxLines = 20)
    {
        var builder = new StringBuilder($"{Warnings.Count} warnings");
        foreach (var warning in Warnings.Take(maxLines))
            builder.Append('\n').Append("  ").Append(warning.Id).Append(": ").Append(warning.Message);
        if (Warnings.Count > maxLines)
            builder.Append('\n').Append($"  ... and {Warnings.Count - maxLines} more");
        return builder.ToString();
    }

    /// <summary>
    /// The same atoms at the same positions (to 1e-5) in the same cell under two ids: a duplicated row, which would put one
    /// crystal in two splits and leak test crystals into training. Both are kept (they may be distinct calculations), and named.
    /// </summary>
    private static List<DatasetWarning> IdenticalStructures(List<DatasetEntry> entries)
    {
        var warnings = new List<DatasetWarning>();
        var byKey = new Dictionary<int, List<int>>();
        for (int i = 0; i < entries.Count; i++)
        {
            var structure = entries[i].Structure;
            var hash = new HashCode();
            foreach (int z in structure.AtomicNumbers) hash.Add(z);
            foreach (double v in structure.Lattice) hash.Add(Math.Round(v * 1e5));
            foreach (var position in structure.FractionalCoordinates)
                foreach (double v in position) hash.Add(Math.Round(v * 1e5));
            int key = hash.ToHashCode();
            if (!byKey.TryGetValue(key, out var same)) byKey[key] = same = [];
            if (same.FirstOrDefault(j => Identical(entries[j].Structure, structure), -1) is var first and >= 0)
                warnings.Add(new DatasetWarning(entries[i].Id,
                    $"{entries[i].Location ?? entries[i].Structure.SourcePath}: the same structure as {entries[first].Id} " +
                    $"({entries[first].Location ?? entries[first].Structure.SourcePath}); both are kept"));
            else same.Add(i);
        }

        return warnings;
    }

    private static bool Identical(Structure a, Structure b)
    {
        if (!a.AtomicNumbers.AsSpan().SequenceEqual(b.AtomicNumbers)) return false;
        for (int r = 0; r < 3; r++)
            for (int c = 0; c < 3; c++)
                if (Math.Abs(a.Lattice[r, c] - b.Lattice[r, c]) > 1e-5) return false;
        for (int i = 0; i < a.AtomCount; i++)
            for (int k = 0; k < 3; k++)
                if (Math.Abs(a.FractionalCoordinates[i][k] - b.FractionalCoordinates[i][k]) > 1e-5) return false;
        return true;
    }

    public IReadOnlyList<DatasetEntry> Entries { get; }

    /// <summary>From the header row if there is one, else "target", "target2", ...; empty for prediction-only data.</summary>
    public IReadOnlyList<string> TargetNames { get; }

    public IReadOnlyList<SkippedEntry> Skipped { get; }

    /// <param name="path">a dataset folder, or a single structure file (then <paramref name="idPropFile"/> must be null)</param>
    /// <param name="idPropFile">the id/target table; default: id_prop.csv inside the folder (relative paths are relative to it)</param>
    /// <param name="structureColumn">the column of a CSV dataset that holds each structure's CIF or POSCAR text</param>
    /// <param name="disorder">what to do with partially occupied sites</param>
    public static Dataset Load(string path, string? idPropFile = null, IProgress<(int done, int total)>? progress = null,
        string structureColumn = DefaultStructureColumn, DisorderPolicy disorder = StructureReader.DefaultDisorderPolicy)
    {
        if (File.Exists(path) && idPropFile is null && IsDatasetFile(path))
            return LoadFile(path, structureColumn, progress, disorder);
        if (File.Exists(path) && idPropFile is null)
        {
            var structure = StructureReader.Read(path, disorder);
            progress?.Report((1, 1));
            return new Dataset([new DatasetEntry(structure.Id, structure, [])], [], []);
        }

        if (File.Exists(path))
            throw new StructureFormatException(path, null, $"an id/target table ({idPropFile}) needs a dataset folder, not a single structure file");
        if (!Directory.Exists(path))
            throw new StructureFormatException(path, null, "dataset folder or structure file not found");
        string table = idPropFile is null ? Path.Combine(path, DefaultIdPropFile) : Path.IsPathRooted(idPropFile) ? idPropFile : Path.Combine(path, idPropFile);
        if (!File.Exists(table))
        {
            if (idPropFile is not null)
                throw new StructureFormatException(table, null, "id/target table not found");
            return LoadForPrediction(path, progress, disorder);
        }

        var skipped = new List<SkippedEntry>();
        var (rows, targetNames) = ReadIdProp(table, skipped);
        var resolved = new List<(string Id, string File, double[] Targets)>();
        foreach (var (id, targets, line) in rows)
        {
            string? file = ResolveFile(path, id);
            if (file is null)
                skipped.Add(new SkippedEntry(id, $"{table}:{line}: no structure file '{id}' (also tried {string.Join(", ", StructureReader.KnownExtensions.Select(e => id + e))})"));
            else
                resolved.Add((id, file, targets));
        }

        var loaded = LoadStructures(resolved.Select(r => (r.Id, r.File)).ToList(), progress, skipped, disorder);
        var entries = new List<DatasetEntry>();
        for (int k = 0; k < resolved.Count; k++)
            if (loaded[k] is { } structure)
                entries.Add(new DatasetEntry(resolved[k].Id, structure, resolved[k].Targets));
        return new Dataset(entries, targetNames, skipped);
    }

    /// <summary>"loaded N, skipped M" and one line per skipped entry (at most <paramref name="maxLines"/>).</summary>
    public string SkippedSummary(int maxLines = 20)
    {
        var builder = new StringBuilder($"loaded {Entries.Count} structures, skipped {Skipped.Count}");
        foreach (var entry in Skipped.Take(maxLines))
            builder.Append('\n').Append("  ").Append(entry.Id).Append(": ").Append(entry.Reason);
        if (Skipped.Count > maxLines)
            builder.Append('\n').Append($"  ... and {Skipped.Count - maxLines} more");
        return builder.ToString();
    }

    private static Dataset LoadForPrediction(string folder, IProgress<(int done, int total)>? progress, DisorderPolicy disorder)
    {
        var files = Directory.EnumerateFiles(folder)
            .Where(f => StructureReader.KnownExtensions.Contains(Path.GetExtension(f).ToLowerInvariant())
                        || Path.GetFileName(f).StartsWith("POSCAR", StringComparison.OrdinalIgnoreCase)
                        || Path.GetFileName(f).StartsWith("CONTCAR", StringComparison.OrdinalIgnoreCase))
            .Order(StringComparer.Ordinal)
            .Select(f => (Id: Path.GetFileName(f), File: f))
            .ToList();
        if (files.Count == 0)
            throw new StructureFormatException(folder, null, $"no {DefaultIdPropFile} and no structure files ({string.Join(", ", StructureReader.KnownExtensions)}, POSCAR*, CONTCAR*)");
        var skipped = new List<SkippedEntry>();
        var loaded = LoadStructures(files, progress, skipped, disorder);
        var entries = files.Select((f, k) => loaded[k] is { } s ? new DatasetEntry(f.Id, s, []) : null).OfType<DatasetEntry>().ToList();
        return new Dataset(entries, [], skipped);
    }

    private static Structure?[] LoadStructures(List<(string Id, string File)> items, IProgress<(int done, int total)>? progress, List<SkippedEntry> skipped,
        DisorderPolicy disorder)
    {
        var structures = new Structure?[items.Count];
        var reasons = new string?[items.Count];
        int done = 0;
        Parallel.For(0, items.Count, k =>
        {
            try
            {
                structures[k] = StructureReader.Read(items[k].File, disorder);
            }
            catch (StructureFormatException ex)
            {
                reasons[k] = ex.Message;
            }

            int finished = Interlocked.Increment(ref done);
            progress?.Report((finished, items.Count));
        });
        for (int k = 0; k < items.Count; k++)
            if (reasons[k] is { } reason)
                skipped.Add(new SkippedEntry(items[k].Id, reason));
        return structures;
    }

    private static string? ResolveFile(string folder, string id)
    {
        string direct = Path.Combine(folder, id);
        if (File.Exists(direct))
            return direct;
        return StructureReader.KnownExtensions.Select(e => direct + e).FirstOrDefault(File.Exists);
    }

    private static (List<(string Id, double[] Targets, int Line)> Rows, List<string> TargetNames) ReadIdProp(string table, List<SkippedEntry> skipped)
    {
        var lines = File.ReadAllLines(table);
        var rows = new List<(string, double[], int)>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        List<string>? names = null;
        int targetCount = -1;
        for (int l = 0; l < lines.Length; l++)
        {
            string text = lines[l].Trim();
            int line = l + 1;
            if (text.Length == 0 || text.StartsWith('#'))
                continue;
            var cells = text.Split(',').Select(c => c.Trim()).ToArray();
            if (names is null && rows.Count == 0 && targetCount < 0 && cells.Length >= 2
                && cells.Skip(1).All(c => !double.TryParse(c, NumberStyles.Float, CultureInfo.InvariantCulture, out _) && c.Length > 0 && !c.Equals("nan", StringComparison.OrdinalIgnoreCase)))
            {
                names = cells.Skip(1).ToList();
                targetCount = names.Count;
                continue;
            }

            string id = cells[0];
            if (id.Length == 0)
            {
                skipped.Add(new SkippedEntry($"(line {line})", $"{table}:{line}: empty id"));
                continue;
            }

            if (cells.Length < 2)
            {
                skipped.Add(new SkippedEntry(id, $"{table}:{line}: no target value"));
                continue;
            }

            if (targetCount < 0)
                targetCount = cells.Length - 1;
            if (cells.Length - 1 != targetCount)
            {
                skipped.Add(new SkippedEntry(id, $"{table}:{line}: {cells.Length - 1} targets, expected {targetCount}"));
                continue;
            }

            var targets = new double[targetCount];
            string? problem = null;
            for (int t = 0; t < targetCount && problem is null; t++)
            {
                if (cells[t + 1].Length == 0)
                    problem = $"target {t + 1} is empty";
                else if (!double.TryParse(cells[t + 1], NumberStyles.Float, CultureInfo.InvariantCulture, out targets[t]))
                    problem = $"target {t + 1} '{cells[t + 1]}' is not a number";
                else if (ValueProblem(cells[t + 1], ref targets[t]) is { } bad)
                    problem = $"target {t + 1} is {bad}";
            }

            if (problem is null && !seen.Add(id))
                problem = "duplicate id (first occurrence kept)";
            if (problem is not null)
            {
                skipped.Add(new SkippedEntry(id, $"{table}:{line}: {problem}"));
                continue;
            }

            rows.Add((id, targets, line));
        }

        names ??= Enumerable.Range(1, Math.Max(0, targetCount)).Select(t => t == 1 ? "target" : $"target{t}").ToList();
        return (rows, names);
    }
}
