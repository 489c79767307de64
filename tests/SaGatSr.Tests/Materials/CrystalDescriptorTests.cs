using SaGatSr.Gat.Materials;

namespace SaGatSr.Tests.Materials;

public class CrystalDescriptorTests
{
    private static (Structure S, CrystalGraph G, SiteRoles R, CrystalDescriptors D) Describe(Structure s)
    {
        var graph = CrystalGraph.Build(s);
        var roles = SiteRoles.Assign(s, graph);
        return (s, graph, roles, CrystalDescriptors.Compute(s, graph, roles));
    }

    [Test]
    public void CubicStrontiumTitanateHasToleranceFactorOneAndNoDistortion()
    {
        var (s, _, _, d) = Describe(SiteRolesTests.CubicPerovskite("Sr", "Ti", ["O", "O", "O"], 3.905));
        Assert.Multiple(() =>
        {
            // Shannon: Sr2+ XII 1.44, Ti4+ VI 0.605, O2- VI 1.40
            Assert.That(d.ToleranceFactor, Is.EqualTo((1.44 + 1.40) / (Math.Sqrt(2) * (0.605 + 1.40))).Within(1e-12));
            Assert.That(d.ToleranceFactor, Is.EqualTo(1.00).Within(0.005));
            Assert.That(d.OctahedralFactor, Is.EqualTo(0.605 / 1.40).Within(1e-12));
            Assert.That(d.OctahedralTilt, Is.EqualTo(0).Within(1e-4));
            Assert.That(d.OctahedralDistortion, Is.EqualTo(0).Within(1e-6));
            Assert.That(d.BondLengthDistortion, Is.EqualTo(0).Within(1e-6));
            Assert.That(d.VolumePerAtom, Is.EqualTo(Math.Pow(3.905, 3) / 5).Within(1e-9));
            Assert.That(d.IonicPackingFraction, Is.EqualTo(4 * Math.PI / 3 * (Math.Pow(1.44, 3) + Math.Pow(0.605, 3) + 3 * Math.Pow(1.40, 3)) / s.Volume).Within(1e-9));
            Assert.That(d[CrystalDescriptors.All.Select(f => f.Name).ToList().IndexOf("G_abx3")], Is.EqualTo(1));
        });
    }

    [Test]
    public void GlobalInstabilityIndexIsTheRmsBondValenceMismatch()
    {
        var (_, _, r, d) = Describe(SiteRolesTests.CubicPerovskite("Sr", "Ti", ["O", "O", "O"], 3.905));
        double sum = 0;
        for (int i = 0; i < 5; i++)
            sum += Math.Pow(r.BondValenceSums[i] - Math.Abs(r.OxidationStates[i]), 2);
        Assert.That(d.GlobalInstabilityIndex, Is.EqualTo(Math.Sqrt(sum / 5)).Within(1e-12));
        Assert.That(d.GlobalInstabilityIndex, Is.InRange(0.05, 0.5), "a stable perovskite");
    }

    [Test]
    public void DisplacedAnionTiltsTheBxbAngleAndDistortsTheOctahedron()
    {
        // X1 moves 0.2 Å off the B-B line: its B-X-B angle is 180° - 2 atan(0.2/1.95)
        double a = 3.9, shift = 0.2;
        var (_, _, r, d) = Describe(SiteRolesTests.CubicPerovskite("Sr", "Ti", ["O", "O", "O"], a, shift));
        Assert.That(r.IsAbx3);
        double bent = 2 * Math.Atan(shift / (a / 2)) * 180 / Math.PI;
        Assert.That(d.OctahedralTilt, Is.EqualTo(bent / 3).Within(1e-4), "mean over the three X sites");
        double longBond = Math.Sqrt(a * a / 4 + shift * shift), mean = (2 * longBond + 4 * a / 2) / 6;
        double baur = (2 * Math.Abs(longBond - mean) + 4 * Math.Abs(a / 2 - mean)) / 6 / mean;
        Assert.That(d.OctahedralDistortion, Is.EqualTo(baur).Within(1e-6));
    }

    [Test]
    public void NonPerovskitesGetNaNForAbx3DescriptorsAndNeutralZerosWhenWritten()
    {
        var (_, _, r, d) = Describe(StructureReader.Read(Path.Combine(MaterialsTestData.Cgcnn, "1000041.cif")));
        Assert.That(r.IsAbx3, Is.False);
        for (int c = 0; c < CrystalDescriptors.Abx3Count; c++)
            Assert.That(d[c], Is.NaN, CrystalDescriptors.All[c].Name);
        var written = new double[CrystalDescriptors.All.Count];
        d.Write(written);
        Assert.That(written.Take(CrystalDescriptors.Abx3Count), Is.All.EqualTo(0));
        Assert.That(written, Is.All.Matches<double>(double.IsFinite));
        Assert.That(d.GlobalInstabilityIndex, Is.GreaterThan(0));
        // Na+ VI 1.02, Cl- VI 1.81
        Assert.That(d.SiteIonicRadii.Distinct().Order(), Is.EqualTo(new[] { 1.02, 1.81 }));
    }
}
