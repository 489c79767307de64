namespace SaGatSr.Gat.Materials;

/// <summary>The crystallographic role of a site. A, B and X are used for recognised ABX3 perovskites only.</summary>
public enum SiteRole : byte
{
    Unassigned,
    Cation,
    Anion,
    A,
    B,
    X,
}

/// <summary>How the oxidation states of a crystal were estimated.</summary>
public enum OxidationRule : byte
{
    /// <summary>Not estimated: the crystal falls back to whole-crystal statistics (see <see cref="SiteRoles.Reason"/>).</summary>
    None,

    /// <summary>One integer state per element, from the element's known states, summing to zero.</summary>
    ChargeBalance,

    /// <summary>Per site, the known state nearest to the site's bond-valence sum (need not sum to zero).</summary>
    BondValence,
}

/// <summary>
/// Site roles (cation/anion, or A/B/X of an ABX3 perovskite) and estimated oxidation states of one crystal.
/// <para>The rule, in order:</para>
/// <list type="number">
/// <item>Cation/anion splits: the crystal's elements sorted by Pauling electronegativity X; the anions are the k most
/// electronegative elements (equal X never split); every anion element must be H or a p-block element with a known
/// negative oxidation state (the negative states of s-, d- and f-block metals, as in Fe(CO)4 2- or CsAu, are too exotic
/// to guess), every cation element must have a known positive one. Crystals with one element, or an element without X (noble gases), are
/// not assigned.</item>
/// <item>ABX3: the atom count is 5n, one split has 3n anion sites, and exactly n of the 2n cation sites are octahedral:
/// their 6 nearest graph neighbours are anions and the 7th (if any) is at least <see cref="OctahedralGap"/> times farther
/// than the 6th. Those are B, the other cations A, the anions X (mixed anions such as O2N or OF2 are all X). Needs a
/// graph with at least 7 neighbours per atom (the default has 20).</item>
/// <item>Charge balance: one state per element, each of the right sign for its role, summing to zero; first over the
/// common states only, then also over states seen in ICSD, then over all known states (<see cref="IonTable.OxidationStates"/>).
/// Among balanced choices (over every split; only the ABX3 split for a perovskite) the one with the most common states
/// wins (smallest Σ n·tier over sites), then the one with the smallest charges (Σ n q²): SrFeO3 is Sr+2 Fe+4 O-2, not
/// Sr+2 Fe+1 O-1. Mixed valence (Fe3O4) and one element in two states (S in thiosulfate) cannot balance here.</item>
/// <item>Bond valence, where charge balance fails: the split with the largest electronegativity gap (ABX3: its split),
/// which must be at least <see cref="MinimumBondValenceGap"/> for a non-perovskite (smaller gaps are metals and alloys);
/// each site's bond-valence sum over its counter-ion graph neighbours, and as oxidation state the element's known state
/// of the role's sign nearest to it (ties: the more common state). A site without a counter-ion neighbour fails the crystal.</item>
/// <item>Otherwise no roles: every site is <see cref="SiteRole.Unassigned"/> with oxidation state 0, and users fall back
/// to whole-crystal statistics.</item>
/// </list>
/// Bond-valence sums are computed for every assigned crystal (for the global instability index and the site_bvs feature):
/// Σ exp((R0 - d)/0.37 Å) over the cation-anion bonds of the graph, each bond read from the cation's neighbour list (the
/// default graph's 20 nearest neighbours of a cation cover its anion shell in ionic crystals) and credited to both ends.
/// </summary>
public sealed class SiteRoles
{
    /// <summary>Minimum ratio of the 7th to the 6th neighbour distance of an octahedral B site.</summary>
    public const double OctahedralGap = 1.1;

    /// <summary>Minimum electronegativity gap between anions and cations for bond-valence roles outside ABX3.</summary>
    public const double MinimumBondValenceGap = 0.5;

    /// <summary>First-shell factor: a cation's anions within this multiple of its nearest anion distance count for the coordination.</summary>
    public const double FirstShellFactor = 1.25;

    private const int SearchBudget = 200_000; // charge-balance combinations tried per tier before giving up on it

    private SiteRoles(SiteRole[] roles, double[] states, double[] bvs, int[] coordination, OxidationRule rule, int tier, bool isAbx3, string reason)
    {
        Roles = roles;
        OxidationStates = states;
        BondValenceSums = bvs;
        Coordination = coordination;
        OxidationRule = rule;
        ChargeBalanceTier = tier;
        IsAbx3 = isAbx3;
        Reason = reason;
    }

    /// <summary>Per site: its role.</summary>
    public SiteRole[] Roles { get; }

    /// <summary>Per site: estimated oxidation state (signed; 0 where unassigned).</summary>
    public double[] OxidationStates { get; }

    /// <summary>Per site: bond-valence sum over counter-ion neighbours (v.u., positive for anions too; 0 where unassigned).</summary>
    public double[] BondValenceSums { get; }

    /// <summary>Per site: first-shell cation-anion bonds, a bond being first-shell when it is within <see cref="FirstShellFactor"/> times the cation's shortest (0 where unassigned).</summary>
    public int[] Coordination { get; }

    public OxidationRule OxidationRule { get; }

    /// <summary>For charge balance: 1 = common states only, 2 = with ICSD states, 3 = with all known states; else 0.</summary>
    public int ChargeBalanceTier { get; }

    /// <summary>Recognised as an ABX3 perovskite (roles A, B, X).</summary>
    public bool IsAbx3 { get; }

    /// <summary>Whether roles and oxidation states were assigned (else: fall back to whole-crystal statistics).</summary>
    public bool IsAssigned => OxidationRule != OxidationRule.None;

    /// <summary>
    /// The rule that assigned the roles, for reports: "ABX3, charge balance", "ABX3, bond valence", "charge balance",
    /// "bond valence", or "none: fallback (why)".
    /// </summary>
    public string Rule => OxidationRule switch
    {
        OxidationRule.None => $"none: fallback ({Reason})",
        _ => (IsAbx3 ? "ABX3, " : "") + (OxidationRule == OxidationRule.ChargeBalance ? "charge balance" : "bond valence"),
    };

    /// <summary>Why the crystal is not ABX3 or not assigned at all (empty for ABX3 crystals).</summary>
    public string Reason { get; }

    /// <summary>Assigns roles and oxidation states on the default neighbour graph (20 nearest neighbours within 8 Å).</summary>
    public static SiteRoles Assign(Structure structure) => Assign(structure, CrystalGraph.Build(structure));

    /// <summary>
    /// Assigns roles and oxidation states; deterministic. <paramref name="graph"/> must be built from <paramref name="structure"/>
    /// with at least 7 neighbours per atom for ABX3 recognition (the default graph has 20).
    /// </summary>
    public static SiteRoles Assign(Structure structure, CrystalGraph graph, IonTable? ions = null, ElementTable? elements = null)
    {
        if (graph.AtomCount != structure.AtomCount)
            throw new ArgumentException($"graph has {graph.AtomCount} atoms but structure {structure.Id} has {structure.AtomCount}");
        ions ??= IonTable.Default;
        elements ??= ElementTable.Default;
        return new Assigner(structure, graph, ions, elements).Run();
    }

    private sealed class Assigner(Structure structure, CrystalGraph graph, IonTable ions, ElementTable elements)
    {
        private readonly int[] _z = structure.AtomicNumbers;
        private int[] _elements = [];   // distinct Z, by electronegativity descending (then Z)
        private int[] _counts = [];     // sites per element
        private double[] _x = [];

        public SiteRoles Run()
        {
            int n = _z.Length;
            _elements = _z.Distinct().ToArray();
            foreach (int z in _elements)
                if (elements.RawElectronegativity(z) is null)
                    return Unassigned($"no electronegativity for {Elements.Symbol(z)}");
            if (_elements.Length == 1)
                return Unassigned("one element");
            _elements = _elements.OrderByDescending(z => elements.RawElectronegativity(z)!.Value).ThenBy(z => z).ToArray();
            _x = _elements.Select(z => elements.RawElectronegativity(z)!.Value).ToArray();
            _counts = _elements.Select(z => _z.Count(a => a == z)).ToArray();

            var splits = ValidSplits();
            if (splits.Count == 0)
                return Unassigned("no split into anions with a negative and cations with a positive known state");

            // ABX3: the split with 3/5 of the sites as anions, and an octahedral half of the cations
            string notPerovskite = "not ABX3: atom count not a multiple of 5";
            if (n % 5 == 0)
            {
                notPerovskite = "not ABX3: no split with 3/5 of the sites as anions";
                foreach (int k in splits)
                {
                    if (_counts.Take(k).Sum() != 3 * n / 5)
                        continue;
                    var roles = RolesFor(k);
                    int octahedral = 0;
                    for (int i = 0; i < n; i++)
                        if (roles[i] == SiteRole.Cation && IsOctahedral(i, roles))
                        {
                            roles[i] = SiteRole.B;
                            octahedral++;
                        }

                    if (octahedral == n / 5)
                    {
                        for (int i = 0; i < n; i++)
                            roles[i] = roles[i] switch { SiteRole.Cation => SiteRole.A, SiteRole.Anion => SiteRole.X, var r => r };
                        return WithStates(roles, [k], isAbx3: true, requireGap: false, "");
                    }

                    var why = Enumerable.Range(0, n).Where(i => roles[i] == SiteRole.Cation).Take(4)
                        .Select(i => $"{Elements.Symbol(_z[i])}: {NotOctahedralBecause(i, roles)}");
                    notPerovskite = $"not ABX3: {octahedral} of {2 * n / 5} cation sites octahedral, {n / 5} expected ({string.Join("; ", why)})";
                }
            }

            return WithStates(null, splits, isAbx3: false, requireGap: true, notPerovskite);
        }

        /// <summary>k = number of anion elements; the sign conditions of the class summary hold and equal X is never split.</summary>
        private List<int> ValidSplits()
        {
            var splits = new List<int>();
            for (int k = 1; k < _elements.Length; k++)
            {
                if (_x[k - 1] == _x[k])
                    continue;
                bool ok = true;
                for (int e = 0; e < _elements.Length && ok; e++)
                    ok = e < k ? CanBeAnion(_elements[e]) : ions.HasStateOfSign(_elements[e], 1);
                if (ok)
                    splits.Add(k);
            }

            return splits;
        }

        private bool CanBeAnion(int z) => (z == 1 || Elements.Block(z) == 1) && ions.HasStateOfSign(z, -1);

        private SiteRole[] RolesFor(int k)
        {
            var roles = new SiteRole[_z.Length];
            for (int i = 0; i < _z.Length; i++)
                roles[i] = Array.IndexOf(_elements, _z[i]) < k ? SiteRole.Anion : SiteRole.Cation;
            return roles;
        }

        private bool IsOctahedral(int site, SiteRole[] roles) => NotOctahedralBecause(site, roles) is null;

        /// <summary>Why a cation site is not octahedral, or null when it is.</summary>
        private string? NotOctahedralBecause(int site, SiteRole[] roles)
        {
            int start = graph.TargetOffsets[site], end = graph.TargetOffsets[site + 1];
            if (end - start < 6)
                return "fewer than 6 neighbours";
            for (int e = start; e < start + 6; e++)
                if (roles[graph.EdgeSource[e]] != SiteRole.Anion)
                    return "a cation among the 6 nearest";
            double ratio = end - start == 6 ? double.PositiveInfinity : graph.EdgeDistance[start + 6] / graph.EdgeDistance[start + 5];
            return ratio >= OctahedralGap ? null : $"7th/6th neighbour distance {ratio:F2}";
        }

        private SiteRoles WithStates(SiteRole[]? abx3Roles, List<int> splits, bool isAbx3, bool requireGap, string reason)
        {
            // charge balance, tier by tier, over the allowed splits
            for (int tier = 1; tier <= 3; tier++)
            {
                (int Split, int[] States, (long, long) Score)? best = null;
                foreach (int k in splits)
                    if (Balance(k, tier) is { } found && (best is null || found.Score.CompareTo(best.Value.Score) < 0))
                        best = (k, found.States, found.Score);
                if (best is { } b)
                {
                    var roles = abx3Roles ?? RolesFor(b.Split);
                    var states = new double[_z.Length];
                    for (int i = 0; i < _z.Length; i++)
                        states[i] = b.States[Array.IndexOf(_elements, _z[i])];
                    return Finish(roles, states, OxidationRule.ChargeBalance, tier, isAbx3, reason);
                }
            }

            // bond valence on the split with the widest electronegativity gap
            int split = splits.OrderByDescending(k => _x[k - 1] - _x[k]).First();
            double gap = _x[split - 1] - _x[split];
            if (requireGap && gap < MinimumBondValenceGap)
                return Unassigned($"charge balance failed and the electronegativity gap {gap:F2} is below {MinimumBondValenceGap} (metallic or covalent)");
            var bvRoles = abx3Roles ?? RolesFor(split);
            var (bvs, _) = Bonds(bvRoles, out string? isolated);
            if (isolated is not null)
                return Unassigned($"charge balance failed and {isolated} has no counter-ion neighbour for a bond-valence sum");
            var bvStates = new double[_z.Length];
            for (int i = 0; i < _z.Length; i++)
                bvStates[i] = NearestKnownState(_z[i], IsAnion(bvRoles[i]) ? -bvs[i] : bvs[i]);
            return Finish(bvRoles, bvStates, OxidationRule.BondValence, 0, isAbx3, reason);
        }

        /// <summary>
        /// Balanced states for split k using states up to <paramref name="tier"/>: fewest uncommon states (Σ n·tier), then
        /// smallest charges (Σ n q²), then the first found.
        /// </summary>
        private (int[] States, (long Tiers, long Squares) Score)? Balance(int k, int tier)
        {
            int m = _elements.Length;
            var candidates = new (int State, int Tier)[m][];
            for (int e = 0; e < m; e++)
            {
                int sign = e < k ? -1 : 1;
                var list = new List<(int, int)>();
                foreach (var (state, t) in ions.OxidationStates(_elements[e]))
                    if (t <= tier && Math.Sign(state) == sign)
                        list.Add((state, t));
                if (list.Count == 0)
                    return null;
                candidates[e] = list.ToArray();
            }

            // suffix bounds of the reachable charge, for pruning
            var low = new long[m + 1];
            var high = new long[m + 1];
            for (int e = m - 1; e >= 0; e--)
            {
                low[e] = low[e + 1] + (long)_counts[e] * candidates[e].Min(c => c.State);
                high[e] = high[e + 1] + (long)_counts[e] * candidates[e].Max(c => c.State);
            }

            var current = new int[m];
            int[]? bestStates = null;
            (long Tiers, long Squares) best = (long.MaxValue, long.MaxValue);
            int budget = SearchBudget;

            void Search(int e, long charge, long tiers, long squares)
            {
                if (--budget < 0 || tiers > best.Tiers || tiers == best.Tiers && squares >= best.Squares)
                    return;
                if (e == m)
                {
                    if (charge == 0)
                    {
                        best = (tiers, squares);
                        bestStates = (int[])current.Clone();
                    }

                    return;
                }

                if (charge + low[e] > 0 || charge + high[e] < 0)
                    return;
                foreach (var (q, t) in candidates[e])
                {
                    current[e] = q;
                    Search(e + 1, charge + (long)_counts[e] * q, tiers + (long)_counts[e] * t, squares + (long)_counts[e] * q * q);
                }
            }

            Search(0, 0, 0, 0);
            return bestStates is null ? null : (bestStates, best);
        }

        private double NearestKnownState(int z, double value)
        {
            int sign = Math.Sign(value) == 0 ? 1 : Math.Sign(value);
            int best = 0, bestTier = int.MaxValue;
            foreach (var (state, tier) in ions.OxidationStates(z))
            {
                if (Math.Sign(state) != sign)
                    continue;
                double d = Math.Abs(state - value), db = Math.Abs(best - value);
                if (best == 0 || d < db - 1e-9 || Math.Abs(d - db) <= 1e-9 && tier < bestTier)
                    (best, bestTier) = (state, tier);
            }

            return best;
        }

        /// <summary>
        /// Bond-valence sums and first-shell coordination over cation-anion bonds, each bond taken once from the cation's
        /// neighbour list and credited to both ends: an anion's own list can be cut short by like neighbours at the same
        /// distance (O in cubic SrTiO3 has 4 Sr and 8 O at a/√2 for 10 free slots), a cation's is not in ionic crystals.
        /// A bond is first-shell when it is at most 1.25 times the cation's shortest bond.
        /// </summary>
        private (double[] Sums, int[] Coordination) Bonds(SiteRole[] roles, out string? isolated)
        {
            isolated = null;
            var sums = new double[_z.Length];
            var coordination = new int[_z.Length];
            var bonded = new bool[_z.Length];
            for (int i = 0; i < _z.Length; i++)
            {
                if (!IsCation(roles[i]))
                    continue;
                int start = graph.TargetOffsets[i], end = graph.TargetOffsets[i + 1];
                double nearest = double.PositiveInfinity;
                for (int e = start; e < end; e++)
                    if (IsAnion(roles[graph.EdgeSource[e]]))
                        nearest = Math.Min(nearest, graph.EdgeDistance[e]);
                for (int e = start; e < end; e++)
                {
                    int j = graph.EdgeSource[e];
                    if (!IsAnion(roles[j]))
                        continue;
                    double s = Math.Exp((ions.BondValenceR0(_z[i], _z[j]) - graph.EdgeDistance[e]) / IonTable.BondValenceSoftness);
                    sums[i] += s;
                    sums[j] += s;
                    bonded[i] = bonded[j] = true;
                    if (graph.EdgeDistance[e] <= FirstShellFactor * nearest)
                    {
                        coordination[i]++;
                        coordination[j]++;
                    }
                }
            }

            int lonely = Array.IndexOf(bonded, false);
            if (lonely >= 0)
                isolated = $"site {lonely + 1} ({Elements.Symbol(_z[lonely])})";
            return (sums, coordination);
        }

        private SiteRoles Finish(SiteRole[] roles, double[] states, OxidationRule rule, int tier, bool isAbx3, string reason)
        {
            var (bvs, coordination) = Bonds(roles, out _);
            return new SiteRoles(roles, states, bvs, coordination, rule, tier, isAbx3, reason);
        }

        private SiteRoles Unassigned(string reason) =>
            new(new SiteRole[_z.Length], new double[_z.Length], new double[_z.Length], new int[_z.Length], OxidationRule.None, 0, false, reason);
    }

    /// <summary>X and anion sites.</summary>
    public static bool IsAnion(SiteRole role) => role is SiteRole.Anion or SiteRole.X;

    /// <summary>A, B and cation sites.</summary>
    public static bool IsCation(SiteRole role) => role is SiteRole.Cation or SiteRole.A or SiteRole.B;
}
