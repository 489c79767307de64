namespace SaGatSr.Gat.Materials;

/// <summary>Element symbols by atomic number (1..118) and the reverse lookup used by every reader.</summary>
public static class Elements
{
    public const int Count = 118;

    private static readonly string[] Symbols =
    [
        "", "H", "He", "Li", "Be", "B", "C", "N", "O", "F", "Ne", "Na", "Mg", "Al", "Si", "P", "S", "Cl", "Ar",
        "K", "Ca", "Sc", "Ti", "V", "Cr", "Mn", "Fe", "Co", "Ni", "Cu", "Zn", "Ga", "Ge", "As", "Se", "Br", "Kr",
        "Rb", "Sr", "Y", "Zr", "Nb", "Mo", "Tc", "Ru", "Rh", "Pd", "Ag", "Cd", "In", "Sn", "Sb", "Te", "I", "Xe",
        "Cs", "Ba", "La", "Ce", "Pr", "Nd", "Pm", "Sm", "Eu", "Gd", "Tb", "Dy", "Ho", "Er", "Tm", "Yb", "Lu",
        "Hf", "Ta", "W", "Re", "Os", "Ir", "Pt", "Au", "Hg", "Tl", "Pb", "Bi", "Po", "At", "Rn",
        "Fr", "Ra", "Ac", "Th", "Pa", "U", "Np", "Pu", "Am", "Cm", "Bk", "Cf", "Es", "Fm", "Md", "No", "Lr",
        "Rf", "Db", "Sg", "Bh", "Hs", "Mt", "Ds", "Rg", "Cn", "Nh", "Fl", "Mc", "Lv", "Ts", "Og",
    ];

    private static readonly Dictionary<string, int> ByCapitalisedSymbol = Enumerable.Range(1, Count)
        .ToDictionary(z => Symbols[z], z => z, StringComparer.Ordinal);

    public static string Symbol(int atomicNumber) =>
        atomicNumber is >= 1 and <= Count ? Symbols[atomicNumber] : throw new ArgumentOutOfRangeException(nameof(atomicNumber), atomicNumber, "atomic number must be 1..118");

    /// <summary>Case-insensitive exact symbol match ("fe", "FE" and "Fe" all give 26); D and T are hydrogen isotopes.</summary>
    public static bool TryGetAtomicNumber(string symbol, out int atomicNumber)
    {
        atomicNumber = 0;
        if (symbol.Length is 0 or > 2)
            return false;
        string capitalised = char.ToUpperInvariant(symbol[0]) + symbol[1..].ToLowerInvariant();
        if (capitalised is "D" or "T")
        {
            atomicNumber = 1;
            return true;
        }

        return ByCapitalisedSymbol.TryGetValue(capitalised, out atomicNumber);
    }

    /// <summary>
    /// Strict species: the leading letters must be exactly an element symbol, anything after them is a decoration that
    /// starts with a non-letter: "Fe", "Fe3+", "O2-", "Fe_pv" (POTCAR), "Fe/4a1b" (VASP 6 hash). "System" or "OH" fail.
    /// </summary>
    public static bool TryParseSymbol(string text, out int atomicNumber)
    {
        int letters = 0;
        while (letters < text.Length && char.IsAsciiLetter(text[letters]))
            letters++;
        return TryGetAtomicNumber(text[..letters], out atomicNumber);
    }

    /// <summary>Period (row) of the periodic table from the atomic number.</summary>
    public static int Period(int z) => z switch
    {
        <= 2 => 1, <= 10 => 2, <= 18 => 3, <= 36 => 4, <= 54 => 5, <= 86 => 6, _ => 7,
    };

    /// <summary>IUPAC group 1..18; lanthanides and actinides are assigned group 3 (as pymatgen does).</summary>
    public static int Group(int z)
    {
        if (z == 1) return 1;
        if (z == 2) return 18;
        if (z is >= 57 and <= 71 or >= 89 and <= 103) return 3;
        int[] periodStarts = [3, 11, 19, 37, 55, 87];
        int period = Period(z);
        int position = z - periodStarts[period - 2] + 1; // 1-based position within the period
        switch (period)
        {
            case 2 or 3:
                return position <= 2 ? position : position + 10;
            case 4 or 5:
                return position;
            default:
                // periods 6 and 7 hold 14 f-block elements after group 2 (La/Ac count as group 3 above)
                return position <= 2 ? position : position - 14;
        }
    }

    /// <summary>Block: 0 = s, 1 = p, 2 = d, 3 = f (La-Lu and Ac-Lr are f, He is s).</summary>
    public static int Block(int z)
    {
        if (z is >= 57 and <= 71 or >= 89 and <= 103) return 3;
        int group = Group(z);
        if (z == 2 || group <= 2) return 0;
        return group >= 13 ? 1 : 2;
    }
}
