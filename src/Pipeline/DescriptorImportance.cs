using SaGatSr.Gat.Materials;
using SaGatSr.Gat.Training;

namespace SaGatSr.Pipeline;

/// <summary>
/// The SAE feature a crystal descriptor is made of, and the sites whose coefficients for that feature make its
/// importance: <c>B_IE1</c> is IE1 on the B sites, <c>X_EA_mean</c> EA on the X sites, <c>X_charge</c> site_charge on
/// the X sites, a <c>G_*</c> descriptor its own SAE feature on every atom. Role is null for "every atom".
/// </summary>
public sealed record DescriptorSource(string Descriptor, SiteRole? Role, string Feature)
{
    private static readonly (string Prefix, SiteRole Role)[] RolePrefixes =
        [("A_", SiteRole.A), ("B_", SiteRole.B), ("X_", SiteRole.X), ("cation_", SiteRole.Cation), ("anion_", SiteRole.Anion)];

    private static readonly string[] StatisticSuffixes = ["_mean", "_min", "_max", "_range"];

    /// <summary>Descriptors of the crystal-level G_* kind whose SAE feature has another name.</summary>
    private static readonly Dictionary<string, string> CrystalAliases = new()
    {
        ["G_vpa"] = "vol_per_atom",
        ["G_pack"] = "pack_frac",
        // The cations' share of the sites has no SAE feature of its own; the site charges carry the split.
        ["cation_frac"] = "site_charge",
    };

    /// <summary>Null for columns that describe the table rather than the crystal (roles_fallback) or that no SAE feature backs.</summary>
    public static DescriptorSource? Of(string descriptor, IReadOnlyList<string> saeFeatures)
    {
        if (CrystalAliases.TryGetValue(descriptor, out var alias)) return new DescriptorSource(descriptor, null, alias);
        if (descriptor.StartsWith("G_", StringComparison.Ordinal))
            return saeFeatures.Contains(descriptor) ? new DescriptorSource(descriptor, null, descriptor) : null;
        foreach (var (prefix, role) in RolePrefixes)
        {
            if (!descriptor.StartsWith(prefix, StringComparison.Ordinal)) continue;
            string property = descriptor[prefix.Length..];
            foreach (var suffix in StatisticSuffixes)
            {
                if (!property.EndsWith(suffix, StringComparison.Ordinal)) continue;
                string stem = property[..^suffix.Length];
                if (stem is "ir" or "charge" || saeFeatures.Contains(stem))
                {
                    property = stem;
                    break;
                }
            }

            string feature = property switch { "ir" => "site_ir", "charge" => "site_charge", _ => property };
            return saeFeatures.Contains(feature) ? new DescriptorSource(descriptor, role, feature) : null;
        }

        return null;
    }
}

/// <summary>
/// SAE importance resolved by site role: for each role and feature, the coefficient averaged over the role's atoms of each
/// crystal, then over the crystals that have such atoms ("every atom" is the plain SAE importance).
/// </summary>
public sealed class RoleImportance
{
    private static readonly SiteRole?[] Groups = [null, SiteRole.A, SiteRole.B, SiteRole.X, SiteRole.Cation, SiteRole.Anion];
    private readonly double[,] mean;
    private readonly int[] crystals;

    private readonly Dictionary<string, int> featureIndex;

    private RoleImportance(double[,] mean, int[] crystals, IReadOnlyList<string> features)
    {
        this.mean = mean;
        this.crystals = crystals;
        Features = features;
        featureIndex = features.Select((name, i) => (name, i)).ToDictionary(p => p.name, p => p.i);
    }

    public IReadOnlyList<string> Features { get; }

    /// <summary>The mean coefficient of <paramref name="feature"/> on the sites of <paramref name="role"/> (null: every atom).</summary>
    public double Of(SiteRole? role, string feature)
    {
        int group = Array.IndexOf(Groups, role);
        if (!featureIndex.TryGetValue(feature, out int f)) throw new ArgumentException($"'{feature}' is not an SAE feature of this model");
        return crystals[group] > 0 ? mean[group, f] / crystals[group] : double.NaN;
    }

    /// <summary>Accumulates the coefficients of one batch: [atoms * features], its node offsets and its crystals' site roles.</summary>
    public sealed class Accumulator(IReadOnlyList<string> features)
    {
        private readonly double[,] sums = new double[Groups.Length, features.Count];
        private readonly int[] counts = new int[Groups.Length];

        public void Add(float[] coefficients, int[] nodeOffsets, IReadOnlyList<SiteRoles> roles)
        {
            int featureCount = features.Count;
            var perGroup = new double[Groups.Length, featureCount];
            var atoms = new int[Groups.Length];
            for (int c = 0; c + 1 < nodeOffsets.Length; c++)
            {
                Array.Clear(perGroup);
                Array.Clear(atoms);
                for (int atom = nodeOffsets[c]; atom < nodeOffsets[c + 1]; atom++)
                {
                    var role = roles[c].Roles[atom - nodeOffsets[c]];
                    // every atom, its own role, and for A/B (X) also the cation (anion) group
                    foreach (int g in GroupsOf(role))
                    {
                        atoms[g]++;
                        for (int f = 0; f < featureCount; f++) perGroup[g, f] += coefficients[atom * featureCount + f];
                    }
                }

                for (int g = 0; g < Groups.Length; g++)
                {
                    if (atoms[g] == 0) continue;
                    counts[g]++;
                    for (int f = 0; f < featureCount; f++) sums[g, f] += perGroup[g, f] / atoms[g];
                }
            }
        }

        private static IEnumerable<int> GroupsOf(SiteRole role)
        {
            yield return 0;
            switch (role)
            {
                case SiteRole.A or SiteRole.B:
                    yield return Array.IndexOf(Groups, role);
                    yield return Array.IndexOf(Groups, SiteRole.Cation);
                    break;
                case SiteRole.X:
                    yield return Array.IndexOf(Groups, SiteRole.X);
                    yield return Array.IndexOf(Groups, SiteRole.Anion);
                    break;
                case SiteRole.Cation or SiteRole.Anion:
                    yield return Array.IndexOf(Groups, role);
                    break;
            }
        }

        public RoleImportance Result() => new((double[,])sums.Clone(), (int[])counts.Clone(), features);
    }

    /// <summary>Runs the model over <paramref name="samples"/> (with their roles) and returns the predictions and the role importance.</summary>
    public static (double[] Predictions, RoleImportance Importance) Compute(TrainedModel model, IReadOnlyList<CrystalSample> samples,
        IReadOnlyList<SiteRoles> roles, IReadOnlyCollection<int> crystalsCounted)
    {
        var accumulator = new Accumulator(model.Config.FeatureNames);
        var counted = crystalsCounted as ISet<int> ?? crystalsCounted.ToHashSet();
        var predictions = model.Predict(samples, 64, (coefficients, offsets, start) =>
        {
            // Only the counted crystals (the training set) make the ranking; the rest are predicted alone.
            int crystalCount = offsets.Length - 1;
            for (int c = 0; c < crystalCount; c++)
            {
                if (!counted.Contains(start + c)) continue;
                int atoms = offsets[c + 1] - offsets[c];
                var slice = coefficients.AsSpan(offsets[c] * model.Config.FeatureCount, atoms * model.Config.FeatureCount).ToArray();
                accumulator.Add(slice, [0, atoms], [roles[start + c]]);
            }
        });
        return (predictions, accumulator.Result());
    }
}

/// <summary>A descriptor with the importance of the SAE feature it is made of on the sites it describes.</summary>
public sealed record RankedDescriptor(string Name, string Description, double Importance, DescriptorSource Source);
