using SaGatSr.Gat.Materials;

namespace SaGatSr.Tests.Materials;

public class StructureTests
{
    [Test]
    public void LatticeFromParametersReproducesLengthsAnglesAndVolume()
    {
        var random = new Random(5);
        for (int trial = 0; trial < 50; trial++)
        {
            double a = 2 + 8 * random.NextDouble(), b = 2 + 8 * random.NextDouble(), c = 2 + 8 * random.NextDouble();
            double alpha = 60 + 60 * random.NextDouble(), beta = 60 + 60 * random.NextDouble(), gamma = 60 + 60 * random.NextDouble();
            double cosA = Math.Cos(alpha * Math.PI / 180), cosB = Math.Cos(beta * Math.PI / 180), cosG = Math.Cos(gamma * Math.PI / 180);
            double volumeFactor = 1 - cosA * cosA - cosB * cosB - cosG * cosG + 2 * cosA * cosB * cosG;
            if (volumeFactor < 0.05)
                continue;
            var m = Structure.LatticeFromParameters(a, b, c, alpha, beta, gamma);
            double[] Row(int r) => [m[r, 0], m[r, 1], m[r, 2]];
            double Dot(double[] u, double[] v) => u[0] * v[0] + u[1] * v[1] + u[2] * v[2];
            double Angle(double[] u, double[] v) => Math.Acos(Dot(u, v) / Math.Sqrt(Dot(u, u) * Dot(v, v))) * 180 / Math.PI;
            Assert.That(Math.Sqrt(Dot(Row(0), Row(0))), Is.EqualTo(a).Within(1e-9));
            Assert.That(Math.Sqrt(Dot(Row(1), Row(1))), Is.EqualTo(b).Within(1e-9));
            Assert.That(Math.Sqrt(Dot(Row(2), Row(2))), Is.EqualTo(c).Within(1e-9));
            Assert.That(Angle(Row(1), Row(2)), Is.EqualTo(alpha).Within(1e-7));
            Assert.That(Angle(Row(0), Row(2)), Is.EqualTo(beta).Within(1e-7));
            Assert.That(Angle(Row(0), Row(1)), Is.EqualTo(gamma).Within(1e-7));
            var s = Structure.Create("t", m, [14], [[0, 0, 0]], true, "t");
            Assert.That(s.Volume, Is.EqualTo(a * b * c * Math.Sqrt(volumeFactor)).Within(1e-9 * s.Volume));
        }
    }

    [Test]
    public void SupercellMultipliesAtomsAndVolumeAndKeepsNeighbourDistances()
    {
        var cell = StructureReader.Read(Path.Combine(MaterialsTestData.Cgcnn, "1101051.cif"));
        var super = cell.Supercell(2, 3, 1);
        Assert.That(super.AtomCount, Is.EqualTo(cell.AtomCount * 6));
        Assert.That(super.Volume, Is.EqualTo(cell.Volume * 6).Within(1e-9));
        Assert.That(super.Formula, Is.EqualTo(cell.Formula));
        var small = CrystalGraph.Build(cell);
        var large = CrystalGraph.Build(super);
        // atom k of the first image cell sees the same neighbour distances as atom k of the unit cell
        for (int k = 0; k < cell.AtomCount; k++)
            Assert.That(large.EdgeDistance[large.TargetOffsets[k]..large.TargetOffsets[k + 1]],
                Is.EqualTo(small.EdgeDistance[small.TargetOffsets[k]..small.TargetOffsets[k + 1]]).Within(1e-4f));
    }
}
