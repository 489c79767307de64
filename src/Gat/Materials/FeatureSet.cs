namespace SaGatSr.Gat.Materials;

/// <summary>One named per-atom feature: a short name for printed formulas and its one-line meaning.</summary>
public sealed record FeatureInfo(string Name, string Description, string Kind)
{
    public const string Elemental = "elemental";
    public const string Structural = "structural";

    /// <summary>Derived from the site's role (cation/anion, A/B/X) and estimated oxidation state (<see cref="SiteRoles"/>).</summary>
    public const string Site = "site";

    /// <summary>One value per crystal (<see cref="CrystalDescriptors"/>), carried by each of its atoms.</summary>
    public const string Crystal = "crystal";

    /// <summary>A statistic of an elemental or site property over the sites of one role (<see cref="RoleDescriptors"/>).</summary>
    public const string Role = "role";
}

/// <summary>The ordered list of features a featurizer produces (column order of its matrices).</summary>
public sealed class FeatureSet
{
    public FeatureSet(IReadOnlyList<FeatureInfo> features)
    {
        var duplicate = features.GroupBy(f => f.Name).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
            throw new ArgumentException($"feature name '{duplicate.Key}' is used twice");
        Features = features;
    }

    public IReadOnlyList<FeatureInfo> Features { get; }

    public int Count => Features.Count;

    public FeatureInfo this[int index] => Features[index];

    public int IndexOf(string name)
    {
        for (int i = 0; i < Features.Count; i++)
            if (Features[i].Name == name)
                return i;
        return -1;
    }
}

/// <summary>Turns a structure and its graph into a per-atom feature matrix.</summary>
public interface IAtomFeaturizer
{
    FeatureSet Features { get; }

    /// <summary>Row-major [atoms, Features.Count], all finite.</summary>
    float[] Featurize(Structure structure, CrystalGraph graph);
}
