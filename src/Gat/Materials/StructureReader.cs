using System.Globalization;

namespace SaGatSr.Gat.Materials;

/// <summary>Reads CIF, VASP POSCAR/CONTCAR and extended XYZ (with a Lattice) into validated <see cref="Structure"/>s.</summary>
public static class StructureReader
{
    /// <summary>File extensions tried, in order, when a dataset id names a file without its extension.</summary>
    public static readonly IReadOnlyList<string> KnownExtensions = [".cif", ".vasp", ".poscar", ".extxyz", ".xyz"];

    /// <summary>Reads a file; the format comes from the extension or name (POSCAR*, CONTCAR*), else from the content.</summary>
    public static Structure Read(string path)
    {
        if (!File.Exists(path))
            throw new StructureFormatException(path, null, "file not found");
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new StructureFormatException(path, null, $"cannot read the file: {ex.Message}");
        }

        return Parse(text, FormatOf(path, text), path, Path.GetFileNameWithoutExtension(path), Path.GetFullPath(path));
    }

    /// <summary>
    /// Parses text; <paramref name="formatOrExtension"/> is "cif", "poscar" (or "vasp", "contcar") or "xyz"/"extxyz",
    /// with or without a leading dot, or a file name to detect from; <paramref name="sourceName"/> names the text in messages.
    /// </summary>
    public static Structure Parse(string text, string formatOrExtension, string sourceName) =>
        Parse(text, FormatOf(formatOrExtension, text), sourceName, Path.GetFileNameWithoutExtension(sourceName), null);

    private static Structure Parse(string text, Format format, string sourceName, string id, string? sourcePath)
    {
        if (string.IsNullOrWhiteSpace(text))
            throw new StructureFormatException(sourceName, 1, "empty file");
        var lines = text.Replace("\r\n", "\n").Replace('\r', '\n').Split('\n');
        return format switch
        {
            Format.Cif => CifReader.Parse(lines, sourceName, id, sourcePath),
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

        if (name.StartsWith("poscar", StringComparison.Ordinal) || name.StartsWith("contcar", StringComparison.Ordinal))
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
