using SaGatSr.Gat.Materials;

namespace SaGatSr.Cli.Reports;

/// <summary>The one line every command that reads structures prints about partially occupied sites.</summary>
internal static class DisorderReport
{
    public static string? Describe(IReadOnlyCollection<Structure> structures, DisorderPolicy policy) =>
        Describe(structures.Sum(s => s.DisorderedSites), structures.Count(s => s.DisorderedSites > 0), structures.Count, policy);

    /// <summary>From counts, for a command that streams its structures.</summary>
    public static string? Describe(long sites, long affected, long total, DisorderPolicy policy)
    {
        if (sites == 0)
            return null;
        string how = policy == DisorderPolicy.Virtual
            ? "read as virtual-crystal sites (occupancy-weighted mean features)"
            : "read as their majority species";
        return $"disorder: {sites} partially occupied sites in {affected} of {total} structures, {how} (--disorder {Name(policy)})";
    }

    public static void Print(IReadOnlyCollection<Structure> structures, DisorderPolicy policy)
    {
        if (Describe(structures, policy) is { } line)
            Console.Error.WriteLine(line);
    }

    public static string Name(DisorderPolicy policy) => policy.ToString().ToLowerInvariant();
}
