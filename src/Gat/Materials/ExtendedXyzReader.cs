using System.Text.RegularExpressions;

namespace SaGatSr.Gat.Materials;

/// <summary>
/// Extended XYZ (as written by ASE): atom count, a comment line with key=value pairs including
/// Lattice="ax ay az bx by bz cx cy cz" and optionally Properties=species:S:1:pos:R:3:..., then one atom per line with
/// Cartesian positions in Å. Only the first frame is read.
/// </summary>
internal static partial class ExtendedXyzReader
{
    [GeneratedRegex("""(\w+)=("[^"]*"|\S+)""")]
    private static partial Regex KeyValue();

    public static Structure Parse(string[] lines, string file, string id, string? sourcePath)
    {
        int first = Array.FindIndex(lines, l => l.Trim().Length > 0);
        if (!int.TryParse(lines[first].Trim(), out int atomCount) || atomCount < 0)
            throw new StructureFormatException(file, first + 1, $"expected the number of atoms, found '{lines[first].Trim()}'");
        if (atomCount == 0)
            throw new StructureFormatException(file, first + 1, "structure has no atoms");
        int commentLine = first + 2;
        if (first + 1 >= lines.Length)
            throw new StructureFormatException(file, commentLine, "file ends before the comment line with Lattice=\"...\"");

        var pairs = KeyValue().Matches(lines[first + 1]).ToDictionary(m => m.Groups[1].Value, m => m.Groups[2].Value.Trim('"'), StringComparer.OrdinalIgnoreCase);
        if (!pairs.TryGetValue("Lattice", out string? latticeText))
            throw new StructureFormatException(file, commentLine, "missing cell: the comment line has no Lattice=\"ax ay az bx by bz cx cy cz\"");
        var latticeTokens = StructureReader.Tokens(latticeText);
        if (latticeTokens.Length != 9)
            throw new StructureFormatException(file, commentLine, $"Lattice needs 9 numbers, found {latticeTokens.Length}");
        var lattice = new double[3, 3];
        for (int k = 0; k < 9; k++)
            lattice[k / 3, k % 3] = StructureReader.ParseNumber(latticeTokens[k], file, commentLine, "Lattice");

        var (speciesColumn, positionColumn) = Columns(pairs.GetValueOrDefault("Properties"), file, commentLine);
        var atomicNumbers = new int[atomCount];
        var positions = new double[atomCount][];
        var atomLines = new int[atomCount];
        for (int a = 0; a < atomCount; a++)
        {
            int index = first + 2 + a;
            if (index >= lines.Length || lines[index].Trim().Length == 0)
                throw new StructureFormatException(file, index + 1, $"expected {atomCount} atom lines, found only {a}");
            var tokens = StructureReader.Tokens(lines[index]);
            atomLines[a] = index + 1;
            if (tokens.Length <= Math.Max(speciesColumn, positionColumn + 2))
                throw new StructureFormatException(file, index + 1, $"atom line needs a species and three coordinates, found {tokens.Length} columns");
            if (!Elements.TryParseSymbol(tokens[speciesColumn], out atomicNumbers[a]))
                throw new StructureFormatException(file, index + 1, $"unknown element '{tokens[speciesColumn]}'");
            positions[a] = new double[3];
            for (int c = 0; c < 3; c++)
                positions[a][c] = StructureReader.ParseNumber(tokens[positionColumn + c], file, index + 1, $"atom {a + 1} coordinate");
        }

        return Structure.Create(id, lattice, atomicNumbers, positions, false, file, sourcePath, atomLines, commentLine);
    }

    /// <summary>Token columns of species and pos from "Properties=name:type:count:..." (default: species then pos).</summary>
    private static (int Species, int Position) Columns(string? properties, string file, int line)
    {
        if (properties is null)
            return (0, 1);
        var fields = properties.Split(':');
        if (fields.Length % 3 != 0)
            throw new StructureFormatException(file, line, $"Properties '{properties}' is not a list of name:type:count triples");
        int column = 0, species = -1, position = -1;
        for (int k = 0; k < fields.Length; k += 3)
        {
            if (!int.TryParse(fields[k + 2], out int count) || count < 1)
                throw new StructureFormatException(file, line, $"Properties: malformed column count '{fields[k + 2]}' for {fields[k]}");
            if (fields[k].Equals("species", StringComparison.OrdinalIgnoreCase)) species = column;
            if (fields[k].Equals("pos", StringComparison.OrdinalIgnoreCase)) position = column;
            column += count;
        }

        if (species < 0 || position < 0)
            throw new StructureFormatException(file, line, "Properties must include species and pos");
        return (species, position);
    }
}
