namespace SaGatSr.Gat.Materials;

/// <summary>
/// The named per-atom feature space that SAE ranks (195 features): every elemental descriptor of the atom's own element,
/// structural descriptors of its site, for key elemental properties six neighbour statistics (weighted mean, mean
/// absolute difference, own-minus-mean, first-shell min and max, weighted standard deviation), the site's role and
/// estimated ion (<see cref="SiteRoles"/>), and the crystal-level G_* descriptors (<see cref="CrystalDescriptors"/>),
/// which every atom of a crystal carries so that SAE ranks them beside the rest.
/// Neighbours are the graph's incoming edges; weights follow Hoppe's effective coordination, w = exp(1 - (d/d_min)^6),
/// so the first shell dominates and far neighbours fade out smoothly. The "first shell" is d &lt;= 1.25 d_min.
/// </summary>
public sealed class SaeFeaturizer : IAtomFeaturizer
{
    /// <summary>Elemental properties that also get neighbour statistics.</summary>
    public static readonly IReadOnlyList<string> NeighbourProperties =
        ["Z", "mass", "X", "IE1", "IE2", "EA", "r_atom", "r_ion", "r_vdw", "mendeleev", "group", "period", "val_total", "val_p", "val_d", "unf_total", "V_molar", "T_melt", "rho"];

    private const double FirstShellFactor = 1.25;
    private const double BondValenceSoftness = 0.37; // Å, the universal b of the bond-valence model

    private static readonly (string Name, string Description)[] StructuralFeatures =
    [
        ("cn_graph", "number of graph neighbours (incoming edges)"),
        ("cn_eff", "effective coordination number: sum of exp(1 - (d/d_min)^6) over neighbours"),
        ("d_min", "nearest-neighbour distance (Å)"),
        ("d_mean", "mean distance to graph neighbours (Å)"),
        ("d_max", "largest distance to a graph neighbour (Å)"),
        ("d_std", "standard deviation of graph-neighbour distances (Å)"),
        ("d_min_rel", "nearest-neighbour distance divided by the sum of the two atomic radii"),
        ("bvs", "bond-valence-like sum: sum of exp((r_i + r_j - d)/0.37 Å) with atomic radii r"),
        ("inv_d_sum", "sum of 1/d over graph neighbours (1/Å)"),
        ("ionic_char", "weighted mean Pauling ionic character 1 - exp(-(X_i - X_j)^2/4) of the bonds"),
        ("frac_same", "weighted fraction of neighbours of the same element"),
        ("n_species_nb", "number of distinct elements among first-shell neighbours"),
        ("site_vol", "site volume: cell volume shared in proportion to atomic radius cubed (Å³)"),
        ("vol_per_atom", "cell volume per atom (Å³)"),
        ("pack_frac", "packing fraction of the cell with atomic-radius spheres"),
        ("cell_density", "mass density of the crystal (g/cm³)"),
    ];

    private readonly ElementTable _table;
    private readonly int[] _neighbourColumns;
    private readonly int _radiusColumn, _electronegativityColumn;

    public SaeFeaturizer() : this(ElementTable.Default)
    {
    }

    public SaeFeaturizer(ElementTable table)
    {
        _table = table;
        _neighbourColumns = NeighbourProperties.Select(table.IndexOf).ToArray();
        _radiusColumn = table.IndexOf("r_atom");
        _electronegativityColumn = table.IndexOf("X");
        var features = new List<FeatureInfo>(table.Properties);
        features.AddRange(StructuralFeatures.Select(f => new FeatureInfo(f.Name, f.Description, FeatureInfo.Structural)));
        // appended after the neighbour statistics below, so the older columns keep their positions
        foreach (int column in _neighbourColumns)
        {
            var p = table.Properties[column];
            string meaning = p.Description.Split(';')[0];
            features.Add(new FeatureInfo($"nb_mean_{p.Name}", $"neighbour-weighted mean of {meaning}", FeatureInfo.Structural));
            features.Add(new FeatureInfo($"nb_absdiff_{p.Name}", $"neighbour-weighted mean |own - neighbour| of {meaning}", FeatureInfo.Structural));
            features.Add(new FeatureInfo($"nb_diff_{p.Name}", $"own value minus neighbour-weighted mean of {meaning}", FeatureInfo.Structural));
            features.Add(new FeatureInfo($"nb_min_{p.Name}", $"minimum over first-shell neighbours of {meaning}", FeatureInfo.Structural));
            features.Add(new FeatureInfo($"nb_max_{p.Name}", $"maximum over first-shell neighbours of {meaning}", FeatureInfo.Structural));
            features.Add(new FeatureInfo($"nb_std_{p.Name}", $"neighbour-weighted standard deviation of {meaning}", FeatureInfo.Structural));
        }

        features.AddRange(SiteFeatures.Select(f => new FeatureInfo(f.Name, f.Description, FeatureInfo.Site)));
        features.AddRange(CrystalFeatures);
        Features = new FeatureSet(features);
    }

    private static readonly (string Name, string Description)[] SiteFeatures =
    [
        ("site_charge", "estimated oxidation state of the site (charge balance or bond valence, see SiteRoles); 0 if the crystal has no roles"),
        ("site_bvs", "bond-valence sum of the site over its cation-anion bonds (v.u., Brese-O'Keeffe R0, b = 0.37 Å); 0 if the crystal has no roles"),
        ("site_ir", "Shannon ionic radius of the site's estimated ion (Å; ABX3: A XII, B VI, X VI, else its first-shell cation-anion bonds); the element's mean r_ion if no roles"),
        ("site_A", "1 if the site is the A cation of a recognised ABX3 perovskite, else 0"),
        ("site_B", "1 if the site is the octahedral B cation of a recognised ABX3 perovskite, else 0"),
        ("site_X", "1 if the site is an X anion of a recognised ABX3 perovskite, else 0"),
    ];

    /// <summary>The G_* descriptors that are not already per-atom features (G_vpa = vol_per_atom, G_pack = pack_frac).</summary>
    private static readonly IReadOnlyList<FeatureInfo> CrystalFeatures =
        CrystalDescriptors.All.Where(f => f.Name is not ("G_vpa" or "G_pack")).ToArray();

    private static readonly int[] CrystalColumns =
        CrystalFeatures.Select(f => CrystalDescriptors.All.Select(a => a.Name).ToList().IndexOf(f.Name)).ToArray();

    public FeatureSet Features { get; }

    /// <summary>
    /// Markdown table of every feature, then the per-crystal role descriptors for SR (shipped as src/Gat/Materials/FEATURES.md;
    /// a test keeps it current).
    /// </summary>
    public string FeatureTableMarkdown()
    {
        var builder = new System.Text.StringBuilder();
        builder.Append("# SAE per-atom features\n\n");
        builder.Append("Generated by `SaeFeaturizer.FeatureTableMarkdown()`. Elemental values come from pymatgen's periodic_table.json ");
        builder.Append("(see `ElementTableGenerator`); missing values are imputed with the column median over elements, as noted per feature. ");
        builder.Append("Neighbour statistics use the graph's incoming edges with weights w = exp(1 - (d/d_min)^6); ");
        builder.Append("\"first shell\" means d <= 1.25 d_min. ");
        builder.Append("Site features come from the site roles (cation/anion, or A/B/X of a recognised ABX3 perovskite) and oxidation states estimated by `SiteRoles`; ");
        builder.Append("crystal features are the crystal's `CrystalDescriptors`, the same for every atom of a crystal. ");
        builder.Append("A crystal descriptor that does not apply (ABX3-only ones elsewhere, or no roles) is 0, and the indicators G_abx3 and G_assigned say which applied.\n\n");
        builder.Append("| # | name | kind | meaning |\n| ---: | --- | --- | --- |\n");
        for (int k = 0; k < Features.Count; k++)
            builder.Append($"| {k} | `{Features[k].Name}` | {Features[k].Kind} | {Features[k].Description.Replace("|", "\\|")} |\n");
        builder.Append('\n').Append(RoleDescriptors.ColumnTableMarkdown());
        return builder.ToString();
    }

    public float[] Featurize(Structure structure, CrystalGraph graph)
    {
        if (graph.AtomCount != structure.AtomCount)
            throw new ArgumentException($"graph has {graph.AtomCount} atoms but structure {structure.Id} has {structure.AtomCount}");
        int n = structure.AtomCount, f = Features.Count, elemental = _table.Properties.Count;
        var z = structure.AtomicNumbers;
        var result = new float[(long)n * f];
        var elementValues = SiteElementValues(structure);
        double Value(int site, int property) => elementValues[site * elemental + property];

        double radiusCubedSum = 0, mass = 0;
        for (int i = 0; i < n; i++)
        {
            double r = Value(i, _radiusColumn);
            radiusCubedSum += r * r * r;
            mass += Value(i, 1);
        }

        double packing = 4.0 / 3.0 * Math.PI * radiusCubedSum / structure.Volume;
        var roles = SiteRoles.Assign(structure, graph, IonTable.Default, _table);
        var crystal = CrystalDescriptors.Compute(structure, graph, roles, IonTable.Default, _table);
        var crystalValues = new double[CrystalDescriptors.All.Count];
        crystal.Write(crystalValues);
        double density = mass * 1.66053906660 / structure.Volume; // u/Å³ -> g/cm³

        void FeaturizeAtom(int i)
        {
            Span<float> row = result.AsSpan((int)((long)i * f), f);
            int column = 0;
            for (int p = 0; p < elemental; p++)
                row[column++] = (float)Value(i, p);

            int start = graph.TargetOffsets[i], end = graph.TargetOffsets[i + 1];
            double ri = Value(i, _radiusColumn), xi = Value(i, _electronegativityColumn);
            double dMin = double.PositiveInfinity, dMax = 0, dSum = 0, dSquaredSum = 0;
            for (int e = start; e < end; e++)
            {
                double d = graph.EdgeDistance[e];
                dMin = Math.Min(dMin, d);
                dMax = Math.Max(dMax, d);
                dSum += d;
                dSquaredSum += d * d;
            }

            int count = end - start;
            double weightSum = 0, bvs = 0, inverseSum = 0, ionic = 0, same = 0, nearestRadiusSum = double.NaN;
            // per-edge weight and first-shell flag, reused by every neighbour statistic below (count <= 1024)
            Span<double> weights = stackalloc double[count];
            Span<bool> firstShell = stackalloc bool[count];
            Span<int> firstShellSpecies = stackalloc int[count];
            int speciesCount = 0;
            for (int e = start; e < end; e++)
            {
                double d = graph.EdgeDistance[e];
                int j = graph.EdgeSource[e], zj = z[j];
                double w = weights[e - start] = Weight(d, dMin);
                double rj = Value(j, _radiusColumn), dx = xi - Value(j, _electronegativityColumn);
                weightSum += w;
                bvs += Math.Exp((ri + rj - d) / BondValenceSoftness);
                inverseSum += 1 / d;
                ionic += w * (1 - Math.Exp(-dx * dx / 4));
                if (zj == z[i]) same += w;
                firstShell[e - start] = d <= FirstShellFactor * dMin;
                if (firstShell[e - start] && !firstShellSpecies[..speciesCount].Contains(zj))
                    firstShellSpecies[speciesCount++] = zj;
                if (d == dMin && double.IsNaN(nearestRadiusSum)) nearestRadiusSum = ri + rj;
            }

            bool any = count > 0;
            double mean = any ? dSum / count : 0;
            row[column++] = count;
            row[column++] = (float)weightSum;
            row[column++] = any ? (float)dMin : 0;
            row[column++] = (float)mean;
            row[column++] = (float)dMax;
            row[column++] = any ? (float)Math.Sqrt(Math.Max(0, dSquaredSum / count - mean * mean)) : 0;
            row[column++] = any ? (float)(dMin / nearestRadiusSum) : 0;
            row[column++] = (float)bvs;
            row[column++] = (float)inverseSum;
            row[column++] = weightSum > 0 ? (float)(ionic / weightSum) : 0;
            row[column++] = weightSum > 0 ? (float)(same / weightSum) : 0;
            row[column++] = speciesCount;
            row[column++] = (float)(structure.Volume * ri * ri * ri / radiusCubedSum);
            row[column++] = (float)(structure.Volume / n);
            row[column++] = (float)packing;
            row[column++] = (float)density;

            foreach (int property in _neighbourColumns)
            {
                double own = Value(i, property);
                double weighted = 0, absDiff = 0, squared = 0, min = double.PositiveInfinity, max = double.NegativeInfinity;
                for (int e = start; e < end; e++)
                {
                    double w = weights[e - start];
                    double v = Value(graph.EdgeSource[e], property);
                    weighted += w * v;
                    absDiff += w * Math.Abs(own - v);
                    squared += w * v * v;
                    if (firstShell[e - start])
                    {
                        min = Math.Min(min, v);
                        max = Math.Max(max, v);
                    }
                }

                // an atom without neighbours gets its own value, i.e. "no contrast"
                double nbMean = weightSum > 0 ? weighted / weightSum : own;
                row[column++] = (float)nbMean;
                row[column++] = weightSum > 0 ? (float)(absDiff / weightSum) : 0;
                row[column++] = (float)(own - nbMean);
                row[column++] = (float)(double.IsFinite(min) ? min : own);
                row[column++] = (float)(double.IsFinite(max) ? max : own);
                row[column++] = weightSum > 0 ? (float)Math.Sqrt(Math.Max(0, squared / weightSum - nbMean * nbMean)) : 0;
            }

            var role = roles.Roles[i];
            row[column++] = (float)roles.OxidationStates[i];
            row[column++] = (float)roles.BondValenceSums[i];
            row[column++] = (float)crystal.SiteIonicRadii[i];
            row[column++] = role == SiteRole.A ? 1 : 0;
            row[column++] = role == SiteRole.B ? 1 : 0;
            row[column++] = role == SiteRole.X ? 1 : 0;
            foreach (int c in CrystalColumns)
                row[column++] = (float)crystalValues[c];
        }

        // small crystals are featurized in parallel by the caller, if at all; threads would only add overhead
        if (n < 1024)
            for (int i = 0; i < n; i++)
                FeaturizeAtom(i);
        else
            Parallel.For(0, n, FeaturizeAtom);

        return result;
    }

    /// <summary>
    /// Elemental values per site, [site * properties + property]: the element's, or for a virtual-crystal site the
    /// occupancy-weighted mean over its species.
    /// </summary>
    private double[] SiteElementValues(Structure structure)
    {
        int elemental = _table.Properties.Count;
        var values = new double[structure.AtomCount * elemental];
        for (int i = 0; i < structure.AtomCount; i++)
            foreach (var (z, weight) in structure.SpeciesWeights(i))
                for (int p = 0; p < elemental; p++)
                    values[i * elemental + p] += weight * _table.Value(z, p);
        return values;
    }

    private static double Weight(double d, double dMin)
    {
        double ratio = d / dMin;
        double r3 = ratio * ratio * ratio;
        return Math.Exp(1 - r3 * r3);
    }
}
