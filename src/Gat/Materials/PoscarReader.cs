namespace SaGatSr.Gat.Materials;

/// <summary>
/// VASP POSCAR/CONTCAR: comment, scale (negative = target volume in Å³, or three per-axis factors), three lattice rows,
/// species line (VASP 5; for VASP 4 files the species are taken from the comment line if it lists them), counts,
/// optional "Selective dynamics", "Direct"/"Cartesian", then one position per atom (extra columns are ignored).
/// </summary>
internal static class PoscarReader
{
    public static Structure Parse(string[] lines, string file, string id, string? sourcePath)
    {
        int cursor = 0;
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

        string comment = NextLine("comment line");
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

        var speciesTokens = StructureReader.Tokens(NextLine("species or counts line"));
        int speciesLine = cursor;
        string[] species;
        string[] countTokens;
        int countsLine;
        if (speciesTokens.All(t => int.TryParse(t, out _)))
        {
            countTokens = speciesTokens;
            countsLine = speciesLine;
            species = StructureReader.Tokens(comment);
            if (species.Length < countTokens.Length || !species.Take(countTokens.Length).All(s => Elements.TryParseSymbol(s, out _)))
                throw new StructureFormatException(file, speciesLine, "VASP 4 file without a species line: add a line with the element symbols before the counts");
            species = species.Take(countTokens.Length).ToArray();
        }
        else
        {
            species = speciesTokens;
            countTokens = StructureReader.Tokens(NextLine("atom counts line"));
            countsLine = cursor;
        }

        if (countTokens.Length != species.Length)
            throw new StructureFormatException(file, countsLine, $"{species.Length} species but {countTokens.Length} counts");
        var elementOfSpecies = new int[species.Length];
        for (int s = 0; s < species.Length; s++)
            if (!Elements.TryParseSymbol(species[s], out elementOfSpecies[s]))
                throw new StructureFormatException(file, speciesLine, $"unknown element '{species[s]}'");
        var counts = new int[countTokens.Length];
        for (int s = 0; s < countTokens.Length; s++)
            if (!int.TryParse(countTokens[s], out counts[s]) || counts[s] < 0)
                throw new StructureFormatException(file, countsLine, $"malformed atom count '{countTokens[s]}'");
        int atomCount = counts.Sum();
        if (atomCount == 0)
            throw new StructureFormatException(file, countsLine, "structure has no atoms");

        string modeLine = NextLine("coordinate mode line").Trim();
        if (modeLine.StartsWith('s') || modeLine.StartsWith('S'))
            modeLine = NextLine("coordinate mode line").Trim();
        bool cartesian = modeLine.Length > 0 && modeLine[0] is 'c' or 'C' or 'k' or 'K';
        if (!cartesian && !(modeLine[0] is 'd' or 'D'))
            throw new StructureFormatException(file, cursor, $"expected 'Direct' or 'Cartesian', found '{modeLine}'");

        var atomicNumbers = new int[atomCount];
        var positions = new double[atomCount][];
        var atomLines = new int[atomCount];
        int atom = 0;
        for (int s = 0; s < species.Length; s++)
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
    }
}
