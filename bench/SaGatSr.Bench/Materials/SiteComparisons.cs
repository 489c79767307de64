using System.Diagnostics;
using SaGatSr.Gat.Materials;

namespace SaGatSr.Bench;

public static partial class Comparisons
{
    private static void RegisterSites() =>
        Register("sites", "site roles and crystal descriptors on the 3,785 perovskites and the 50 JARVIS crystals: recognition counts, failures, tolerance factors, throughput; --csv DIR writes both descriptor tables",
            Sites);

    private static int Sites(string[] args)
    {
        string data = SharedData();
        string? csvFolder = args.SkipWhile(a => a != "--csv").Skip(1).FirstOrDefault();
        var perovskites = Dataset.Load(Path.Combine(data, "perovskites", "perovskites.csv"));
        var jarvis = Dataset.Load(Path.Combine(data, "jarvis-sample"));
        Console.WriteLine($"perovskites.csv: {perovskites.Entries.Count} crystals loaded, {perovskites.Skipped.Count} skipped");
        var crystals = perovskites.Entries.Select(e => (e.Structure, CrystalGraph.Build(e.Structure))).ToArray();
        var roles = crystals.Select(c => SiteRoles.Assign(c.Structure, c.Item2)).ToArray();
        var descriptors = crystals.Select((c, i) => CrystalDescriptors.Compute(c.Structure, c.Item2, roles[i])).ToArray();

        int abx3 = roles.Count(r => r.IsAbx3);
        Console.WriteLine($"ABX3 recognised: {abx3} of {roles.Length} ({100.0 * abx3 / roles.Length:F1}%)");
        foreach (var group in roles.GroupBy(r => r.Rule).OrderByDescending(g => g.Count()))
            Console.WriteLine($"  {group.Count(),5}  {group.Key}");
        Console.WriteLine("  by charge-balance tier: " + string.Join(", ", roles.Where(r => r.OxidationRule == OxidationRule.ChargeBalance)
            .GroupBy(r => r.ChargeBalanceTier).OrderBy(g => g.Key).Select(g => $"tier {g.Key}: {g.Count()}")));
        Console.WriteLine("not recognised, by reason:");
        // the reason names the elements; group on its shape
        foreach (var group in roles.Where(r => !r.IsAbx3).GroupBy(r => System.Text.RegularExpressions.Regex.Replace(r.Reason, @"\(.*\)", ""))
                     .OrderByDescending(g => g.Count()))
            Console.WriteLine($"  {group.Count(),5}  {group.Key}");
        var modes = roles.Where(r => !r.IsAbx3).SelectMany(r => System.Text.RegularExpressions.Regex.Matches(r.Reason, @"[A-Z][a-z]?: ([a-z0-9 /]+?)(?: [0-9.]+)?(?:;|\))")
            .Select(m => m.Groups[1].Value)).GroupBy(m => m).OrderByDescending(g => g.Count());
        Console.WriteLine("  per cation site: " + string.Join(", ", modes.Select(g => $"{g.Key} {g.Count()}")));
        var ratios = roles.Where(r => !r.IsAbx3).SelectMany(r => System.Text.RegularExpressions.Regex.Matches(r.Reason, @"distance ([0-9.]+)")
            .Select(m => double.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture))).Order().ToArray();
        if (ratios.Length > 0)
            Console.WriteLine($"  7th/6th distance ratios of failed sites: median {Percentile(ratios, 50):F2}, max {ratios[^1]:F2} (B needs {SiteRoles.OctahedralGap})");
        Console.WriteLine("  e.g. " + roles.First(r => !r.IsAbx3).Reason);
        var failed = Enumerable.Range(0, roles.Length).Where(i => !roles[i].IsAbx3).ToArray();
        Console.WriteLine("  examples: " + string.Join(", ", failed.Take(12).Select(i => $"{perovskites.Entries[i].Structure.Formula} ({perovskites.Entries[i].Id})")));
        int heat = perovskites.TargetNames.ToList().IndexOf("heat_all");
        if (heat >= 0)
        {
            double Mean(IEnumerable<int> rows) => rows.Select(i => perovskites.Entries[i].Targets[heat]).DefaultIfEmpty(double.NaN).Average();
            Console.WriteLine($"  mean heat_all: recognised {Mean(Enumerable.Range(0, roles.Length).Where(i => roles[i].IsAbx3)):F2} eV/atom, not recognised {Mean(failed):F2} eV/atom");
        }

        // the CIFs list A first and B second (the CMR convention, checked with pymatgen): does the octahedral rule agree?
        int agree = Enumerable.Range(0, roles.Length).Count(i => roles[i].IsAbx3 && roles[i].Roles[1] == SiteRole.B && roles[i].Roles[0] == SiteRole.A);
        Console.WriteLine($"B = the second CIF site (the dataset's B) in {agree} of {abx3} recognised; the first CIF site is the octahedral one in {abx3 - agree}");

        var t = Enumerable.Range(0, roles.Length).Where(i => roles[i].IsAbx3).Select(i => descriptors[i].ToleranceFactor).Order().ToArray();
        Console.WriteLine($"tolerance factor: min {t[0]:F3}, p5 {Percentile(t, 5):F3}, p25 {Percentile(t, 25):F3}, median {Percentile(t, 50):F3}, p75 {Percentile(t, 75):F3}, p95 {Percentile(t, 95):F3}, max {t[^1]:F3}; in [0.8, 1.1]: {t.Count(x => x is >= 0.8 and <= 1.1)}");
        foreach (var name in new[] { "G_mu", "G_tilt", "G_bld_B", "G_gii", "G_pack_ion" })
        {
            int c = CrystalDescriptors.All.Select(f => f.Name).ToList().IndexOf(name);
            var v = Enumerable.Range(0, roles.Length).Where(i => roles[i].IsAbx3).Select(i => descriptors[i][c]).Order().ToArray();
            Console.WriteLine($"{name}: min {v[0]:F3}, median {Percentile(v, 50):F3}, p95 {Percentile(v, 95):F3}, max {v[^1]:F3}");
        }

        // known perovskites (as A, B, anions) among the hypothetical ones
        string[] known = ["SrMnO3", "SrTaO3", "CaZrO3", "CaMnO3", "LaAlO3", "LaFeO3", "LaCrO3", "PbZrO3", "BiFeO3", "BiScO3", "NaTaO3", "AgNbO3", "AgTaO3", "LiNbO3", "KTaO3", "YAlO3", "LaTiO2N", "SrNbO2N", "SrTaO2N", "BaTaO2N", "CaTaO2N", "LaTaON2"];
        for (int i = 0; i < roles.Length; i++)
        {
            if (!roles[i].IsAbx3)
                continue;
            var s = perovskites.Entries[i].Structure;
            int a = Array.IndexOf(roles[i].Roles, SiteRole.A), b = Array.IndexOf(roles[i].Roles, SiteRole.B);
            var anions = s.AtomicNumbers.Where((_, k) => roles[i].Roles[k] == SiteRole.X).GroupBy(z => z).OrderBy(g => g.Key == 8 ? 0 : 1)
                .Select(g => Elements.Symbol(g.Key) + (g.Count() > 1 ? g.Count().ToString() : ""));
            string label = Elements.Symbol(s.AtomicNumbers[a]) + Elements.Symbol(s.AtomicNumbers[b]) + string.Concat(anions);
            if (known.Contains(label))
                Console.WriteLine($"  {label,-8} ({perovskites.Entries[i].Id,5}): A{roles[i].OxidationStates[a]:+0;-0} B{roles[i].OxidationStates[b]:+0;-0} t={descriptors[i].ToleranceFactor:F3} mu={descriptors[i].OctahedralFactor:F3} tilt={descriptors[i].OctahedralTilt:F1}° bld_B={descriptors[i].OctahedralDistortion:F3} GII={descriptors[i].GlobalInstabilityIndex:F2} [{roles[i].Rule}]");
        }

        var xStates = new Dictionary<string, int>();
        for (int i = 0; i < roles.Length; i++)
            if (roles[i].IsAbx3)
                for (int k = 0; k < roles[i].Roles.Length; k++)
                    if (roles[i].Roles[k] == SiteRole.X)
                    {
                        string key = $"{Elements.Symbol(perovskites.Entries[i].Structure.AtomicNumbers[k])}{roles[i].OxidationStates[k]:+0;-0}";
                        xStates[key] = xStates.GetValueOrDefault(key) + 1;
                    }
        Console.WriteLine("X-site oxidation states: " + string.Join(", ", xStates.OrderByDescending(p => p.Value).Select(p => $"{p.Key} {p.Value}")));

        var matches = new Dictionary<(SiteRole, ShannonMatch), int>();
        for (int i = 0; i < roles.Length; i++)
            if (roles[i].IsAbx3)
                for (int k = 0; k < roles[i].Roles.Length; k++)
                    matches[(roles[i].Roles[k], descriptors[i].SiteRadiusMatches[k])] = matches.GetValueOrDefault((roles[i].Roles[k], descriptors[i].SiteRadiusMatches[k])) + 1;
        Console.WriteLine("Shannon radius lookups on recognised sites: " + string.Join(", ", matches.OrderBy(p => p.Key).Select(p => $"{p.Key.Item1}/{p.Key.Item2}: {p.Value}")));

        Console.WriteLine();
        Console.WriteLine($"JARVIS sample: {jarvis.Entries.Count} crystals");
        var jarvisRoles = jarvis.Entries.Select(e => SiteRoles.Assign(e.Structure, CrystalGraph.Build(e.Structure))).ToArray();
        foreach (var group in jarvisRoles.GroupBy(r => r.Rule).OrderByDescending(g => g.Count()))
            Console.WriteLine($"  {group.Count(),3}  {group.Key}");
        for (int i = 0; i < jarvisRoles.Length; i++)
        {
            var r = jarvisRoles[i];
            var s = jarvis.Entries[i].Structure;
            string states = string.Join(" ", s.AtomicNumbers.Select((z, k) => (z, q: r.OxidationStates[k])).Distinct().Select(p => $"{Elements.Symbol(p.z)}{p.q:+0.##;-0.##;0}"));
            Console.WriteLine($"    {jarvis.Entries[i].Id,-28} {s.Formula,-14} {r.Rule}{(r.OxidationRule == OxidationRule.ChargeBalance ? $" (tier {r.ChargeBalanceTier})" : "")}: {states}");
        }

        // throughput of roles + descriptors + role statistics (graphs prebuilt), one thread, then the whole table in parallel
        var describer = new RoleDescriptors();
        var slice = crystals.Take(1000).ToArray();
        double oneThread = MedianMilliseconds(() =>
        {
            foreach (var (s, g) in slice)
                CrystalDescriptors.Compute(s, g, SiteRoles.Assign(s, g));
        }, 5);
        double graphs = MedianMilliseconds(() =>
        {
            foreach (var (s, _) in slice)
                CrystalGraph.Build(s);
        }, 5);
        var sae = new SaeFeaturizer();
        double featurize = MedianMilliseconds(() =>
        {
            foreach (var (s, g) in slice)
                sae.Featurize(s, g);
        }, 5);
        DescriptorTable? table = null;
        double all = MedianMilliseconds(() => table = describer.Compute(crystals), 3);
        Console.WriteLine();
        Console.WriteLine($"SAE features ({sae.Features.Count} per atom) on the same cells: {featurize * 1000 / slice.Length:F1} µs per crystal, of which roles + G_* {oneThread * 1000 / slice.Length:F1} µs ({100 * oneThread / featurize:F0}%)");
        Console.WriteLine($"throughput ({Environment.ProcessorCount} cores): roles + G_* {slice.Length / oneThread * 1000:F0} crystals/s on one thread (graph build alone {slice.Length / graphs * 1000:F0}/s); " +
                          $"full role table of {crystals.Length} ({table!.Columns.Count} columns) {all:F0} ms = {crystals.Length / all * 1000:F0} crystals/s; scheme {table.Scheme}, {table.FallbackCount} fallback rows");
        var jarvisTable = describer.Compute(jarvis.Entries.Select(e => e.Structure).ToArray());
        Console.WriteLine($"JARVIS table: scheme {jarvisTable.Scheme}, {jarvisTable.Columns.Count} columns, {jarvisTable.FallbackCount} fallback rows (whole-crystal statistics)");
        if (csvFolder is not null)
        {
            Directory.CreateDirectory(csvFolder);
            using (var writer = new StreamWriter(Path.Combine(csvFolder, "perovskites-roles.csv")))
                table.WriteCsv(writer);
            using (var writer = new StreamWriter(Path.Combine(csvFolder, "jarvis-roles.csv")))
                jarvisTable.WriteCsv(writer);
            Console.WriteLine($"wrote {csvFolder}/perovskites-roles.csv and jarvis-roles.csv");
        }

        Console.WriteLine($"peak working set {Process.GetCurrentProcess().PeakWorkingSet64 / (1 << 20)} MB");
        return 0;
    }

    private static double Percentile(double[] sorted, double percent) => sorted[(int)Math.Round(percent / 100 * (sorted.Length - 1))];
}
