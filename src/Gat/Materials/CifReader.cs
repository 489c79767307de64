using System.Text;

namespace SaGatSr.Gat.Materials;

/// <summary>
/// CIF 1.1 reader for crystal structures: cell parameters, the atom_site loop (fractional coordinates) and the symmetry
/// operations (_symmetry_equiv_pos_as_xyz or _space_group_symop_operation_xyz) that expand the asymmetric unit.
/// Symmetry copies of one site closer than <see cref="MergeTolerance"/> to each other are merged (special positions).
/// Partially occupied sites are refused: the graph needs one element per site.
/// </summary>
internal static class CifReader
{
    /// <summary>Å; symmetry-equivalent copies of a site closer than this are the same atom (rounded coordinates like 0.3333).</summary>
    public const double MergeTolerance = 0.1;

    private const double OccupancyTolerance = 0.02;

    private readonly record struct Token(string Text, int Line, bool Quoted);

    private sealed class DataBlock
    {
        public readonly Dictionary<string, Token> Items = new(StringComparer.OrdinalIgnoreCase);
        public readonly List<Loop> Loops = [];

        public Loop? LoopWith(string tag) => Loops.FirstOrDefault(l => l.Tags.Contains(tag, StringComparer.OrdinalIgnoreCase));
    }

    private sealed record Loop(string[] Tags, List<Token> Values, int Line);

    public static Structure Parse(string[] lines, string file, string id, string? sourcePath)
    {
        var blocks = ReadBlocks(Tokenise(lines, file), file);
        var block = blocks.FirstOrDefault(b => b.LoopWith("_atom_site_fract_x") is not null)
                    ?? throw new StructureFormatException(file, null, blocks.Count == 0
                        ? "no data_ block found (is this a CIF file?)"
                        : "no _atom_site loop with fractional coordinates (_atom_site_fract_x/y/z)");

        var lattice = ReadCell(block, file, out int cellLine);
        var operations = ReadSymmetryOperations(block, file);
        var (elements, positions, atomLines) = ReadSites(block, file);

        // expand: apply every operation to every site and merge the copies of a site that coincide (special positions);
        // copies of different sites that coincide are a broken file and fail the minimum-distance check instead
        var expandedZ = new List<int>();
        var expandedF = new List<double[]>();
        var expandedLines = new List<int>();
        for (int site = 0; site < elements.Count; site++)
        {
            int firstOfSite = expandedF.Count;
            foreach (var op in operations)
            {
                var f = op.Apply(positions[site]);
                for (int c = 0; c < 3; c++)
                    f[c] -= Math.Floor(f[c]);
                bool duplicate = false;
                for (int k = firstOfSite; k < expandedF.Count && !duplicate; k++)
                    duplicate = PeriodicDistance(lattice, f, expandedF[k]) < MergeTolerance;
                if (duplicate)
                    continue;
                expandedZ.Add(elements[site]);
                expandedF.Add(f);
                expandedLines.Add(atomLines[site]);
            }
        }

        return Structure.Create(id, lattice, expandedZ.ToArray(), expandedF.ToArray(), true, file, sourcePath, expandedLines.ToArray(), cellLine);
    }

    private static double PeriodicDistance(double[,] lattice, double[] a, double[] b)
    {
        // the nearest image in fractional terms is the nearest in Cartesian terms for separations well below the
        // plane spacing, which is all the merge tolerance needs (cells with spacing near 0.1 Å fail validation anyway)
        double da = a[0] - b[0] - Math.Round(a[0] - b[0]), db = a[1] - b[1] - Math.Round(a[1] - b[1]), dc = a[2] - b[2] - Math.Round(a[2] - b[2]);
        double x = da * lattice[0, 0] + db * lattice[1, 0] + dc * lattice[2, 0];
        double y = da * lattice[0, 1] + db * lattice[1, 1] + dc * lattice[2, 1];
        double z = da * lattice[0, 2] + db * lattice[1, 2] + dc * lattice[2, 2];
        return Math.Sqrt(x * x + y * y + z * z);
    }

    private static double[,] ReadCell(DataBlock block, string file, out int line)
    {
        string[] names = ["_cell_length_a", "_cell_length_b", "_cell_length_c", "_cell_angle_alpha", "_cell_angle_beta", "_cell_angle_gamma"];
        var values = new double[6];
        line = 0;
        for (int k = 0; k < 6; k++)
        {
            if (!block.Items.TryGetValue(names[k], out var token))
                throw new StructureFormatException(file, null, $"missing cell: {names[k]} is not given");
            values[k] = StructureReader.ParseNumber(token.Text, file, token.Line, names[k]);
            line = Math.Max(line, token.Line);
            if (k < 3 && !(values[k] > 0))
                throw new StructureFormatException(file, token.Line, $"{names[k]} must be positive, got {token.Text}");
            if (k >= 3 && !(values[k] > 0 && values[k] < 180))
                throw new StructureFormatException(file, token.Line, $"{names[k]} must be between 0 and 180 degrees, got {token.Text}");
        }

        return Structure.LatticeFromParameters(values[0], values[1], values[2], values[3], values[4], values[5]);
    }

    private static List<SymmetryOperation> ReadSymmetryOperations(DataBlock block, string file)
    {
        string[] tags = ["_symmetry_equiv_pos_as_xyz", "_space_group_symop_operation_xyz", "_space_group_symop.operation_xyz", "_symmetry_equiv.pos_as_xyz"];
        foreach (string tag in tags)
        {
            var loop = block.LoopWith(tag);
            if (loop is { } l)
            {
                int column = Array.FindIndex(l.Tags, t => t.Equals(tag, StringComparison.OrdinalIgnoreCase));
                var operations = new List<SymmetryOperation>();
                for (int row = 0; row + l.Tags.Length <= l.Values.Count; row += l.Tags.Length)
                {
                    var token = l.Values[row + column];
                    operations.Add(SymmetryOperation.Parse(token.Text, file, token.Line));
                }

                return operations;
            }

            if (block.Items.TryGetValue(tag, out var single))
                return [SymmetryOperation.Parse(single.Text, file, single.Line)];
        }

        // no operations listed: the atom sites are the full cell (P1)
        return [SymmetryOperation.Parse("x,y,z", file, 0)];
    }

    private static (List<int> Elements, List<double[]> Positions, List<int> Lines) ReadSites(DataBlock block, string file)
    {
        var (tags, values, loopLine) = block.LoopWith("_atom_site_fract_x")!;
        int Column(string tag) => Array.FindIndex(tags, t => t.Equals(tag, StringComparison.OrdinalIgnoreCase));
        int x = Column("_atom_site_fract_x"), y = Column("_atom_site_fract_y"), z = Column("_atom_site_fract_z");
        int type = Column("_atom_site_type_symbol"), label = Column("_atom_site_label"), occupancy = Column("_atom_site_occupancy");
        if (y < 0 || z < 0)
            throw new StructureFormatException(file, loopLine, "the atom_site loop needs _atom_site_fract_x, _y and _z");
        if (type < 0 && label < 0)
            throw new StructureFormatException(file, loopLine, "the atom_site loop needs _atom_site_type_symbol or _atom_site_label");
        if (values.Count % tags.Length != 0)
            throw new StructureFormatException(file, values[^1].Line, $"the atom_site loop has {values.Count} values, not a multiple of its {tags.Length} columns");

        var elements = new List<int>();
        var positions = new List<double[]>();
        var lines = new List<int>();
        for (int row = 0; row < values.Count; row += tags.Length)
        {
            Token Cell(int column) => values[row + column];
            int line = Cell(x).Line;
            bool typed = type >= 0 && Cell(type).Text is not ("." or "?");
            string speciesText = typed ? Cell(type).Text : Cell(label).Text;
            int element;
            bool known = typed ? Elements.TryParseSymbol(speciesText, out element) : Elements.TryParseSpeciesLabel(speciesText, out element);
            if (!known)
                throw new StructureFormatException(file, line, $"unknown element '{speciesText}'");
            if (occupancy >= 0 && Cell(occupancy).Text is not ("." or "?"))
            {
                double occ = StructureReader.ParseNumber(Cell(occupancy).Text, file, line, "_atom_site_occupancy");
                if (Math.Abs(occ - 1) > OccupancyTolerance)
                    throw new StructureFormatException(file, line,
                        $"site {Cell(label >= 0 ? label : type).Text} has occupancy {Cell(occupancy).Text}: partially occupied (disordered) sites are not supported; order the structure first (e.g. a supercell with explicit atoms)");
            }

            var p = new double[3];
            int[] columns = [x, y, z];
            for (int c = 0; c < 3; c++)
                p[c] = StructureReader.ParseNumber(Cell(columns[c]).Text, file, Cell(columns[c]).Line, $"fractional coordinate of site {speciesText}");
            elements.Add(element);
            positions.Add(p);
            lines.Add(line);
        }

        return (elements, positions, lines);
    }

    private static List<DataBlock> ReadBlocks(List<Token> tokens, string file)
    {
        var blocks = new List<DataBlock>();
        DataBlock? current = null;
        int i = 0;
        while (i < tokens.Count)
        {
            var token = tokens[i];
            if (!token.Quoted && token.Text.StartsWith("data_", StringComparison.OrdinalIgnoreCase))
            {
                current = new DataBlock();
                blocks.Add(current);
                i++;
            }
            else if (!token.Quoted && token.Text.Equals("loop_", StringComparison.OrdinalIgnoreCase))
            {
                current ??= AddImplicitBlock(blocks);
                int loopLine = token.Line;
                i++;
                var tags = new List<string>();
                while (i < tokens.Count && !tokens[i].Quoted && tokens[i].Text.StartsWith('_'))
                    tags.Add(tokens[i++].Text);
                if (tags.Count == 0)
                    throw new StructureFormatException(file, loopLine, "loop_ without any tags");
                var values = new List<Token>();
                while (i < tokens.Count && (tokens[i].Quoted || !IsReserved(tokens[i].Text)))
                    values.Add(tokens[i++]);
                current.Loops.Add(new Loop(tags.ToArray(), values, loopLine));
            }
            else if (!token.Quoted && token.Text.StartsWith('_'))
            {
                current ??= AddImplicitBlock(blocks);
                if (i + 1 >= tokens.Count || (!tokens[i + 1].Quoted && IsReserved(tokens[i + 1].Text)))
                    throw new StructureFormatException(file, token.Line, $"tag {token.Text} has no value");
                current.Items[token.Text] = tokens[i + 1];
                i += 2;
            }
            else
            {
                // global_, save_ frames and stray values carry nothing we need
                i++;
            }
        }

        return blocks;

        static DataBlock AddImplicitBlock(List<DataBlock> blocks)
        {
            var block = new DataBlock();
            blocks.Add(block);
            return block;
        }
    }

    private static bool IsReserved(string text) =>
        text.StartsWith('_') || text.Equals("loop_", StringComparison.OrdinalIgnoreCase)
                             || text.StartsWith("data_", StringComparison.OrdinalIgnoreCase)
                             || text.StartsWith("save_", StringComparison.OrdinalIgnoreCase)
                             || text.Equals("global_", StringComparison.OrdinalIgnoreCase);

    private static List<Token> Tokenise(string[] lines, string file)
    {
        var tokens = new List<Token>();
        for (int l = 0; l < lines.Length; l++)
        {
            string line = lines[l];
            int number = l + 1;
            if (line.StartsWith(';'))
            {
                // semicolon text field: runs until a line starting with ';'
                var text = new StringBuilder(line[1..]);
                int start = number;
                l++;
                while (l < lines.Length && !lines[l].StartsWith(';'))
                    text.Append('\n').Append(lines[l++]);
                if (l >= lines.Length)
                    throw new StructureFormatException(file, start, "unterminated ';' text field");
                tokens.Add(new Token(text.ToString(), start, true));
                continue;
            }

            int i = 0;
            while (i < line.Length)
            {
                char c = line[i];
                if (char.IsWhiteSpace(c))
                {
                    i++;
                }
                else if (c == '#')
                {
                    break;
                }
                else if (c is '\'' or '"')
                {
                    // a quote closes only when followed by whitespace or the end of the line (CIF 1.1)
                    int end = i + 1;
                    while (end < line.Length && !(line[end] == c && (end + 1 == line.Length || char.IsWhiteSpace(line[end + 1]))))
                        end++;
                    if (end >= line.Length)
                        throw new StructureFormatException(file, number, $"unterminated quoted string starting with {c}");
                    tokens.Add(new Token(line[(i + 1)..end], number, true));
                    i = end + 1;
                }
                else
                {
                    int end = i;
                    while (end < line.Length && !char.IsWhiteSpace(line[end]))
                        end++;
                    tokens.Add(new Token(line[i..end], number, false));
                    i = end;
                }
            }
        }

        return tokens;
    }
}

/// <summary>An affine symmetry operation on fractional coordinates, parsed from text like "-x+1/2, y, z+0.25".</summary>
internal sealed class SymmetryOperation
{
    private readonly double[,] _rotation = new double[3, 3];
    private readonly double[] _translation = new double[3];

    private SymmetryOperation()
    {
    }

    public double[] Apply(double[] f)
    {
        var result = new double[3];
        for (int r = 0; r < 3; r++)
            result[r] = _rotation[r, 0] * f[0] + _rotation[r, 1] * f[1] + _rotation[r, 2] * f[2] + _translation[r];
        return result;
    }

    public static SymmetryOperation Parse(string text, string file, int line)
    {
        var parts = text.Replace(" ", "").Split(',');
        if (parts.Length != 3)
            throw new StructureFormatException(file, line, $"symmetry operation '{text}' must have three comma-separated components");
        var op = new SymmetryOperation();
        for (int r = 0; r < 3; r++)
        {
            string part = parts[r].ToLowerInvariant();
            if (part.Length == 0)
                throw new StructureFormatException(file, line, $"symmetry operation '{text}' has an empty component");
            int i = 0;
            while (i < part.Length)
            {
                double sign = 1;
                if (part[i] is '+' or '-')
                {
                    sign = part[i] == '-' ? -1 : 1;
                    i++;
                }

                int start = i;
                while (i < part.Length && (char.IsDigit(part[i]) || part[i] is '.' or '/'))
                    i++;
                double coefficient = 1;
                if (i > start && !StructureReader.TryParseNumber(part[start..i], out coefficient))
                    throw new StructureFormatException(file, line, $"symmetry operation '{text}': malformed number '{part[start..i]}'");
                if (i < part.Length && part[i] == '*')
                    i++;
                if (i < part.Length && part[i] is 'x' or 'y' or 'z')
                {
                    op._rotation[r, part[i] - 'x'] += sign * coefficient;
                    i++;
                }
                else if (i > start)
                {
                    op._translation[r] += sign * coefficient;
                }
                else
                {
                    throw new StructureFormatException(file, line, $"symmetry operation '{text}': unexpected '{(i < part.Length ? part[i] : ' ')}'");
                }
            }
        }

        return op;
    }
}
