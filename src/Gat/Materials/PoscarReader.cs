using System.Globalization;

namespace SaGatSr.Gat.Materials;

/// <summary>
/// VASP POSCAR/CONTCAR: comment (the first line, even if empty), scale (negative = target volume in Å³, or three
/// per-axis factors), three lattice rows, species line(s) (VASP 5; long lists wrap over several lines), count line(s),
/// optional "Selective dynamics", "Direct"/"Cartesian", then one position per atom (extra columns are ignored).
/// A VASP 4 file has no species line: as VASP and pymatgen do, the species come from a POTCAR beside the file, else
/// from the comment line when it lists the elements, else from symbols after the coordinates; otherwise it is refused.
/// </summary>
internal static class PoscarReader
{
    public static Structure Parse(string[] lines, string file, string id, string? sourcePath)
    {
        int cursor = 1; // the comment is line 1 whatever it holds
        string comment = lines[0];
        string NextLine(string what)
        {
            while (cursor < lines.Length)
            {
                string line = lines[cursor++];
                if (line.Trim().Length > 0)
                    return line;
            }

            throw new StructureFormatException(file, cursor, $"file ends before the {what}");
        }

        string scaleLine = NextLine("scale factor");
        int scaleLineNumber = cursor;
        var scaleTokens = StructureReader.Tokens(scaleLine);
        int scaleCount = scaleTokens.Length >= 3 && StructureReader.TryParseNumber(scaleTokens[1], out _) && StructureReader.TryParseNumber(scaleTokens[2], out _) ? 3 : 1;
        var scale = scaleTokens.Take(scaleCount).Select(t => StructureReader.ParseNumber(t, file, scaleLineNumber, "the scale factor")).ToArray();

        var lattice = new double[3, 3];
        int latticeLine = cursor + 1;
        for (int r = 0; r < 3; r++)
        {
            var tokens = StructureReader.Tokens(NextLine($"lattice vector {r + 1}"));
            if (tokens.Length < 3)
                throw new StructureFormatException(file, cursor, $"lattice vector {r + 1} needs three numbers, found {tokens.Length}");
            for (int c = 0; c < 3; c++)
                lattice[r, c] = StructureReader.ParseNumber(tokens[c], file, cursor, $"lattice vector {r + 1}");
        }

        if (scaleCount == 1 && scale[0] < 0)
        {
            double rawVolume = Math.Abs(Structure.Determinant(lattice));
            if (!(rawVolume > Structure.MinimumVolume))
                throw new StructureFormatException(file, latticeLine, $"lattice vectors are (nearly) linearly dependent: cell volume {rawVolume:G4} Å³");
            double factor = Math.Cbrt(-scale[0] / rawVolume);
            scale = [factor];
        }
        else if (scale.Any(s => !(s > 0)))
        {
            throw new StructureFormatException(file, scaleLineNumber, "scale factor must be positive (or a single negative number giving the cell volume)");
        }

        for (int r = 0; r < 3; r++)
        for (int c = 0; c < 3; c++)
            lattice[r, c] *= scale[scaleCount == 3 ? c : 0];

        // species and counts: either may wrap over several lines (VASP writes long lists of an alloy that way)
        var species = new List<string>();
        int speciesLine = 0;
        var line = StructureReader.Tokens(NextLine("species or counts line"));
        while (!IsCountLine(line))
        {
            if (line.Any(t => StructureReader.TryParseNumber(t, out _)) || line[0].ToLowerInvariant() is "direct" or "cartesian" or "selective")
                throw new StructureFormatException(file, cursor, $"expected element symbols or atom counts (whole numbers), found '{string.Join(' ', line)}'");
            speciesLine = speciesLine == 0 ? cursor : speciesLine;
            species.AddRange(line);
            line = StructureReader.Tokens(NextLine("atom counts line"));
        }

        int countsLine = cursor;
        var countTokens = new List<string>(line);
        while (species.Count == 0 ? NextIsCountLine() : countTokens.Count < species.Count)
            countTokens.AddRange(StructureReader.Tokens(NextLine("atom counts line")));
        if (species.Count > 0 && countTokens.Count != species.Count)
            throw new StructureFormatException(file, cursor, $"{species.Count} species but {countTokens.Count} counts");
        var counts = new int[countTokens.Count];
        for (int s = 0; s < countTokens.Count; s++)
            if (!int.TryParse(countTokens[s], out counts[s]) || counts[s] < 0)
                throw new StructureFormatException(file, countsLine, $"malformed atom count '{countTokens[s]}'");
        int atomCount = counts.Sum();
        if (atomCount == 0)
            throw new StructureFormatException(file, countsLine, "structure has no atoms");

        int[] elementOfSpecies;
        if (species.Count > 0)
        {
            elementOfSpecies = new int[species.Count];
            for (int s = 0; s < species.Count; s++)
                if (!Elements.TryParseSymbol(species[s], out elementOfSpecies[s]))
                    throw new StructureFormatException(file, speciesLine, $"unknown element '{species[s]}'");
        }
        else
        {
            elementOfSpecies = Vasp4Species(counts, comment, sourcePath, lines, cursor)
                               ?? throw new StructureFormatException(file, countsLine,
                                   "VASP 4 file without a species line: add a line with the element symbols before the counts " +
                                   "(or put a POTCAR beside the file, or list the elements on the comment line)");
        }

        string modeLine = NextLine("coordinate mode line").Trim();
        if (modeLine.StartsWith('s') || modeLine.StartsWith('S'))
            modeLine = NextLine("coordinate mode line").Trim();
        bool cartesian = modeLine[0] is 'c' or 'C' or 'k' or 'K';
        if (!cartesian && !(modeLine[0] is 'd' or 'D'))
            throw new StructureFormatException(file, cursor, $"expected 'Direct' or 'Cartesian', found '{modeLine}'");

        var atomicNumbers = new int[atomCount];
        var positions = new double[atomCount][];
        var atomLines = new int[atomCount];
        int atom = 0;
        for (int s = 0; s < counts.Length; s++)
        for (int k = 0; k < counts[s]; k++, atom++)
        {
            if (cursor >= lines.Length || lines[cursor].Trim().Length == 0)
                throw new StructureFormatException(file, cursor + 1, $"expected {atomCount} atom positions, found only {atom}");
            var tokens = StructureReader.Tokens(lines[cursor++]);
            atomLines[atom] = cursor;
            if (tokens.Length < 3)
                throw new StructureFormatException(file, cursor, $"atom {atom + 1} needs three coordinates, found {tokens.Length}");
            var p = new double[3];
            for (int c = 0; c < 3; c++)
                p[c] = StructureReader.ParseNumber(tokens[c], file, cursor, $"atom {atom + 1} coordinate");
            if (cartesian)
                for (int c = 0; c < 3; c++)
                    p[c] *= scale[scaleCount == 3 ? c : 0];
            positions[atom] = p;
            atomicNumbers[atom] = elementOfSpecies[s];
        }

        return Structure.Create(id, lattice, atomicNumbers, positions, !cartesian, file, sourcePath, atomLines, latticeLine);

        bool NextIsCountLine()
        {
            int next = cursor;
            while (next < lines.Length && lines[next].Trim().Length == 0)
                next++;
            return next < lines.Length && IsCountLine(StructureReader.Tokens(lines[next]));
        }
    }

    private static bool IsCountLine(string[] tokens) => tokens.Length > 0 && tokens.All(t => int.TryParse(t, out _));

    /// <summary>The species of a VASP 4 file (no species line), from the sources VASP and pymatgen use; null if none tells.</summary>
    private static int[]? Vasp4Species(int[] counts, string comment, string? sourcePath, string[] lines, int modeLineIndex) =>
        PotcarSpecies(sourcePath, counts.Length) ?? CommentSpecies(comment, counts) ?? CoordinateLineSpecies(lines, modeLineIndex, counts);

    /// <summary>The elements of the POTCAR beside the file (its TITEL lines), when it has one per count.</summary>
    private static int[]? PotcarSpecies(string? sourcePath, int speciesCount)
    {
        string? folder = sourcePath is null ? null : Path.GetDirectoryName(sourcePath);
        if (folder is null || !Directory.Exists(folder))
            return null;
        string? potcar = Directory.EnumerateFiles(folder, "*POTCAR*").Order(StringComparer.Ordinal).FirstOrDefault();
        if (potcar is null)
            return null;
        try
        {
            var elements = new List<int>();
            foreach (string line in File.ReadLines(potcar))
            {
                // "   TITEL  = PAW_PBE Fe_pv 06Sep2000"
                var tokens = StructureReader.Tokens(line);
                if (tokens.Length >= 4 && tokens[0] == "TITEL" && tokens[1] == "=")
                {
                    if (!Elements.TryParseSymbol(tokens[3], out int z))
                        return null;
                    elements.Add(z);
                }
            }

            return elements.Count == speciesCount ? elements.ToArray() : null;
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>
    /// The elements a comment lists, one per count: "Fe O", "Fe2 O3" or "Fe2O3". When the comment gives amounts for
    /// every element they must be in the proportion of the counts, so a formula in another order is not misread.
    /// </summary>
    private static int[]? CommentSpecies(string comment, int[] counts)
    {
        var elements = new List<int>();
        var amounts = new List<double?>();
        foreach (string token in StructureReader.Tokens(comment))
        {
            if (elements.Count >= counts.Length)
                break;
            if (!ReadFormula(token, elements, amounts))
                return null;
        }

        if (elements.Count != counts.Length)
            return null;
        if (amounts.All(a => a is not null))
        {
            double ratio = counts[0] / amounts[0]!.Value;
            if (amounts.Select((a, k) => Math.Abs(a!.Value * ratio - counts[k])).Any(d => d > 1e-6))
                return null;
        }

        return [.. elements];
    }

    /// <summary>Appends the elements (and amounts, or null) of "Fe", "Fe2", "Fe2O3"; false when the token is not such a formula.</summary>
    private static bool ReadFormula(string token, List<int> elements, List<double?> amounts)
    {
        int i = 0;
        while (i < token.Length)
        {
            int start = i++;
            while (i < token.Length && char.IsAsciiLetterLower(token[i]))
                i++;
            if (!char.IsAsciiLetterUpper(token[start]) || !Elements.TryGetAtomicNumber(token[start..i], out int z))
                return false;
            int digits = i;
            while (i < token.Length && (char.IsAsciiDigit(token[i]) || token[i] == '.'))
                i++;
            elements.Add(z);
            amounts.Add(i > digits && double.TryParse(token[digits..i], NumberStyles.Float, CultureInfo.InvariantCulture, out double amount) && amount > 0
                ? amount
                : null);
        }

        return true;
    }

    /// <summary>Symbols written after each position ("0 0 0 Si"), constant within each count's block.</summary>
    private static int[]? CoordinateLineSpecies(string[] lines, int modeLineIndex, int[] counts)
    {
        int cursor = modeLineIndex;
        while (cursor < lines.Length && lines[cursor].Trim().Length == 0)
            cursor++;
        if (cursor < lines.Length && lines[cursor].TrimStart() is [ 's' or 'S', ..])
            cursor++;
        cursor++; // the Direct/Cartesian line
        var elements = new int[counts.Length];
        for (int s = 0; s < counts.Length; s++)
        for (int k = 0; k < counts[s]; k++, cursor++)
        {
            if (cursor >= lines.Length)
                return null;
            var tokens = StructureReader.Tokens(lines[cursor]);
            string? symbol = tokens.Skip(3).FirstOrDefault(t => !(t is "T" or "F" or "t" or "f"));
            if (symbol is null || !Elements.TryParseSymbol(symbol, out int z) || (k > 0 && z != elements[s]))
                return null;
            elements[s] = z;
        }

        return elements;
    }
}
