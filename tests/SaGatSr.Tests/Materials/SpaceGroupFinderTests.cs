using SaGatSr.Gat.Materials;
using SaGatSr.Gat.Materials.Symmetry;

namespace SaGatSr.Tests.Materials;

public class SpaceGroupFinderTests
{
    // spglib 2.0.2 through pymatgen's SpacegroupAnalyzer(symprec=0.01) on the shipped JARVIS POSCARs, by JVASP id
    private static readonly Dictionary<string, int> JarvisSpaceGroups = new()
    {
        ["10"] = 164, ["107772"] = 160, ["13526"] = 12, ["1372"] = 216, ["14014"] = 62, ["14441"] = 164,
        ["14873"] = 221, ["15345"] = 38, ["1996"] = 225, ["21210"] = 225, ["22556"] = 221, ["27901"] = 164,
        ["28397"] = 53, ["28565"] = 156, ["28634"] = 156, ["28704"] = 156, ["42300"] = 22, ["48166"] = 8,
        ["50332"] = 71, ["60596"] = 12, ["60702"] = 61, ["63912"] = 216, ["64003"] = 216, ["64045"] = 216,
        ["64240"] = 216, ["64377"] = 216, ["64584"] = 216, ["64664"] = 216, ["64719"] = 216, ["64906"] = 119,
        ["65062"] = 216, ["65101"] = 216, ["655"] = 187, ["676"] = 11, ["76308"] = 31, ["76309"] = 149,
        ["76312"] = 129, ["76313"] = 12, ["76318"] = 162, ["76515"] = 162, ["76516"] = 164, ["76525"] = 11,
        ["76528"] = 11, ["76536"] = 12, ["76548"] = 164, ["76549"] = 2, ["76562"] = 7, ["76567"] = 1,
        ["86097"] = 221, ["86205"] = 204, ["86436"] = 148, ["86726"] = 216, ["86968"] = 162, ["89025"] = 63,
        ["89265"] = 62, ["90228"] = 148, ["90532"] = 146, ["90856"] = 129, ["97378"] = 62, ["97499"] = 147,
        ["97570"] = 2, ["97677"] = 4, ["97799"] = 62, ["97915"] = 225, ["97984"] = 13, ["98167"] = 14,
        ["98224"] = 11, ["98225"] = 14, ["98284"] = 71, ["98550"] = 166
    };

    [Test]
    public void JarvisStructuresGetTheSpaceGroupsSpglibFinds()
    {
        foreach (var (id, number) in JarvisSpaceGroups)
        {
            var structure = StructureReader.Read(Path.Combine(MaterialsTestData.Jarvis, $"POSCAR-JVASP-{id}.vasp"));
            Assert.That(SpaceGroupFinder.Find(structure)?.Number, Is.EqualTo(number), $"JVASP-{id}");
        }
    }

    /// <summary>
    /// Every space group: two random general orbits (two elements, so no accidental extra symmetry) in a cell with the
    /// group's metric, then a random origin shift, a skewed but equivalent cell and shuffled atoms.
    /// </summary>
    [Test]
    public void EveryGroupIsFoundFromAShiftedSkewedShuffledCrystal()
    {
        var random = new Random(230);
        var failures = new List<string>();
        for (int number = 1; number <= 230; number++)
        {
            var setting = SpaceGroupTable.OfNumber(number)[0];
            var structure = Crystal(setting, random);
            int? found = SpaceGroupFinder.Find(structure)?.Number;
            if (found != number)
                failures.Add($"{setting}: found {found?.ToString() ?? "none"}");
        }

        Assert.That(failures, Is.Empty);
    }

    private static Structure Crystal(SpaceGroupSetting setting, Random random)
    {
        int n = setting.Number;
        var (a, b, c, alpha, beta, gamma) = n switch
        {
            <= 2 => (5.1, 6.2, 7.3, 81.0, 86.0, 97.0),
            <= 15 => (5.1, 6.2, 7.3, 90.0, 101.0, 90.0),
            <= 74 => (5.1, 6.2, 7.3, 90.0, 90.0, 90.0),
            <= 142 => (5.1, 5.1, 7.3, 90.0, 90.0, 90.0),
            <= 194 => (5.1, 5.1, 7.3, 90.0, 90.0, 120.0),
            _ => (5.1, 5.1, 5.1, 90.0, 90.0, 90.0),
        };
        // room for two general orbits: about 12 Å³ per atom
        var lattice = Structure.LatticeFromParameters(a, b, c, alpha, beta, gamma);
        double scale = Math.Cbrt(2 * setting.Operations.Count * 12 / Math.Abs(Structure.Determinant(lattice)));
        lattice = Structure.LatticeFromParameters(a * scale, b * scale, c * scale, alpha, beta, gamma);

        // general points far enough from each other's images (and from special positions) for a valid structure
        for (int attempt = 0; ; attempt++)
        {
            try
            {
                return Attempt(setting, lattice, random);
            }
            catch (StructureFormatException) when (attempt < 100)
            {
            }
        }
    }

    private static Structure Attempt(SpaceGroupSetting setting, double[,] lattice, Random random)
    {
        double[] shift = [random.NextDouble(), random.NextDouble(), random.NextDouble()];
        var atoms = new List<(int Z, double[] F)>();
        foreach (int z in new[] { 11, 17 })
        {
            double[] general = [0.05 + 0.4 * random.NextDouble(), 0.05 + 0.4 * random.NextDouble(), 0.05 + 0.4 * random.NextDouble()];
            foreach (var op in setting.Operations)
            {
                var f = op.Apply(general);
                atoms.Add((z, [f[0] + shift[0], f[1] + shift[1], f[2] + shift[2]]));
            }
        }

        // an equivalent skewed cell: a' = a + b, b' = b, c' = c - a; coordinates follow
        var skewed = new double[3, 3];
        for (int k = 0; k < 3; k++)
        {
            skewed[0, k] = lattice[0, k] + lattice[1, k];
            skewed[1, k] = lattice[1, k];
            skewed[2, k] = lattice[2, k] - lattice[0, k];
        }

        var shuffled = atoms.OrderBy(_ => random.Next()).ToList();
        var cartesian = shuffled.Select(atom => Structure.FractionalToCartesian(lattice, atom.F)).ToArray();
        return Structure.Create($"sg{setting.Number}", skewed, shuffled.Select(atom => atom.Z).ToArray(), cartesian, false, "test");
    }

    [Test]
    public void DisorderedSitesCountAsTheirMixture()
    {
        // rock salt with one of the four cation sites mixed: no longer Fm-3m, but P m -3 m
        var lattice = new double[,] { { 5.6, 0, 0 }, { 0, 5.6, 0 }, { 0, 0, 5.6 } };
        double[][] positions = [[0, 0, 0], [0, 0.5, 0.5], [0.5, 0, 0.5], [0.5, 0.5, 0], [0.5, 0.5, 0.5], [0.5, 0, 0], [0, 0.5, 0], [0, 0, 0.5]];
        var ordered = Structure.Create("nacl", lattice, [11, 11, 11, 11, 17, 17, 17, 17], positions, true, "nacl");
        Assert.That(SpaceGroupFinder.Find(ordered)!.Number, Is.EqualTo(225));
        var mixture = new SiteMixture([new SiteSpecies(11, 0.5), new SiteSpecies(19, 0.5)]);
        var mixed = Structure.Create("nacl-k", lattice, [11, 11, 11, 11, 17, 17, 17, 17], positions, true, "nacl-k",
            mixtures: [mixture, null, null, null, null, null, null, null], disorderedSites: 1);
        Assert.That(SpaceGroupFinder.Find(mixed)!.Number, Is.EqualTo(221));
    }
}
