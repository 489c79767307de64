using System.Globalization;
using System.Text.RegularExpressions;
using SaGatSr.Gat.Materials.Symmetry;

namespace SaGatSr.Gat.Materials;

/// <summary>
/// The symmetry operations that expand a CIF's asymmetric unit: the listed ones (_symmetry_equiv_pos_as_xyz and its
/// newer spellings) or, when none are listed, those of the space group the file names: by Hall symbol, else
/// Hermann-Mauguin symbol, else number. A symbol that leaves the setting open is settled by the cell (monoclinic unique
/// axis, rhombohedral or hexagonal axes); an open origin choice is left to the atoms (<see cref="CifReader"/>). A named
/// group that cannot be resolved, or names that disagree, are refused: the asymmetric unit alone (P1) is a different
/// structure. Only a file that names no group at all is P1.
/// </summary>
internal static partial class CifSymmetry
{
    /// <summary>Relative tolerance of the metric check: about 0.1% in lengths and 0.1° in angles.</summary>
    private const double MetricTolerance = 2e-3;

    private static readonly string[] OperationTags =
        ["_symmetry_equiv_pos_as_xyz", "_space_group_symop_operation_xyz", "_space_group_symop.operation_xyz", "_symmetry_equiv.pos_as_xyz"];

    private static readonly string[] HallTags = ["_space_group_name_Hall", "_symmetry_space_group_name_Hall", "_space_group.name_Hall"];

    private static readonly string[] HermannMauguinTags =
        ["_space_group_name_H-M_alt", "_symmetry_space_group_name_H-M", "_space_group.name_H-M_alt", "_symmetry_space_group_name_H_M", "_space_group_name_H-M"];

    private static readonly string[] NumberTags = ["_space_group_IT_number", "_symmetry_Int_Tables_number", "_space_group.IT_number"];

    /// <param name="Alternatives">operation sets to try; more than one only for an open origin choice</param>
    /// <param name="Name">the space group for reports: the resolved setting and number, else as the file writes it; null if none</param>
    /// <param name="Line">the line naming the group, for errors</param>
    internal sealed record Result(IReadOnlyList<IReadOnlyList<SymmetryOperation>> Alternatives, IReadOnlyList<string> AlternativeNames, string? Name, int? Line);

    public static Result Resolve(CifReader.DataBlock block, double[,] lattice, string file)
    {
        var hall = block.FirstItem(HallTags);
        var hermannMauguin = block.FirstItem(HermannMauguinTags);
        var number = block.FirstItem(NumberTags);
        if (ListedOperations(block, file) is { } listed)
        {
            var setting = SpaceGroupTable.FindByOperations(listed);
            string? name = setting is not null ? Describe(setting) : (hermannMauguin ?? hall ?? number)?.Text.Trim();
            return new Result([listed], [name ?? "listed"], name, null);
        }

        if (hall is null && hermannMauguin is null && number is null)
            return new Result([[SymmetryOperation.Identity]], ["P 1"], null, null); // nothing named: the sites are the whole cell

        var metric = Metric(lattice);
        var named = (hall ?? hermannMauguin ?? number)!.Value;

        IReadOnlyList<SymmetryOperation>? hallOperations = null;
        string? hallProblem = null;
        if (hall is { } h)
        {
            try
            {
                hallOperations = HallSymbol.Operations(h.Text);
            }
            catch (FormatException e)
            {
                hallProblem = e.Message;
            }
        }

        var symbolSettings = hermannMauguin is { } hm ? SpaceGroupTable.FindBySymbol(CleanSymbol(hm.Text)) : [];
        int? groupNumber = null;
        if (number is { } n)
        {
            if (!int.TryParse(n.Text.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out int parsed) || parsed is < 1 or > 230)
                throw new StructureFormatException(file, n.Line, $"space group number '{n.Text}' is not 1..230");
            groupNumber = parsed;
        }

        if (hallOperations is not null)
        {
            var h2 = hall!.Value;
            if (!Fits(hallOperations, metric))
                throw Misfit(file, h2, lattice);
            var setting = SpaceGroupTable.FindByOperations(hallOperations);
            if (symbolSettings.Count > 0 && !symbolSettings.Any(s => SameOperations(s.Operations, hallOperations)))
                throw new StructureFormatException(file, h2.Line,
                    $"the Hall symbol '{h2.Text}' and the Hermann-Mauguin symbol '{hermannMauguin!.Value.Text}' (line {hermannMauguin.Value.Line}) name different settings");
            if (setting is not null && groupNumber is { } g && g != setting.Number)
                throw NumberMismatch(file, h2, setting, number!.Value);
            string name = setting is not null ? Describe(setting) : h2.Text.Trim();
            return new Result([hallOperations], [name], name, h2.Line);
        }

        IReadOnlyList<SpaceGroupSetting> candidates;
        CifReader.Token source;
        if (symbolSettings.Count > 0)
        {
            (candidates, source) = (symbolSettings, hermannMauguin!.Value);
        }
        else if (groupNumber is { } g && (hermannMauguin is null || SpaceGroupTable.OfNumber(g).Count == 1))
        {
            // a number alone, or with a symbol this table does not spell, is only trusted where it leaves no setting open
            (candidates, source) = (SpaceGroupTable.DefaultSettings(g), number!.Value);
        }
        else
        {
            var unknown = hermannMauguin ?? named;
            string why = hallProblem is not null ? $" ({hallProblem})" : "";
            throw new StructureFormatException(file, unknown.Line,
                $"the space group '{unknown.Text.Trim()}'{why} is not one this reader can resolve, and the file lists no symmetry operations; " +
                "add the _symmetry_equiv_pos_as_xyz loop (reading only the listed atoms would be a different structure)");
        }

        if (groupNumber is { } expected && candidates[0].Number != expected)
            throw NumberMismatch(file, source, candidates[0], number!.Value);
        var fitting = candidates.Where(s => Fits(s.Operations, metric)).ToList();
        if (fitting.Count == 0)
            throw Misfit(file, source, lattice);
        var first = fitting[0];
        var otherOrigin = first.Choice is '1' or '2'
            ? fitting.FirstOrDefault(s => s.Number == first.Number && s.Choice is '1' or '2' && s.Choice != first.Choice && s.UniqueAxis == first.UniqueAxis)
            : null;
        var chosen = otherOrigin is null ? new[] { first } : new[] { first, otherOrigin };
        return new Result(chosen.Select(s => s.Operations).ToList(), chosen.Select(Describe).ToList(),
            otherOrigin is null ? Describe(first) : source.Text.Trim(), source.Line);
    }

    private static string Describe(SpaceGroupSetting setting) => $"{setting.Symbol} ({setting.Number})";

    /// <summary>Drops a trailing "(No. 14)"-style note some files add to the symbol.</summary>
    private static string CleanSymbol(string text)
    {
        var note = NumberNote().Match(text);
        return note.Success ? note.Groups[1].Value : text.Trim();
    }

    [GeneratedRegex(@"^\s*(.*?)\s*\((?:No\.?\s*)?\d+\)\s*$", RegexOptions.IgnoreCase)]
    private static partial Regex NumberNote();

    private static IReadOnlyList<SymmetryOperation>? ListedOperations(CifReader.DataBlock block, string file)
    {
        foreach (string tag in OperationTags)
        {
            List<CifReader.Token> texts;
            if (block.LoopWith(tag) is { } loop)
            {
                int column = Array.FindIndex(loop.Tags, t => t.Equals(tag, StringComparison.OrdinalIgnoreCase));
                texts = [];
                for (int row = 0; row + loop.Tags.Length <= loop.Values.Count; row += loop.Tags.Length)
                    texts.Add(loop.Values[row + column]);
            }
            else if (block.Items.TryGetValue(tag, out var single))
            {
                texts = [single];
            }
            else
            {
                continue;
            }

            if (texts.Count == 0)
                continue;
            var operations = new List<SymmetryOperation>();
            foreach (var token in texts)
                operations.Add(SymmetryOperation.TryParse(token.Text, out string? problem)
                               ?? throw new StructureFormatException(file, token.Line, $"symmetry operation '{token.Text}' {problem}"));
            return operations;
        }

        return null;
    }

    private static bool SameOperations(IReadOnlyList<SymmetryOperation> a, IReadOnlyList<SymmetryOperation> b) =>
        a.Count == b.Count && a.ToHashSet().SetEquals(b);

    private static double[,] Metric(double[,] lattice)
    {
        var metric = new double[3, 3];
        for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            for (int k = 0; k < 3; k++)
                metric[i, j] += lattice[i, k] * lattice[j, k];
        return metric;
    }

    private static bool Fits(IReadOnlyList<SymmetryOperation> operations, double[,] metric) =>
        operations.All(op => op.PreservesMetric(metric, MetricTolerance));

    private static StructureFormatException Misfit(string file, CifReader.Token named, double[,] lattice)
    {
        double Length(int r) => Math.Sqrt(lattice[r, 0] * lattice[r, 0] + lattice[r, 1] * lattice[r, 1] + lattice[r, 2] * lattice[r, 2]);
        double Angle(int p, int q) => Math.Acos((lattice[p, 0] * lattice[q, 0] + lattice[p, 1] * lattice[q, 1] + lattice[p, 2] * lattice[q, 2]) / (Length(p) * Length(q))) * 180 / Math.PI;
        string cell = string.Create(CultureInfo.InvariantCulture,
            $"a={Length(0):0.####} b={Length(1):0.####} c={Length(2):0.####} alpha={Angle(1, 2):0.##} beta={Angle(0, 2):0.##} gamma={Angle(0, 1):0.##}");
        return new StructureFormatException(file, named.Line,
            $"the cell ({cell}) does not have the symmetry of space group '{named.Text.Trim()}' in any setting; check the cell or list the symmetry operations");
    }

    private static StructureFormatException NumberMismatch(string file, CifReader.Token named, SpaceGroupSetting setting, CifReader.Token number) =>
        new(file, number.Line, $"space group number {number.Text.Trim()} disagrees with '{named.Text.Trim()}' (line {named.Line}), which is number {setting.Number}");
}
