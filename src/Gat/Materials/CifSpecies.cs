using System.Globalization;

namespace SaGatSr.Gat.Materials;

/// <summary>
/// The element of a CIF atom site, from its _atom_site_type_symbol or, lacking one, from its _atom_site_label, by the
/// conventions crystallographers write: "Fe3+", "O2-" (charges), "Wat", "Ow" and "Hw" (water), "O-H(1)" and "OH" (a
/// hydroxyl oxygen), "Fe1", "O1a" (numbered labels). A label that could be read as two elements is refused unless the file's
/// _chemical_formula_sum tells which.
/// </summary>
internal static class CifSpecies
{
    /// <summary>A type symbol: the leading letters are an element symbol ("Fe3+", "fe"), or a water convention.</summary>
    public static bool TryElementOfTypeSymbol(string text, out int atomicNumber)
    {
        string letters = LeadingLetters(text);
        if (WaterElement(letters) is { } water)
        {
            atomicNumber = water;
            return true;
        }

        return Elements.TryGetAtomicNumber(letters, out atomicNumber);
    }

    /// <summary>
    /// The element a site label stands for, or null with the reason. Two-letter readings win when the label is written
    /// as a symbol is ("Ca1" is calcium), unless the formula has the one-letter element and not the two-letter one;
    /// a label in other case ("CA1", "ca1") is read only when one reading is an element, or the formula decides.
    /// </summary>
    public static int? ElementOfLabel(string label, IReadOnlySet<int>? formulaElements, out string? problem)
    {
        problem = null;
        string letters = LeadingLetters(label);
        if (letters.Length == 0)
        {
            problem = $"site label '{label}' does not start with an element symbol (add _atom_site_type_symbol)";
            return null;
        }

        if (WaterElement(letters) is { } water)
            return water;
        int? one = Elements.TryGetAtomicNumber(letters[..1], out int z1) ? z1 : null;
        int? two = letters.Length >= 2 && Elements.TryGetAtomicNumber(letters[..2], out int z2) ? z2 : null;
        if (one is null && two is null)
        {
            problem = $"site label '{label}' does not start with an element symbol (add _atom_site_type_symbol)";
            return null;
        }

        if (one is null || two is null)
            return one ?? two;
        bool oneInFormula = formulaElements?.Contains(one.Value) == true, twoInFormula = formulaElements?.Contains(two.Value) == true;
        if (oneInFormula != twoInFormula)
            return oneInFormula ? one : two;
        bool writtenAsSymbol = char.IsUpper(letters[0]) && char.IsLower(letters[1]);
        if (writtenAsSymbol)
            return two;
        problem = $"site label '{label}' could be {Elements.Symbol(two.Value)} or {Elements.Symbol(one.Value)}" +
                  (formulaElements is null ? " and the file has no _chemical_formula_sum to tell" : " and _chemical_formula_sum has both") +
                  " (add _atom_site_type_symbol)";
        return null;
    }

    /// <summary>
    /// The species of a Pauling File type symbol such as "0.8Nb + 0.2Zr" (fractions of the site), or null when the
    /// text is not such a mixture.
    /// </summary>
    public static List<SiteSpecies>? MixtureOfTypeSymbol(string text)
    {
        if (!text.Contains('+') || !char.IsDigit(text.TrimStart().FirstOrDefault(c => c != '.')))
            return null;
        var species = new List<SiteSpecies>();
        foreach (string part in text.Split('+', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            // "0.8Nb", "0.648(4)Mn": a fraction, with or without its uncertainty, then the element
            int letter = 0;
            while (letter < part.Length && (char.IsDigit(part[letter]) || part[letter] is '.' or '(' or ')'))
                letter++;
            if (letter == 0 || !StructureReader.TryParseNumber(part[..letter], out double fraction)
                            || !(fraction > 0) || !TryElementOfTypeSymbol(part[letter..], out int z))
                return null;
            species.Add(new SiteSpecies(z, fraction));
        }

        return species.Count > 0 ? species : null;
    }

    /// <summary>Elements of a _chemical_formula_sum such as "C12 H10 Cl2 O4" or "Ca0.5 Sr0.5 Ti O3"; null when it does not parse.</summary>
    public static IReadOnlySet<int>? FormulaElements(string? formula)
    {
        if (string.IsNullOrWhiteSpace(formula) || formula is "?" or ".")
            return null;
        var elements = new HashSet<int>();
        foreach (string part in formula.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries))
        {
            string letters = LeadingLetters(part);
            string rest = part[letters.Length..];
            if (!Elements.TryGetAtomicNumber(letters, out int z)
                || (rest.Length > 0 && !double.TryParse(rest, NumberStyles.Float, CultureInfo.InvariantCulture, out _)))
                return null;
            elements.Add(z);
        }

        return elements.Count > 0 ? elements : null;
    }

    /// <summary>Water and hydroxyl written as one site: "Wat", "Ow", "OH" (Pauling File's "OH", "OH2") are its oxygen, "Hw" a hydrogen.</summary>
    private static int? WaterElement(string letters)
    {
        if (letters.StartsWith("wat", StringComparison.OrdinalIgnoreCase))
            return 8;
        if (letters.Equals("ow", StringComparison.OrdinalIgnoreCase) || letters.Equals("oh", StringComparison.OrdinalIgnoreCase))
            return 8;
        if (letters.Equals("hw", StringComparison.OrdinalIgnoreCase))
            return 1;
        return null;
    }

    private static string LeadingLetters(string text)
    {
        int letters = 0;
        while (letters < text.Length && char.IsAsciiLetter(text[letters]))
            letters++;
        return text[..letters];
    }
}
