using SaGatSr.Gat.Materials;

namespace SaGatSr.Pipeline;

/// <summary>How the ideal cell's B-X distance (half the cubic lattice parameter) is found.</summary>
public enum LatticeRule
{
    /// <summary>
    /// The distance at which B's bond-valence sum over its six X equals its oxidation state (as SPuDS builds perovskites):
    /// d = b ln(2 Σ_X exp(R0_BX / b) / V_B). It holds for every element pair (Brese-O'Keeffe parameters, estimated where
    /// not tabulated) and weighs each anion of a mixed X3 by its own bond strength.
    /// </summary>
    BondValence,

    /// <summary>Shannon ionic radii: d = r_B(VI) + mean r_X(VI); Shannon lists no radius for many less common states.</summary>
    Shannon,
}

/// <summary>
/// The ideal cubic 5-atom perovskite of a composition: A at the origin, B at the body centre, X on the three face centres
/// around B, B-X = a/2. The charge-balanced cation states it needs come from <see cref="TryBalance"/>.
/// </summary>
public static class IdealPerovskite
{
    /// <summary>X sites in order: bonded to B along b, along c, along a (the order the shipped cells list them).</summary>
    private static readonly double[][] AnionSites = [[0.5, 0, 0.5], [0.5, 0.5, 0], [0, 0.5, 0.5]];

    /// <summary>
    /// The cations' oxidation states: A and B take positive states of tier <paramref name="maxTier"/> or better (1: common,
    /// 2: also seen in ICSD, 3: any known; <see cref="IonTable.OxidationStates"/>) summing to the anions' charge. As
    /// <see cref="SiteRoles"/> decides, so that the cell is built from the states the network's features will read: the
    /// lowest tier that balances, then the fewest uncommon states (Σ tier), then the smallest charges (Σ q²), then the more
    /// electronegative cation takes the lower state.
    /// </summary>
    /// <param name="reason">why no assignment exists (empty when one does)</param>
    public static bool TryBalance(PerovskiteCandidate candidate, out (int A, int B) states, out string reason, int maxTier = 1,
        IonTable? ions = null)
    {
        ions ??= IonTable.Default;
        states = default;
        if (candidate.A == candidate.B)
        {
            reason = $"A and B are the same element ({candidate.ASymbol}): one element on both cation sites is not an ABX3 perovskite";
            return false;
        }

        var aStates = PositiveStates(candidate.A, maxTier, ions);
        var bStates = PositiveStates(candidate.B, maxTier, ions);
        int need = candidate.CationCharge;
        bool aMoreElectronegative = Electronegativity(candidate.A) > Electronegativity(candidate.B);
        for (int tier = 1; tier <= maxTier; tier++)
        {
            (int A, int B, int Tiers, int Squares)? best = null;
            foreach (var (qa, ta) in aStates)
            foreach (var (qb, tb) in bStates)
            {
                if (qa + qb != need || ta > tier || tb > tier) continue;
                int tiers = ta + tb, squares = qa * qa + qb * qb;
                if (best is not { } current || tiers < current.Tiers || tiers == current.Tiers && squares < current.Squares
                    || tiers == current.Tiers && squares == current.Squares && (aMoreElectronegative ? qa < current.A : qb < current.B))
                    best = (qa, qb, tiers, squares);
            }

            if (best is { } found)
            {
                states = (found.A, found.B);
                reason = "";
                return true;
            }
        }

        string kind = maxTier switch { 1 => "common", 2 => "common or ICSD", _ => "known" };
        reason = $"no charge-balanced assignment of {kind} oxidation states: {candidate.ASymbol} {Listed(aStates)}, " +
                 $"{candidate.BSymbol} {Listed(bStates)}, {candidate.AnionText} needs +{need}";
        return false;
    }

    /// <summary>The cubic lattice parameter (Å): twice the B-X distance of <paramref name="rule"/>.</summary>
    public static double LatticeParameter(PerovskiteCandidate candidate, int bState, LatticeRule rule = LatticeRule.BondValence, IonTable? ions = null)
    {
        ions ??= IonTable.Default;
        if (rule == LatticeRule.BondValence)
        {
            double b = IonTable.BondValenceSoftness, sum = 0;
            foreach (int x in candidate.X) sum += 2 * Math.Exp(ions.BondValenceR0(candidate.B, x) / b);
            return 2 * b * Math.Log(sum / bState);
        }

        double rB = ions.ShannonRadius(candidate.B, bState, 6, out _), rX = 0;
        foreach (int x in candidate.X) rX += ions.ShannonRadius(x, PerovskiteCandidate.AnionCharges[Elements.Symbol(x)], 6, out _) / 3;
        return 2 * (rB + rX);
    }

    /// <summary>The ideal cubic cell of the composition with lattice parameter <paramref name="a"/> (Å).</summary>
    /// <exception cref="StructureFormatException">the parameter gives atoms closer than <see cref="Structure.MinimumInteratomicDistance"/></exception>
    public static Structure Build(PerovskiteCandidate candidate, double a)
    {
        var lattice = new double[,] { { a, 0, 0 }, { 0, a, 0 }, { 0, 0, a } };
        int[] species = [candidate.A, candidate.B, candidate.X[0], candidate.X[1], candidate.X[2]];
        double[][] sites = [[0, 0, 0], [0.5, 0.5, 0.5], AnionSites[0], AnionSites[1], AnionSites[2]];
        return Structure.Create(candidate.Id, lattice, species, sites, coordinatesAreFractional: true, sourceName: candidate.Formula);
    }

    private static List<(int State, int Tier)> PositiveStates(int z, int maxTier, IonTable ions)
    {
        var states = new List<(int, int)>();
        foreach (var (state, tier) in ions.OxidationStates(z))
            if (state > 0 && tier <= maxTier)
                states.Add((state, tier));
        return states;
    }

    private static double Electronegativity(int z) =>
        ElementTable.Default.RawValue(z, ElementTable.Default.IndexOf("X")) ?? double.NaN;

    private static string Listed(List<(int State, int Tier)> states) =>
        states.Count == 0 ? "has no such positive state" : "+" + string.Join("/+", states.Select(s => s.State));
}
