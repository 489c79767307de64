using SaGatSr.Gat.Materials;

namespace SaGatSr.Tests.Materials;

public class SiteRolesTests
{
    /// <summary>Cubic ABX3 with A at the origin, B at the body centre, X at the face centres; X1 may move along y by <paramref name="shift"/> Å.</summary>
    internal static Structure CubicPerovskite(string a, string b, string[] x, double lattice, double shift = 0)
    {
        int Z(string symbol) => Elements.TryGetAtomicNumber(symbol, out int z) ? z : throw new ArgumentException(symbol);
        var cell = new double[,] { { lattice, 0, 0 }, { 0, lattice, 0 }, { 0, 0, lattice } };
        double h = lattice / 2;
        return Structure.Create($"{a}{b}{string.Concat(x)}", cell, [Z(a), Z(b), Z(x[0]), Z(x[1]), Z(x[2])],
            [[0, 0, 0], [h, h, h], [0, h + shift, h], [h, 0, h], [h, h, 0]], false, "test");
    }

    private static (Structure, CrystalGraph, SiteRoles) Assign(Structure s, GraphOptions? options = null)
    {
        var graph = CrystalGraph.Build(s, options);
        return (s, graph, SiteRoles.Assign(s, graph));
    }

    private static double R0(double r1, double c1, double r2, double c2) =>
        r1 + r2 - r1 * r2 * Math.Pow(Math.Sqrt(c1) - Math.Sqrt(c2), 2) / (c1 * r1 + c2 * r2);

    [Test]
    public void CubicStrontiumTitanateIsAbx3WithCommonStatesAndHandComputedBondValences()
    {
        var (_, _, roles) = Assign(CubicPerovskite("Sr", "Ti", ["O", "O", "O"], 3.905));
        Assert.Multiple(() =>
        {
            Assert.That(roles.Roles, Is.EqualTo(new[] { SiteRole.A, SiteRole.B, SiteRole.X, SiteRole.X, SiteRole.X }));
            Assert.That(roles.OxidationStates, Is.EqualTo(new double[] { 2, 4, -2, -2, -2 }));
            Assert.That(roles.IsAbx3 && roles.IsAssigned);
            Assert.That(roles.Rule, Is.EqualTo("ABX3, charge balance"));
            Assert.That(roles.ChargeBalanceTier, Is.EqualTo(1));
            Assert.That(roles.Coordination, Is.EqualTo(new[] { 12, 6, 6, 6, 6 }), "O: 2 Ti + 4 Sr");
        });

        // Brese & O'Keeffe element parameters (Ti 1.27/1.32, Sr 1.66/0.99, O 0.63/3.15), b = 0.37 Å
        double r0TiO = R0(1.27, 1.32, 0.63, 3.15), r0SrO = R0(1.66, 0.99, 0.63, 3.15);
        Assert.That(r0TiO, Is.EqualTo(1.815).Within(0.005), "their fitted Ti(IV)-O value");
        Assert.That(r0SrO, Is.EqualTo(2.118).Within(0.005), "their fitted Sr-O value");
        double titanium = Math.Exp((r0TiO - 3.905 / 2) / 0.37), strontium = Math.Exp((r0SrO - 3.905 / Math.Sqrt(2)) / 0.37);
        Assert.That(roles.BondValenceSums[1], Is.EqualTo(6 * titanium).Within(1e-5));
        Assert.That(roles.BondValenceSums[0], Is.EqualTo(12 * strontium).Within(1e-5));
        Assert.That(roles.BondValenceSums[2], Is.EqualTo(2 * titanium + 4 * strontium).Within(1e-5), "each bond read once, from the cation");
    }

    [Test]
    public void TheOctahedralCationIsBWhereverItSits()
    {
        // Ti at the origin, Sr in the middle: the anions are now the edge centres around Ti
        var cell = new double[,] { { 3.9, 0, 0 }, { 0, 3.9, 0 }, { 0, 0, 3.9 } };
        var s = Structure.Create("TiSrO3", cell, [22, 38, 8, 8, 8], [[0, 0, 0], [0.5, 0.5, 0.5], [0.5, 0, 0], [0, 0.5, 0], [0, 0, 0.5]], true, "test");
        var (_, _, roles) = Assign(s);
        Assert.That(roles.Roles[0], Is.EqualTo(SiteRole.B));
        Assert.That(roles.Roles[1], Is.EqualTo(SiteRole.A));
    }

    [Test]
    public void MixedAnionsAreAllXAndChargesBalance()
    {
        var (_, _, roles) = Assign(CubicPerovskite("La", "Ti", ["N", "O", "O"], 4.0));
        Assert.That(roles.Roles, Is.EqualTo(new[] { SiteRole.A, SiteRole.B, SiteRole.X, SiteRole.X, SiteRole.X }));
        Assert.That(roles.OxidationStates, Is.EqualTo(new double[] { 3, 4, -3, -2, -2 }));
    }

    [Test]
    public void CommonStatesBeatSmallChargesAcrossTiers()
    {
        // Fe(IV) is only "known", but Fe+1 with O-1 would need two uncommon states
        var (_, _, roles) = Assign(CubicPerovskite("Sr", "Fe", ["O", "O", "O"], 3.85));
        Assert.That(roles.OxidationStates, Is.EqualTo(new double[] { 2, 4, -2, -2, -2 }));
        Assert.That(roles.ChargeBalanceTier, Is.EqualTo(3));
    }

    [Test]
    public void RockSaltIsCationAndAnionWithUnitCharges()
    {
        var s = StructureReader.Read(Path.Combine(MaterialsTestData.Cgcnn, "1000041.cif"));
        // 12 neighbours reach no chlorine beyond the first shell (20 would add 2 of the 8 equidistant ones at a√3/2).
        var (_, _, roles) = Assign(s, new GraphOptions { MaxNeighbors = 12 });
        Assert.That(roles.Rule, Is.EqualTo("charge balance"));
        Assert.That(roles.IsAbx3, Is.False);
        for (int i = 0; i < s.AtomCount; i++)
        {
            bool sodium = s.AtomicNumbers[i] == 11;
            Assert.That(roles.Roles[i], Is.EqualTo(sodium ? SiteRole.Cation : SiteRole.Anion));
            Assert.That(roles.OxidationStates[i], Is.EqualTo(sodium ? 1 : -1));
            Assert.That(roles.Coordination[i], Is.EqualTo(6));
            Assert.That(roles.BondValenceSums[i], Is.EqualTo(6 * Math.Exp((R0(1.36, 1.01, 0.99, 2.74) - 2.81) / 0.37)).Within(1e-4));
        }
    }

    [Test]
    public void MetalsAndAlloysFallBackAndSayWhy()
    {
        var copper = Structure.Create("Cu", new double[,] { { 0, 1.8, 1.8 }, { 1.8, 0, 1.8 }, { 1.8, 1.8, 0 } }, [29], [[0, 0, 0]], true, "test");
        var brass = Structure.Create("CuZn", new double[,] { { 2.95, 0, 0 }, { 0, 2.95, 0 }, { 0, 0, 2.95 } }, [29, 30], [[0, 0, 0], [0.5, 0.5, 0.5]], true, "test");
        var (_, _, cu) = Assign(copper);
        var (_, _, cuZn) = Assign(brass);
        var (_, _, nickelTin) = Assign(StructureReader.Read(Path.Combine(MaterialsTestData.Jarvis, "POSCAR-JVASP-86726.vasp"))); // LuNi4Sn
        Assert.Multiple(() =>
        {
            Assert.That(cu.Rule, Is.EqualTo("none: fallback (one element)"));
            Assert.That(cuZn.Rule, Does.StartWith("none: fallback (no split"));
            Assert.That(nickelTin.Rule, Does.StartWith("none: fallback (charge balance failed and the electronegativity gap"));
            foreach (var roles in new[] { cu, cuZn, nickelTin })
            {
                Assert.That(roles.IsAssigned, Is.False);
                Assert.That(roles.Roles, Is.All.EqualTo(SiteRole.Unassigned));
                Assert.That(roles.OxidationStates, Is.All.EqualTo(0));
            }
        });
    }

    [Test]
    public void MixedValenceFallsToBondValence()
    {
        // Li4Mn3Cr3O12 (JARVIS): no single state per element balances Li+ Mn Cr O2-; bond-valence sums tell Mn(III) from Mn(IV)
        var s = StructureReader.Read(Path.Combine(MaterialsTestData.Jarvis, "POSCAR-JVASP-42300.vasp"));
        var (_, _, roles) = Assign(s);
        Assert.That(roles.Rule, Is.EqualTo("bond valence"));
        for (int i = 0; i < s.AtomCount; i++)
        {
            Assert.That(Math.Abs(roles.OxidationStates[i] - (roles.Roles[i] == SiteRole.Anion ? -roles.BondValenceSums[i] : roles.BondValenceSums[i])), Is.LessThan(0.75),
                "the state is the known state nearest to the sum");
            if (s.AtomicNumbers[i] == 8)
                Assert.That(roles.OxidationStates[i], Is.EqualTo(-2));
        }

        var manganese = Enumerable.Range(0, s.AtomCount).Where(i => s.AtomicNumbers[i] == 25).Select(i => roles.OxidationStates[i]).Distinct().Order();
        Assert.That(manganese, Is.EqualTo(new double[] { 3, 4 }));
    }

    [Test]
    public void ShippedPerovskitesAreAbx3WithTheDatasetsBSite()
    {
        // the CMR cells list A first and B second
        var dataset = Dataset.Load(Path.Combine(MaterialsTestData.Folder, "perovskites", "perovskites-head.csv"));
        Assert.That(dataset.Entries, Has.Count.EqualTo(12));
        foreach (var entry in dataset.Entries)
        {
            var (_, _, roles) = Assign(entry.Structure);
            Assert.That(roles.IsAbx3, entry.Id);
            Assert.That(roles.Roles[..2], Is.EqualTo(new[] { SiteRole.A, SiteRole.B }), entry.Id);
        }
    }
}
