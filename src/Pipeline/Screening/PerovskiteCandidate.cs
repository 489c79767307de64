using System.Text.RegularExpressions;
using SaGatSr.Gat.Materials;

namespace SaGatSr.Pipeline;

/// <summary>
/// One ABX3 composition to screen: the A and B cations and the three X anions in the order they take the ideal cell's
/// anion sites (<see cref="IdealPerovskite"/>). <see cref="Index"/> is its position in the candidate stream, so results
/// can be put back in input order; <see cref="Id"/> is the candidates file's id (else the formula) and
/// <see cref="Location"/> the file and line it came from, if any.
/// </summary>
public sealed record PerovskiteCandidate(long Index, string Id, string Formula, int A, int B, int[] X, string? Location = null)
{
    /// <summary>
    /// The anions screen knows, with the fixed charge they take: a perovskite's X sites hold halides, chalcogenides or
    /// nitride, whose charge is not in question, so only the cations' states are searched.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, int> AnionCharges = new Dictionary<string, int>
    {
        ["O"] = -2, ["S"] = -2, ["Se"] = -2, ["Te"] = -2, ["N"] = -3, ["F"] = -1, ["Cl"] = -1, ["Br"] = -1, ["I"] = -1,
    };

    private static readonly Regex Token = new(@"([A-Z][a-z]?)(\d*)", RegexOptions.Compiled);

    public string ASymbol => Elements.Symbol(A);

    public string BSymbol => Elements.Symbol(B);

    /// <summary>The anions as the formula writes them, e.g. "O2N".</summary>
    public string AnionText => Formula[(ASymbol.Length + BSymbol.Length)..];

    /// <summary>The total charge the two cations must carry: minus the anions' charge.</summary>
    public int CationCharge => -X.Sum(z => AnionCharges[Elements.Symbol(z)]);

    /// <summary>
    /// Parses an A-B-anions formula written A first, then B, then anions summing to three ("SrTiO3", "BaTaO2N",
    /// "TiOsOFN"), as the shipped perovskites name them.
    /// </summary>
    /// <exception cref="FormatException">the text is not such a formula (the message says why)</exception>
    public static PerovskiteCandidate Parse(string formula, long index = 0, string? id = null, string? location = null)
    {
        var tokens = Tokens(formula.Trim(), "formula");
        if (tokens.Count < 3 || tokens[0].Count != 1 || tokens[1].Count != 1)
            throw new FormatException($"'{formula}' is not an ABX3 formula: write A, then B (one each), then three anions, e.g. SrTiO3 or BaTaO2N");
        var anions = AnionSites(tokens.Skip(2).ToList(), formula);
        return new PerovskiteCandidate(index, id ?? formula.Trim(), formula.Trim(), tokens[0].Z, tokens[1].Z, anions, location);
    }

    /// <summary>The three anions of an X string ("O3", "O2N", "OFN"), in site order.</summary>
    /// <exception cref="FormatException">unknown element, an element that is not a known anion, or not three anions</exception>
    public static int[] ParseAnions(string text) => AnionSites(Tokens(text.Trim(), "anion string"), text);

    /// <summary>An element symbol in any case ("sr", "Sr"), or a clear error naming the list it came from.</summary>
    public static int ParseElement(string symbol, string list)
    {
        string trimmed = symbol.Trim();
        if (trimmed.Length == 0) throw new FormatException($"an empty element name in the {list} list");
        return Elements.TryGetAtomicNumber(trimmed, out int z) && string.Equals(Elements.Symbol(z), trimmed, StringComparison.OrdinalIgnoreCase) ? z
            : throw new FormatException($"unknown element '{trimmed}' in the {list} list");
    }

    private static List<(int Z, int Count)> Tokens(string text, string what)
    {
        var tokens = new List<(int, int)>();
        int position = 0;
        foreach (Match match in Token.Matches(text))
        {
            if (match.Index != position) break;
            string symbol = match.Groups[1].Value;
            if (!Elements.TryGetAtomicNumber(symbol, out int z) || Elements.Symbol(z) != symbol)
                throw new FormatException($"unknown element '{symbol}' in the {what} '{text}'");
            int count = match.Groups[2].Length == 0 ? 1 : int.Parse(match.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture);
            tokens.Add((z, count));
            position = match.Index + match.Length;
        }

        if (text.Length == 0 || position != text.Length)
            throw new FormatException($"'{text}' is not a {what}: expected element symbols with optional counts, e.g. SrTiO3 or O2N");
        return tokens;
    }

    /// <summary>
    /// The anions other than O (alphabetically) take the first sites, O the rest: that is how the shipped cells place
    /// them (BaTaO2N: N bonded to B along b; TiOsOFN: F along b, N along c, O along a).
    /// </summary>
    private static int[] AnionSites(List<(int Z, int Count)> tokens, string text)
    {
        foreach (var (z, _) in tokens)
            if (!AnionCharges.ContainsKey(Elements.Symbol(z)))
                throw new FormatException($"'{Elements.Symbol(z)}' in '{text}' is not an anion screen knows: " +
                                          $"{string.Join(", ", AnionCharges.Select(p => $"{p.Key} ({p.Value})"))}");
        int total = tokens.Sum(t => t.Count);
        if (total != 3) throw new FormatException($"'{text}' has {total} anions; an ABX3 perovskite has three");
        return tokens.SelectMany(t => Enumerable.Repeat(t.Z, t.Count))
            .OrderBy(z => Elements.Symbol(z) == "O" ? 1 : 0).ThenBy(z => Elements.Symbol(z), StringComparer.Ordinal).ToArray();
    }
}
