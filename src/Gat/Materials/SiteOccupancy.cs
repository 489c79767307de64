using System.Globalization;

namespace SaGatSr.Gat.Materials;

/// <summary>How every reader turns the species listed on one site into a site of a <see cref="Structure"/>.</summary>
internal static class SiteOccupancy
{
    /// <summary>Occupancies this close to 1 count as full (published files round them).</summary>
    public const double Tolerance = 0.02;

    /// <summary>
    /// The site's atomic number, the mixture it keeps (virtual crystal only) and whether it was partially occupied.
    /// </summary>
    /// <param name="what">the site as messages name it, e.g. "site 'Fe1'"</param>
    /// <param name="refuse">makes the exception for a site the policy refuses or an overfull site</param>
    public static (int AtomicNumber, SiteMixture? Mixture, bool Partial) Resolve(IReadOnlyList<SiteSpecies> species, DisorderPolicy policy,
        string what, Func<string, Exception> refuse)
    {
        double total = species.Sum(s => s.Occupancy);
        if (total > 1 + Tolerance)
            throw refuse($"the occupancies of {what} sum to {total.ToString("0.###", CultureInfo.InvariantCulture)} (more than 1)");
        var scaled = total > 1 ? species.Select(s => s with { Occupancy = s.Occupancy / total }).ToList() : species;
        var mixture = new SiteMixture(scaled);
        if (mixture.Species.Count == 1 && total >= 1 - Tolerance) return (mixture.Species[0].AtomicNumber, null, false);
        return policy switch
        {
            DisorderPolicy.Error => throw refuse(
                $"{what} is partially occupied ({mixture}): disordered sites are refused by the disorder policy 'error'; " +
                "read them as virtual-crystal sites ('virtual') or as their majority species ('majority')"),
            DisorderPolicy.Virtual => (mixture.MajoritySpecies, mixture, true),
            _ => (mixture.MajoritySpecies, null, true),
        };
    }
}
