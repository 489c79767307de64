namespace SaGatSr.Gat.Materials;

/// <summary>
/// Crystal-level descriptors (the G_* features) of one crystal, from its <see cref="SiteRoles"/> and graph.
/// Ionic radii are Shannon's ionic radii (<see cref="IonTable.ShannonRadius"/>) of each site's estimated oxidation state,
/// with the conventional coordinations for ABX3 (A: XII, B: VI, X: VI) and the site's counter-ion coordination otherwise;
/// where Shannon lists no radius for the element, or the crystal has no roles, the element's mean r_ion stands in.
/// A descriptor that does not apply is NaN here; <see cref="Write"/> turns it into the neutral 0 beside the indicators
/// G_abx3 and G_assigned, so no NaN ever reaches a feature matrix.
/// </summary>
public sealed class CrystalDescriptors
{
    /// <summary>Name and meaning of every G_* column; the first <see cref="Abx3Count"/> apply to ABX3 perovskites only.</summary>
    public static readonly IReadOnlyList<FeatureInfo> All =
    [
        new("G_t", "Goldschmidt tolerance factor (r_A + r_X)/(√2 (r_B + r_X)), Shannon ionic radii (A XII, B VI, X VI), role means; 0 if not ABX3", FeatureInfo.Crystal),
        new("G_mu", "octahedral factor r_B/r_X (Shannon ionic radii, B VI, X VI); 0 if not ABX3", FeatureInfo.Crystal),
        new("G_tilt", "octahedral tilt: mean deviation of the B-X-B angle from 180° over X sites, X to its two nearest B (degrees); 0 if not ABX3", FeatureInfo.Crystal),
        new("G_bld_B", "bond-length distortion index of the BX6 octahedra (Baur: mean |d_i - d_mean|/d_mean over the 6 bonds, mean over B sites); 0 if not ABX3", FeatureInfo.Crystal),
        new("G_abx3", "1 if the crystal is a recognised ABX3 perovskite (composition and an octahedral B site), else 0", FeatureInfo.Crystal),
        new("G_assigned", "1 if cation/anion roles and oxidation states were estimated (charge balance or bond valence), else 0", FeatureInfo.Crystal),
        new("G_bld", "bond-length distortion index (Baur) of all cation first-shell polyhedra (anions within 1.25 d_min), mean over cations; 0 if no roles", FeatureInfo.Crystal),
        new("G_gii", "global instability index √(mean over sites (BVS - |oxidation state|)²) from bond-valence sums (v.u.); 0 if no roles", FeatureInfo.Crystal),
        new("G_pack_ion", "ionic packing fraction: volume of Shannon-radius spheres of the estimated ions / cell volume (mean r_ion where no roles)", FeatureInfo.Crystal),
        new("G_vpa", "cell volume per atom (Å³); the same as the per-atom feature vol_per_atom", FeatureInfo.Crystal),
        new("G_pack", "packing fraction with atomic-radius spheres; the same as the per-atom feature pack_frac", FeatureInfo.Crystal),
    ];

    /// <summary>Columns 0..Abx3Count-1 of <see cref="All"/> apply to ABX3 perovskites only.</summary>
    public const int Abx3Count = 4;

    private CrystalDescriptors(double[] values, double[] siteRadii, ShannonMatch[] matches)
    {
        _values = values;
        SiteIonicRadii = siteRadii;
        SiteRadiusMatches = matches;
    }

    private readonly double[] _values;

    public double ToleranceFactor => _values[0];
    public double OctahedralFactor => _values[1];
    public double OctahedralTilt => _values[2];
    public double OctahedralDistortion => _values[3];
    public double BondLengthDistortion => _values[6];
    public double GlobalInstabilityIndex => _values[7];
    public double IonicPackingFraction => _values[8];
    public double VolumePerAtom => _values[9];
    public double PackingFraction => _values[10];

    /// <summary>Value of column <paramref name="column"/> of <see cref="All"/>; NaN where it does not apply.</summary>
    public double this[int column] => _values[column];

    /// <summary>Per site: the ionic radius used (Å).</summary>
    public double[] SiteIonicRadii { get; }

    /// <summary>Per site: how the Shannon radius matched (<see cref="ShannonMatch.None"/>: the element's mean r_ion was used).</summary>
    public ShannonMatch[] SiteRadiusMatches { get; }

    /// <summary>All columns with NaN replaced by the neutral 0 (the indicators say which applied).</summary>
    public void Write(Span<double> destination)
    {
        for (int c = 0; c < _values.Length; c++)
            destination[c] = double.IsNaN(_values[c]) ? 0 : _values[c];
    }

    public static CrystalDescriptors Compute(Structure structure, CrystalGraph graph, SiteRoles roles, IonTable? ions = null, ElementTable? elements = null)
    {
        if (roles.Roles.Length != structure.AtomCount || graph.AtomCount != structure.AtomCount)
            throw new ArgumentException($"roles, graph and structure {structure.Id} disagree on the atom count");
        ions ??= IonTable.Default;
        elements ??= ElementTable.Default;
        int n = structure.AtomCount;
        var z = structure.AtomicNumbers;
        int ionicColumn = elements.IndexOf("r_ion"), atomicColumn = elements.IndexOf("r_atom");

        var radii = new double[n];
        var matches = new ShannonMatch[n];
        double ionicVolume = 0, atomicVolume = 0;
        for (int i = 0; i < n; i++)
        {
            var role = roles.Roles[i];
            int coordination = role switch { SiteRole.A => 12, SiteRole.B or SiteRole.X => 6, _ => Math.Max(1, roles.Coordination[i]) };
            int state = (int)Math.Round(roles.OxidationStates[i]);
            double r = state == 0 ? double.NaN : ions.ShannonRadius(z[i], state, coordination, out matches[i]);
            radii[i] = double.IsNaN(r) ? elements.Value(z[i], ionicColumn) : r;
            ionicVolume += radii[i] > 0 ? radii[i] * radii[i] * radii[i] : 0; // Shannon lists a few negative radii (H+ I, N5+ III)
            double ra = elements.Value(z[i], atomicColumn);
            atomicVolume += ra * ra * ra;
        }

        var values = new double[All.Count];
        Array.Fill(values, double.NaN);
        if (roles.IsAbx3)
        {
            double rA = Mean(radii, roles.Roles, SiteRole.A), rB = Mean(radii, roles.Roles, SiteRole.B), rX = Mean(radii, roles.Roles, SiteRole.X);
            values[0] = (rA + rX) / (Math.Sqrt(2) * (rB + rX));
            values[1] = rB / rX;
            values[2] = Tilt(structure, graph, roles.Roles);
            values[3] = OctahedralDistortionIndex(graph, roles.Roles);
        }

        values[4] = roles.IsAbx3 ? 1 : 0;
        values[5] = roles.IsAssigned ? 1 : 0;
        if (roles.IsAssigned)
        {
            values[6] = CationDistortionIndex(graph, roles.Roles);
            double squares = 0;
            for (int i = 0; i < n; i++)
            {
                double deviation = roles.BondValenceSums[i] - Math.Abs(roles.OxidationStates[i]);
                squares += deviation * deviation;
            }

            values[7] = Math.Sqrt(squares / n);
        }

        values[8] = 4.0 / 3.0 * Math.PI * ionicVolume / structure.Volume;
        values[9] = structure.Volume / n;
        values[10] = 4.0 / 3.0 * Math.PI * atomicVolume / structure.Volume;
        return new CrystalDescriptors(values, radii, matches);
    }

    private static double Mean(double[] values, SiteRole[] roles, SiteRole role)
    {
        double sum = 0;
        int count = 0;
        for (int i = 0; i < values.Length; i++)
            if (roles[i] == role)
            {
                sum += values[i];
                count++;
            }

        return sum / count;
    }

    /// <summary>Baur's index of the 6 nearest (anion) neighbours of every B site, averaged.</summary>
    private static double OctahedralDistortionIndex(CrystalGraph graph, SiteRole[] roles)
    {
        double total = 0;
        int sites = 0;
        Span<double> d = stackalloc double[6];
        for (int i = 0; i < roles.Length; i++)
        {
            if (roles[i] != SiteRole.B)
                continue;
            int start = graph.TargetOffsets[i];
            for (int k = 0; k < 6; k++)
                d[k] = graph.EdgeDistance[start + k];
            total += DistortionIndex(d);
            sites++;
        }

        return total / sites;
    }

    /// <summary>Baur's index of every cation's first-shell anions (within 1.25 × the nearest), averaged over cations with at least two.</summary>
    private static double CationDistortionIndex(CrystalGraph graph, SiteRole[] roles)
    {
        double total = 0;
        int sites = 0;
        var d = new List<double>(16);
        for (int i = 0; i < roles.Length; i++)
        {
            if (!SiteRoles.IsCation(roles[i]))
                continue;
            d.Clear();
            double nearest = double.PositiveInfinity;
            for (int e = graph.TargetOffsets[i]; e < graph.TargetOffsets[i + 1]; e++)
                if (SiteRoles.IsAnion(roles[graph.EdgeSource[e]]))
                    nearest = Math.Min(nearest, graph.EdgeDistance[e]);
            for (int e = graph.TargetOffsets[i]; e < graph.TargetOffsets[i + 1]; e++)
                if (SiteRoles.IsAnion(roles[graph.EdgeSource[e]]) && graph.EdgeDistance[e] <= SiteRoles.FirstShellFactor * nearest)
                    d.Add(graph.EdgeDistance[e]);
            if (d.Count < 2)
                continue;
            total += DistortionIndex(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(d));
            sites++;
        }

        return sites == 0 ? 0 : total / sites;
    }

    private static double DistortionIndex(ReadOnlySpan<double> distances)
    {
        double mean = 0;
        foreach (double x in distances)
            mean += x;
        mean /= distances.Length;
        double deviation = 0;
        foreach (double x in distances)
            deviation += Math.Abs(x - mean);
        return deviation / distances.Length / mean;
    }

    /// <summary>Mean of 180° - ∠(B, X, B') over X sites, with B and B' the X's two nearest B neighbours (periodic images included).</summary>
    private static double Tilt(Structure structure, CrystalGraph graph, SiteRole[] roles)
    {
        var lattice = structure.Lattice;
        var cartesian = structure.CartesianCoordinates;
        double total = 0;
        int sites = 0;
        Span<double> first = stackalloc double[3], second = stackalloc double[3];
        for (int i = 0; i < roles.Length; i++)
        {
            if (roles[i] != SiteRole.X)
                continue;
            int found = 0;
            for (int e = graph.TargetOffsets[i]; e < graph.TargetOffsets[i + 1] && found < 2; e++)
            {
                if (roles[graph.EdgeSource[e]] != SiteRole.B)
                    continue;
                var target = found == 0 ? first : second;
                var source = cartesian[graph.EdgeSource[e]];
                for (int c = 0; c < 3; c++)
                    target[c] = source[c] - cartesian[i][c] + graph.EdgeImage[3 * e] * lattice[0, c]
                                + graph.EdgeImage[3 * e + 1] * lattice[1, c] + graph.EdgeImage[3 * e + 2] * lattice[2, c];
                found++;
            }

            if (found < 2)
                continue;
            double dot = first[0] * second[0] + first[1] * second[1] + first[2] * second[2];
            double norms = Math.Sqrt((first[0] * first[0] + first[1] * first[1] + first[2] * first[2]) * (second[0] * second[0] + second[1] * second[1] + second[2] * second[2]));
            double angle = Math.Acos(Math.Clamp(dot / norms, -1, 1)) * 180 / Math.PI;
            total += 180 - angle;
            sites++;
        }

        return sites == 0 ? double.NaN : total / sites;
    }
}
