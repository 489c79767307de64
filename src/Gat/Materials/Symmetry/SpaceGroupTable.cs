using System.Text.RegularExpressions;

namespace SaGatSr.Gat.Materials.Symmetry;

/// <summary>One setting of a space group: its number, Hermann-Mauguin symbol, Hall symbol and operations.</summary>
public sealed class SpaceGroupSetting
{
    private readonly Lazy<IReadOnlyList<SymmetryOperation>> _operations;

    internal SpaceGroupSetting(int number, string symbol, string hall, bool isStandard)
    {
        Number = number;
        Symbol = symbol;
        Hall = hall;
        IsStandard = isStandard;
        int colon = symbol.IndexOf(':');
        BaseSymbol = (colon >= 0 ? symbol[..colon] : symbol).Trim();
        Choice = colon >= 0 ? symbol[(colon + 1)..].Trim()[0] : null;
        var components = BaseSymbol.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (number is >= 3 and <= 15)
        {
            UniqueAxis = "abc"[Array.FindIndex(components, 1, c => c != "1") - 1];
            ShortSymbol = string.Concat(components.Where((c, k) => k == 0 || c != "1"));
        }
        else
        {
            ShortSymbol = string.Concat(components);
        }

        _operations = new Lazy<IReadOnlyList<SymmetryOperation>>(() => HallSymbol.Operations(hall));
    }

    /// <summary>International Tables number, 1..230.</summary>
    public int Number { get; }

    /// <summary>Hermann-Mauguin symbol with the setting suffix, as in International Tables: "P 1 21/c 1", "F d -3 m :2", "R -3 m :H".</summary>
    public string Symbol { get; }

    /// <summary>The symbol without the ":1"/":2"/":H"/":R" suffix.</summary>
    public string BaseSymbol { get; }

    /// <summary>Compact symbol as most files write it: "P21/c" (monoclinic unique-axis 1s dropped), "Fd-3m", "Pnma".</summary>
    public string ShortSymbol { get; }

    public string Hall { get; }

    /// <summary>'1' or '2' (origin choice), 'H' or 'R' (axes of a rhombohedral group), or null.</summary>
    public char? Choice { get; }

    /// <summary>'a', 'b' or 'c' for monoclinic settings, else null.</summary>
    public char? UniqueAxis { get; }

    /// <summary>Whether this is the number's standard (first-listed) setting.</summary>
    public bool IsStandard { get; }

    /// <summary>Every operation in the conventional cell, centring translations included; generated from <see cref="Hall"/>.</summary>
    public IReadOnlyList<SymmetryOperation> Operations => _operations.Value;

    public override string ToString() => $"{Symbol} (No. {Number})";
}

/// <summary>
/// The space-group settings of International Tables Vol. B, Table A1.4.2.7 (number, Hermann-Mauguin and Hall symbols;
/// shipped as Materials/Data/space_groups.tsv), looked up by Hall symbol, by Hermann-Mauguin symbol in the spellings
/// files use, by number, or by their operations.
/// </summary>
public static partial class SpaceGroupTable
{
    private const string ResourceName = "SaGatSr.Gat.Materials.Data.space_groups.tsv";

    private static readonly Lazy<Table> LazyTable = new(Load);

    private sealed record Table(
        IReadOnlyList<SpaceGroupSetting> Settings,
        Dictionary<string, List<SpaceGroupSetting>> BySymbolKey,
        Dictionary<string, SpaceGroupSetting> ByHall);

    public static IReadOnlyList<SpaceGroupSetting> Settings => LazyTable.Value.Settings;

    /// <summary>The settings of one space group, standard first.</summary>
    public static IReadOnlyList<SpaceGroupSetting> OfNumber(int number) =>
        number is >= 1 and <= 230 ? Settings.Where(s => s.Number == number).ToList() : [];

    /// <summary>
    /// What a bare number means: the standard setting, and for groups where a file's cell or atoms decide, the first
    /// setting of each other unique axis (monoclinic), origin choice or axes (rhombohedral), in that preference order.
    /// </summary>
    public static IReadOnlyList<SpaceGroupSetting> DefaultSettings(int number) =>
        OfNumber(number).DistinctBy(s => (s.UniqueAxis, s.Choice)).ToList();

    /// <summary>The table setting written with exactly this Hall symbol (spacing aside), or null.</summary>
    public static SpaceGroupSetting? FindByHall(string hall) =>
        LazyTable.Value.ByHall.GetValueOrDefault(NormaliseHall(hall));

    /// <summary>The table setting with exactly these operations (in any order), or null.</summary>
    public static SpaceGroupSetting? FindByOperations(IReadOnlyCollection<SymmetryOperation> operations) =>
        Fingerprint(operations) is { } key ? LazyByOperations.Value.GetValueOrDefault(key) : null;

    private static readonly Lazy<Dictionary<string, SpaceGroupSetting>> LazyByOperations =
        new(() => Settings.ToDictionary(s => Fingerprint(s.Operations)!));

    /// <summary>
    /// The operations as sorted text with translations in 24ths: equal for equal sets (every table translation is a
    /// multiple of 1/12), null when some translation is no such fraction, so a set from a file is found in one look-up.
    /// </summary>
    private static string? Fingerprint(IEnumerable<SymmetryOperation> operations)
    {
        var keys = new List<long>();
        foreach (var op in operations)
        {
            long key = 0;
            for (int r = 0; r < 3; r++)
            for (int c = 0; c < 3; c++)
                key = key * 5 + op.Rotation(r, c) + 2;
            for (int r = 0; r < 3; r++)
            {
                double t = op.Translation(r) * 24;
                if (Math.Abs(t - Math.Round(t)) > SymmetryOperation.TranslationTolerance * 24)
                    return null;
                key = key * 24 + (long)Math.Round(t) % 24;
            }

            keys.Add(key);
        }

        keys.Sort();
        return string.Join(',', keys.Distinct());
    }

    /// <summary>
    /// Settings a Hermann-Mauguin symbol can mean, in preference order; empty when it names none. Accepts full and
    /// short symbols ("P 1 21/n 1", "P21/n", "P2_1/n"), the setting suffixes ":1", ":2", ":H", ":R" and ICSD's trailing
    /// " H", " R", " S" (origin choice 1), " Z" (origin choice 2), the older e-glide letters ("Cmca" for "Cmce") and
    /// bar-less cubic symbols ("Fm3m"). Without a suffix, every origin choice or axes setting is returned.
    /// </summary>
    public static IReadOnlyList<SpaceGroupSetting> FindBySymbol(string symbol)
    {
        var table = LazyTable.Value;
        string text = symbol.Trim();
        char? choice = null;
        int colon = text.LastIndexOf(':');
        if (colon >= 0)
        {
            choice = ChoiceOf(text[(colon + 1)..].Trim());
            if (choice is null)
                return [];
            text = text[..colon];
        }
        else
        {
            var words = text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (words.Length >= 2 && words[^1].Length == 1 && char.IsLetter(words[^1][0]) && ChoiceOf(words[^1]) is { } trailing)
            {
                choice = trailing;
                text = string.Join(' ', words[..^1]);
            }
        }

        string key = SymbolKey(ShortFormOfFullSymbol(text));
        if (!table.BySymbolKey.TryGetValue(key, out var candidates) && choice is null && key.Length > 1
            && ChoiceOf(key[^1..]) is { } glued && !char.IsDigit(key[^1])
            && table.BySymbolKey.TryGetValue(key[..^1], out candidates))
            choice = glued; // "R-3mH", "Fd-3mZ"
        if (candidates is null)
            return [];
        if (choice is null || candidates.All(c => c.Choice is null))
            return candidates;
        return candidates.Where(c => c.Choice == choice).ToList();
    }

    /// <summary>
    /// The short symbol of a full one: "P 21/n 21/m 21/a" is "P n m a", "P 4/m 2/m 2/m" is "P 4/m m m" (the main axis
    /// keeps its rotation), "F 4/m -3 2/m" is "F m -3 m". Monoclinic full symbols ("P 1 21/c 1") are table entries and
    /// other text is returned as it is.
    /// </summary>
    private static string ShortFormOfFullSymbol(string symbol)
    {
        var words = symbol.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        if (words.Length != 4 || words.Skip(1).Count(w => w.Contains('/')) < 2)
            return symbol;
        bool cubic = words[2] is "3" or "-3";
        bool keepMainAxis = !cubic && words[1].Contains('/') && words[1][0] is '4' or '6';
        var reduced = words.Select((w, k) => k == 0 || (k == 1 && keepMainAxis) || !w.Contains('/') ? w : w[(w.IndexOf('/') + 1)..]);
        return string.Join(' ', reduced);
    }

    private static char? ChoiceOf(string suffix) => suffix.ToUpperInvariant() switch
    {
        "1" or "S" => '1',
        "2" or "Z" => '2',
        "H" => 'H',
        "R" => 'R',
        _ => null,
    };

    [GeneratedRegex(@"(\d)\((\d)\)")]
    private static partial Regex ParenthesisedScrew();

    /// <summary>Spaces and underscores dropped, "2(1)" as "21", lower case: "P 1 21/c 1", "P2_1/c" and "p21/C" compare alike.</summary>
    private static string SymbolKey(string symbol) =>
        ParenthesisedScrew().Replace(symbol, "$1$2").Replace("_", "").Replace(" ", "").Replace("\t", "").ToLowerInvariant();

    private static string NormaliseHall(string hall) =>
        string.Join(' ', hall.Replace("(", " ( ").Replace(")", " ) ").Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));

    private static Table Load()
    {
        var settings = new List<SpaceGroupSetting>();
        foreach (string line in ElementTable.ReadEmbeddedText(ResourceName).Split('\n'))
        {
            if (line.Length == 0 || line.StartsWith('#'))
                continue;
            var cells = line.TrimEnd('\r').Split('\t');
            if (cells.Length != 3 || !int.TryParse(cells[0], out int number))
                throw new FormatException($"{ResourceName}: malformed row '{line}'");
            settings.Add(new SpaceGroupSetting(number, cells[1], cells[2], settings.Count == 0 || settings[^1].Number != number));
        }

        var bySymbol = new Dictionary<string, List<SpaceGroupSetting>>();
        foreach (var setting in settings)
            foreach (string alias in Aliases(setting))
            {
                var list = bySymbol.TryGetValue(alias, out var existing) ? existing : bySymbol[alias] = [];
                if (!list.Contains(setting))
                    list.Add(setting);
            }

        return new Table(settings, bySymbol, settings.ToDictionary(s => NormaliseHall(s.Hall)));
    }

    private static IEnumerable<string> Aliases(SpaceGroupSetting setting)
    {
        var components = setting.BaseSymbol.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        yield return SymbolKey(setting.BaseSymbol);
        yield return SymbolKey(setting.ShortSymbol);
        // International Tables (2002) renamed the double glide 'e'; older files use one of its two glide letters
        for (int position = 1; position < components.Length; position++)
        {
            if (components[position] != "e")
                continue;
            foreach (char letter in "abc".Where((_, axis) => axis != position - 1))
            {
                var renamed = (string[])components.Clone();
                renamed[position] = letter.ToString();
                yield return SymbolKey(string.Concat(renamed));
            }
        }

        // cubic symbols before 1983 wrote the roto-inversion -3 as 3 ("Fm3m")
        if (setting.Number >= 195 && components.Length > 2 && components[2] == "-3")
        {
            var renamed = (string[])components.Clone();
            renamed[2] = "3";
            yield return SymbolKey(string.Concat(renamed));
        }
    }
}
