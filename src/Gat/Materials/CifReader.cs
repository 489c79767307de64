using System.Globalization;
using System.Text;
using SaGatSr.Gat.Materials.Symmetry;

namespace SaGatSr.Gat.Materials;

/// <summary>
/// CIF 1.1 reader for crystal structures: cell parameters, the atom_site loop (fractional coordinates, occupancies)
/// and the space group that expands the asymmetric unit: its listed operations, else the operations generated from
/// its Hall symbol, Hermann-Mauguin symbol or number (<see cref="CifSymmetry"/>). Symmetry copies of one site closer
/// than <see cref="MergeTolerance"/> are merged (special positions); sites that share a position with partial
/// occupancies become one disordered site, resolved by the <see cref="DisorderPolicy"/>.
/// </summary>
internal static class CifReader
{
    /// <summary>Å; symmetry-equivalent copies of a site closer than this are the same atom (rounded coordinates like 0.3333).</summary>
    public const double MergeTolerance = 0.1;

    /// <summary>Å; different partially occupied sites this close share one position (a mixed site written as two rows).</summary>
    private const double SharedPositionTolerance = 0.01;

    /// <summary>Occupancies within this of 1 are full; totals up to 1 + this are rounding and are scaled to 1.</summary>
    private const double OccupancyTolerance = SiteOccupancy.Tolerance;

    internal readonly record struct Token(string Text, int Line, bool Quoted);

    internal sealed class DataBlock
    {
        public readonly Dictionary<string, Token> Items = new(StringComparer.OrdinalIgnoreCase);
        public readonly List<Loop> Loops = [];

        public Loop? LoopWith(string tag) => Loops.FirstOrDefault(l => l.Tags.Contains(tag, StringComparer.OrdinalIgnoreCase));

        /// <summary>The value of the first of these tags that the block gives (not '?' or '.'), or null.</summary>
        public Token? FirstItem(params string[] tags)
        {
            foreach (string tag in tags)
                if (Items.TryGetValue(tag, out var token) && (token.Quoted || token.Text is not ("?" or ".")) && token.Text.Trim().Length > 0)
                    return token;
            return null;
        }
    }

    internal sealed record Loop(string[] Tags, List<Token> Values, int Line);

    /// <summary>One row of the atom_site loop.</summary>
    private sealed record AsymmetricSite(string Label, IReadOnlyList<SiteSpecies> Species, double[] Position, int Line)
    {
        public double Occupancy => Species.Sum(s => s.Occupancy);
    }

    public static Structure Parse(string[] lines, string file, string id, string? sourcePath, DisorderPolicy disorder)
    {
        var blocks = ReadBlocks(Tokenise(lines, file), file);
        var block = blocks.FirstOrDefault(b => b.LoopWith("_atom_site_fract_x") is not null)
                    ?? throw new StructureFormatException(file, null, blocks.Count == 0
                        ? "no data_ block found (is this a CIF file?)"
                        : "no _atom_site loop with fractional coordinates (_atom_site_fract_x/y/z)");

        var lattice = ReadCell(block, file, out int cellLine);
        var sites = ReadSites(block, file);
        var symmetry = CifSymmetry.Resolve(block, lattice, file);
        if (symmetry.Alternatives.Count == 1)
            return Expand(lattice, sites, symmetry.Alternatives[0], disorder, file, id, sourcePath, cellLine, symmetry.Name);

        // the file names a group with two origin choices and does not say which: keep the one its atoms fit
        var built = new List<(string Name, Structure? Structure, StructureFormatException? Error)>();
        for (int k = 0; k < symmetry.Alternatives.Count; k++)
        {
            try
            {
                built.Add((symmetry.AlternativeNames[k], Expand(lattice, sites, symmetry.Alternatives[k], disorder, file, id, sourcePath, cellLine,
                    symmetry.AlternativeNames[k]), null));
            }
            catch (StructureFormatException e)
            {
                built.Add((symmetry.AlternativeNames[k], null, e));
            }
        }

        var fitting = built.Where(b => b.Structure is not null).ToList();
        if (fitting.Count == 1)
            return fitting[0].Structure!;
        if (fitting.Count == 0)
            throw new StructureFormatException(file, built[0].Error!.Line,
                $"{built[0].Error!.Problem} (with either origin choice of space group '{symmetry.Name}', line {symmetry.Line})");
        throw new StructureFormatException(file, symmetry.Line,
            $"space group '{symmetry.Name}' has two origin choices and the atoms fit both ({fitting[0].Name}, {fitting[1].Name}); " +
            "name the choice (':1' or ':2' after the symbol) or list the symmetry operations");
    }

    private static Structure Expand(double[,] lattice, List<AsymmetricSite> sites, IReadOnlyList<SymmetryOperation> operations,
        DisorderPolicy disorder, string file, string id, string? sourcePath, int cellLine, string? spaceGroup)
    {
        // apply every operation to every site and merge the copies of a site that coincide (special positions)
        var positions = new List<double[]>();
        var owners = new List<int>();
        for (int site = 0; site < sites.Count; site++)
        {
            int firstOfSite = positions.Count;
            foreach (var op in operations)
            {
                var f = op.Apply(sites[site].Position);
                for (int c = 0; c < 3; c++)
                    f[c] -= Math.Floor(f[c]);
                bool duplicate = false;
                for (int k = firstOfSite; k < positions.Count && !duplicate; k++)
                    duplicate = PeriodicDistance(lattice, f, positions[k]) < MergeTolerance;
                if (duplicate)
                    continue;
                positions.Add(f);
                owners.Add(site);
            }
        }

        // partially occupied sites at one position are one disordered site; fully occupied copies that coincide are a
        // broken file and fail the minimum-distance check of Structure.Create instead
        var groups = new List<List<int>>();
        var groupOf = new int[positions.Count];
        for (int p = 0; p < positions.Count; p++)
        {
            groupOf[p] = -1;
            if (sites[owners[p]].Occupancy < 1 - OccupancyTolerance)
                for (int g = 0; g < groups.Count && groupOf[p] < 0; g++)
                {
                    int q = groups[g][0];
                    if (owners[q] != owners[p] && sites[owners[q]].Occupancy < 1 - OccupancyTolerance
                        && PeriodicDistance(lattice, positions[p], positions[q]) < SharedPositionTolerance)
                        groupOf[p] = g;
                }

            if (groupOf[p] < 0)
            {
                groupOf[p] = groups.Count;
                groups.Add([]);
            }

            groups[groupOf[p]].Add(p);
        }

        var atomicNumbers = new int[groups.Count];
        var coordinates = new double[groups.Count][];
        var atomLines = new int[groups.Count];
        var mixtures = new SiteMixture?[groups.Count];
        var partial = new bool[groups.Count];
        int disordered = 0;
        for (int g = 0; g < groups.Count; g++)
        {
            var members = groups[g].Select(p => sites[owners[p]]).ToList();
            var first = members[0];
            coordinates[g] = positions[groups[g][0]];
            atomLines[g] = first.Line;
            string labels = string.Join("', '", members.Select(s => s.Label).Distinct());
            (atomicNumbers[g], mixtures[g], partial[g]) = SiteOccupancy.Resolve(members.SelectMany(s => s.Species).ToList(), disorder,
                $"site '{labels}'", problem => new StructureFormatException(file, first.Line, problem));
            if (partial[g]) disordered++;
        }

        ThrowOnSplitPositions(lattice, coordinates, partial, atomLines, groups, owners, sites, file);
        var structure = Structure.Create(id, lattice, atomicNumbers, coordinates, true, file, sourcePath, atomLines, cellLine,
            mixtures, disordered);
        structure.SpaceGroup = spaceGroup;
        return structure;
    }

    /// <summary>
    /// A disordered atom modelled as several nearby partially occupied positions cannot be one graph node; say so
    /// rather than report two atoms too close.
    /// </summary>
    private static void ThrowOnSplitPositions(double[,] lattice, double[][] coordinates, bool[] partial, int[] atomLines,
        List<List<int>> groups, List<int> owners, List<AsymmetricSite> sites, string file)
    {
        var partialSites = Enumerable.Range(0, coordinates.Length).Where(g => partial[g]).ToList();
        for (int a = 0; a < partialSites.Count; a++)
        for (int b = a + 1; b < partialSites.Count; b++)
        {
            int i = partialSites[a], j = partialSites[b];
            double distance = PeriodicDistance(lattice, coordinates[i], coordinates[j]);
            if (distance < Structure.MinimumInteratomicDistance)
                throw new StructureFormatException(file, atomLines[j],
                    $"partially occupied sites '{sites[owners[groups[i][0]]].Label}' and '{sites[owners[groups[j][0]]].Label}' are " +
                    $"{distance.ToString("0.###", CultureInfo.InvariantCulture)} Å apart: split positions of one disordered atom, which a " +
                    "crystal graph cannot hold; keep one of the positions");
        }
    }

    private static double PeriodicDistance(double[,] lattice, double[] a, double[] b)
    {
        // the nearest image in fractional terms is the nearest in Cartesian terms for separations well below the
        // plane spacing, which is all the merge tolerances need (cells with spacing near 0.1 Å fail validation anyway)
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

    private static List<AsymmetricSite> ReadSites(DataBlock block, string file)
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
        var formulaElements = CifSpecies.FormulaElements(block.FirstItem("_chemical_formula_sum")?.Text);

        var sites = new List<AsymmetricSite>();
        for (int row = 0; row < values.Count; row += tags.Length)
        {
            Token Cell(int column) => values[row + column];
            int line = Cell(x).Line;
            string name = label >= 0 ? Cell(label).Text : Cell(type).Text;
            bool typed = type >= 0 && Cell(type).Text is not ("." or "?");
            double occupied = 1;
            if (occupancy >= 0 && Cell(occupancy).Text is not ("." or "?"))
            {
                occupied = StructureReader.ParseNumber(Cell(occupancy).Text, file, line, "_atom_site_occupancy");
                if (occupied < 0 || occupied > 1 + OccupancyTolerance)
                    throw new StructureFormatException(file, line, $"site '{name}' has occupancy {Cell(occupancy).Text}, outside 0..1");
                occupied = Math.Min(occupied, 1);
            }

            if (occupied == 0)
                continue; // an empty site is no atom (pymatgen skips it too)
            List<SiteSpecies> species;
            if (typed && CifSpecies.MixtureOfTypeSymbol(Cell(type).Text) is { } mixture)
            {
                species = mixture.Select(s => s with { Occupancy = s.Occupancy * occupied }).ToList();
            }
            else
            {
                int element;
                if (typed)
                {
                    if (!CifSpecies.TryElementOfTypeSymbol(Cell(type).Text, out element))
                        throw new StructureFormatException(file, line, $"unknown element '{Cell(type).Text}'");
                }
                else
                {
                    element = CifSpecies.ElementOfLabel(Cell(label).Text, formulaElements, out string? problem)
                              ?? throw new StructureFormatException(file, line, problem!);
                }

                species = [new SiteSpecies(element, occupied)];
            }

            var p = new double[3];
            int[] columns = [x, y, z];
            for (int c = 0; c < 3; c++)
            {
                var cell = Cell(columns[c]);
                // ICSD writes '.' for a coordinate it does not refine, meaning 0 (as pymatgen reads it)
                p[c] = cell.Text == "." && !cell.Quoted ? 0 : StructureReader.ParseNumber(cell.Text, file, cell.Line, $"fractional coordinate of site {name}");
            }

            sites.Add(new AsymmetricSite(name, species, p, line));
        }

        if (sites.Count == 0)
            throw new StructureFormatException(file, loopLine, "the atom_site loop has no occupied site");
        return sites;
    }

    private static List<DataBlock> ReadBlocks(List<Token> tokens, string file)
    {
        var blocks = new List<DataBlock>();
        DataBlock? current = null;
        int i = 0;
        while (i < tokens.Count)
        {
            var token = tokens[i];
            if (!token.Quoted && token.Text.Equals("_eof", StringComparison.OrdinalIgnoreCase))
                break; // an end-of-file mark some exporters write (ICSD, older diffpy)
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
                // a loop of one row (e.g. "loop_ _cell_angle_alpha 91.0", written by some exporters) also gives its items
                if (values.Count == tags.Count)
                    for (int k = 0; k < tags.Count; k++)
                        current.Items.TryAdd(tags[k], values[k]);
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
                    int end = ClosingQuote(line, i + 1, c);
                    if (end >= 0)
                    {
                        tokens.Add(new Token(line[(i + 1)..end], number, true));
                        i = end + 1;
                    }
                    else if (ContinuedQuote(lines, l, c) is { } continued)
                    {
                        // a quoted value over several lines: not CIF 1.1, but written, and otherwise readable
                        var text = new StringBuilder(line[(i + 1)..]);
                        for (int k = l + 1; k < continued.Line; k++)
                            text.Append('\n').Append(lines[k]);
                        text.Append('\n').Append(lines[continued.Line][..continued.End]);
                        tokens.Add(new Token(text.ToString(), number, true));
                        l = continued.Line;
                        line = lines[l];
                        number = l + 1;
                        i = continued.End + 1;
                    }
                    else
                    {
                        // an opening quote that never closes: the rest of the line is the value
                        tokens.Add(new Token(line[(i + 1)..].TrimEnd(), number, true));
                        i = line.Length;
                    }
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

    /// <summary>Index of the quote that closes a string: the quote character followed by whitespace or the line end (CIF 1.1).</summary>
    private static int ClosingQuote(string line, int from, char quote)
    {
        for (int end = from; end < line.Length; end++)
            if (line[end] == quote && (end + 1 == line.Length || char.IsWhiteSpace(line[end + 1])))
                return end;
        return -1;
    }

    /// <summary>Where a quoted string opened on line <paramref name="l"/> closes on a later line, before anything that starts a new item.</summary>
    private static (int Line, int End)? ContinuedQuote(string[] lines, int l, char quote)
    {
        for (int k = l + 1; k < lines.Length; k++)
        {
            string trimmed = lines[k].TrimStart();
            if (lines[k].StartsWith(';') || (trimmed.Length > 0 && (trimmed[0] == '_' || IsReserved(trimmed.Split(' ', '\t')[0]))))
                return null;
            int end = ClosingQuote(lines[k], 0, quote);
            if (end >= 0)
                return (k, end);
        }

        return null;
    }
}
