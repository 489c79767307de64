using System.Globalization;
using System.Text.Json.Serialization;

namespace SaGatSr.Gat.Materials;

/// <summary>Reads CIF, VASP POSCAR/CONTCAR and extended XYZ (with a Lattice) into validated <see cref="Structure"/>s.</summary>
public static class StructureReader
{
    /// <summary>File extensions tried, in order, when a dataset id names a file without its extension.</summary>
    public static readonly IReadOnlyList<string> KnownExtensions = [".cif", ".vasp", ".poscar", ".extxyz", ".xyz", ".json"];

    /// <summary>
    /// What readers do with partially occupied sites unless told otherwise: <see cref="DisorderPolicy.Virtual"/>, so that
    /// every site and the composition are kept as the file gives them; <see cref="Structure.DisorderedSites"/> counts them.
    /// </summary>
    public const DisorderPolicy DefaultDisorderPolicy = DisorderPolicy.Virtual;

    /// <summary>Reads a file; the format comes from the extension or name (*POSCAR*, *CONTCAR*), else from the content.</summary>
    public static Structure Read(string path) => Read(path, DefaultDisorderPolicy);

    /// <summary>Reads a file, resolving partially occupied sites by <paramref name="disorder"/>.</summary>
    public static Structure Read(string path, DisorderPolicy disorder)
    {
        if (!File.Exists(path))
            throw new StructureFormatException(path, null, "file not found");
        if (IsJson(path))
        {
            using var document = PymatgenJsonReader.ReadDocument(path);
            if (!PymatgenJsonReader.IsStructure(document.RootElement))
                throw new StructureFormatException(path, null,
                    "not a pymatgen Structure (an object with \"lattice\" and \"sites\"); a dataset JSON is read as a dataset (train, predict)");
            return PymatgenJsonReader.Parse(document.RootElement, path, JsonId(path), Path.GetFullPath(path), disorder);
        }

        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new StructureFormatException(path, null, $"cannot read the file: {ex.Message}");
        }

        return Parse(text, FormatOf(path, text), path, Path.GetFileNameWithoutExtension(path), Path.GetFullPath(path), disorder);
    }

    internal static bool IsJson(string path) =>
        path.EndsWith(".json", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".json.gz", StringComparison.OrdinalIgnoreCase);

    /// <summary>The file name without ".json" or ".json.gz".</summary>
    internal static string JsonId(string path)
    {
        string name = Path.GetFileName(path);
        return name[..name.LastIndexOf(".json", StringComparison.OrdinalIgnoreCase)];
    }

    /// <summary>
    /// Parses text; <paramref name="formatOrExtension"/> is "cif", "poscar" (or "vasp", "contcar") or "xyz"/"extxyz",
    /// with or without a leading dot, or a file name to detect from; <paramref name="sourceName"/> names the text in messages.
    /// </summary>
    public static Structure Parse(string text, string formatOrExtension, string sourceName, DisorderPolicy disorder = DefaultDisorderPolicy) =>
        Parse(text, FormatOf(formatOrExtension, text), sourceName, Path.GetFileNameWithoutExtension(sourceName), null, disorder);

    /// <summary>Parses a policy name as the command line writes it: error, virtual or majority.</summary>
    public static DisorderPolicy ParseDisorderPolicy(string text) => text.Trim().ToLowerInvariant() switch
    {
        "error" => DisorderPolicy.Error,
        "virtual" => DisorderPolicy.Virtual,
        "majority" => DisorderPolicy.Majority,
        _ => throw new ArgumentException($"unknown disorder policy '{text}': use error, virtual or majority"),
    };

    private static Structure Parse(string text, Format format, string sourceName, string id, string? sourcePath, DisorderPolicy disorder)
    {
        if (string.IsNullOrWhiteSpace(text))
            throw new StructureFormatException(sourceName, 1, "empty file");
        var lines = text.Replace("\r\n", "\n").Replace('\r', '\n').Split('\n');
        return format switch
        {
            Format.Cif => CifReader.Parse(lines, sourceName, id, sourcePath, disorder),
            Format.Poscar => PoscarReader.Parse(lines, sourceName, id, sourcePath),
            _ => ExtendedXyzReader.Parse(lines, sourceName, id, sourcePath),
        };
    }

    private enum Format { Cif, Poscar, Xyz }

    private static Format FormatOf(string formatOrPath, string text)
    {
        string name = Path.GetFileName(formatOrPath).ToLowerInvariant();
        string extension = name.Contains('.') ? name[name.LastIndexOf('.')..] : "." + name;
        switch (extension)
        {
            case ".cif": return Format.Cif;
            case ".vasp" or ".poscar" or ".contcar": return Format.Poscar;
            case ".xyz" or ".extxyz": return Format.Xyz;
        }

        // "POSCAR", "CONTCAR.relax", "Si_POSCAR": VASP names its files so, and people keep the name in copies (pymatgen's *POSCAR*)
        if (name.Contains("poscar", StringComparison.Ordinal) || name.Contains("contcar", StringComparison.Ordinal))
            return Format.Poscar;
        // sniff: CIF has data_ blocks; extended XYZ starts with an atom count and carries Lattice= on line 2
        var firstLines = text.TrimStart().Split('\n', 3);
        if (firstLines.Any(l => l.TrimStart().StartsWith("data_", StringComparison.OrdinalIgnoreCase)) || text.Contains("\ndata_", StringComparison.OrdinalIgnoreCase))
            return Format.Cif;
        if (firstLines.Length >= 2 && int.TryParse(firstLines[0].Trim(), out _) && firstLines[1].Contains("Lattice=", StringComparison.OrdinalIgnoreCase))
            return Format.Xyz;
        return Format.Poscar;
    }

    /// <summary>Parses a number as crystallographers write it: "3.634(4)" (uncertainty dropped), "1/2", "-.5", "1e-3".</summary>
    internal static bool TryParseNumber(string token, out double value)
    {
        int parenthesis = token.IndexOf('(');
        if (parenthesis > 0 && token.EndsWith(')'))
            token = token[..parenthesis];
        int slash = token.IndexOf('/');
        if (slash > 0)
        {
            value = double.NaN;
            if (!double.TryParse(token[..slash], NumberStyles.Float, CultureInfo.InvariantCulture, out double numerator)
                || !double.TryParse(token[(slash + 1)..], NumberStyles.Float, CultureInfo.InvariantCulture, out double denominator) || denominator == 0)
                return false;
            value = numerator / denominator;
            return true;
        }

        return double.TryParse(token, NumberStyles.Float, CultureInfo.InvariantCulture, out value) && double.IsFinite(value);
    }

    internal static double ParseNumber(string token, string file, int line, string what) =>
        TryParseNumber(token, out double value)
            ? value
            : throw new StructureFormatException(file, line, $"malformed number '{token}' for {what}");

    internal static string[] Tokens(string line) => line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
}

/// <summary>What a reader does with partially occupied (disordered) sites, common in ICSD and COD files.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<DisorderPolicy>))]
public enum DisorderPolicy
{
    /// <summary>Refuse the file, naming the first partially occupied site.</summary>
    Error,

    /// <summary>
    /// Keep one site whose element features are the occupancy-weighted mean of its species (a virtual crystal, as
    /// MEGNet treats disorder); the site's atomic number is its majority species, the composition keeps the occupancies.
    /// </summary>
    Virtual,

    /// <summary>Keep one site of the species with the largest occupancy (the first listed of equals).</summary>
    Majority,
}
