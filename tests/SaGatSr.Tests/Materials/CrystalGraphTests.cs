using SaGatSr.Gat.Materials;

namespace SaGatSr.Tests.Materials;

public class CrystalGraphTests
{
    /// <summary>Plain O(n² · images) reference: all periodic images within the cutoff, nearest first.</summary>
    private static List<(int Source, double Distance)>[] BruteForce(Structure s, double cutoff, int k)
    {
        var range = new int[3];
        for (int a = 0; a < 3; a++)
        {
            int u = (a + 1) % 3, v = (a + 2) % 3;
            double cx = s.Lattice[u, 1] * s.Lattice[v, 2] - s.Lattice[u, 2] * s.Lattice[v, 1];
            double cy = s.Lattice[u, 2] * s.Lattice[v, 0] - s.Lattice[u, 0] * s.Lattice[v, 2];
            double cz = s.Lattice[u, 0] * s.Lattice[v, 1] - s.Lattice[u, 1] * s.Lattice[v, 0];
            double spacing = s.Volume / Math.Sqrt(cx * cx + cy * cy + cz * cz);
            double spread = s.FractionalCoordinates.Max(f => f[a]) - s.FractionalCoordinates.Min(f => f[a]);
            range[a] = (int)Math.Ceiling(cutoff / spacing + spread) + 1;
        }

        var result = new List<(int, double)>[s.AtomCount];
        for (int i = 0; i < s.AtomCount; i++)
        {
            var all = new List<(int, double)>();
            for (int j = 0; j < s.AtomCount; j++)
            for (int a = -range[0]; a <= range[0]; a++)
            for (int b = -range[1]; b <= range[1]; b++)
            for (int c = -range[2]; c <= range[2]; c++)
            {
                if (i == j && a == 0 && b == 0 && c == 0)
                    continue;
                var shift = Structure.FractionalToCartesian(s.Lattice, [a, b, c]);
                double dx = s.CartesianCoordinates[j][0] + shift[0] - s.CartesianCoordinates[i][0];
                double dy = s.CartesianCoordinates[j][1] + shift[1] - s.CartesianCoordinates[i][1];
                double dz = s.CartesianCoordinates[j][2] + shift[2] - s.CartesianCoordinates[i][2];
                double d = Math.Sqrt(dx * dx + dy * dy + dz * dz);
                if (d <= cutoff)
                    all.Add((j, d));
            }

            result[i] = all.OrderBy(p => p.Item2).Take(k).ToList();
        }

        return result;
    }

    private static void AssertMatchesBruteForce(Structure s, GraphOptions options, string name)
    {
        var graph = CrystalGraph.Build(s, options);
        var expected = BruteForce(s, options.Cutoff, options.MaxNeighbors);
        Assert.That(graph.TargetOffsets, Has.Length.EqualTo(s.AtomCount + 1), name);
        for (int i = 0; i < s.AtomCount; i++)
        {
            int start = graph.TargetOffsets[i], end = graph.TargetOffsets[i + 1];
            Assert.That(end - start, Is.EqualTo(expected[i].Count), $"{name}: neighbour count of atom {i}");
            var distances = graph.EdgeDistance[start..end].Select(d => (double)d).ToArray();
            Assert.That(distances, Is.Ordered, $"{name}: atom {i} neighbours sorted by distance");
            Assert.That(distances, Is.EqualTo(expected[i].Select(p => p.Distance)).Within(1e-4), $"{name}: distances of atom {i}");
            // the neighbour identities must agree except for ties at the K-th distance, where either choice is right
            if (expected[i].Count == 0)
                continue;
            double boundary = expected[i][^1].Distance - 1e-4;
            var expectedInside = expected[i].Where(p => p.Distance < boundary).Select(p => p.Source).Order();
            var actualInside = Enumerable.Range(start, end - start).Where(e => graph.EdgeDistance[e] < boundary).Select(e => graph.EdgeSource[e]).Order();
            Assert.That(actualInside, Is.EqualTo(expectedInside), $"{name}: neighbour set of atom {i}");
            for (int e = start; e < end; e++)
            {
                Assert.That(graph.EdgeTarget[e], Is.EqualTo(i));
                // the reported image reproduces the distance from the coordinates as given
                var shift = Structure.FractionalToCartesian(s.Lattice, [graph.EdgeImage[3 * e], graph.EdgeImage[3 * e + 1], graph.EdgeImage[3 * e + 2]]);
                double dx = s.CartesianCoordinates[graph.EdgeSource[e]][0] + shift[0] - s.CartesianCoordinates[i][0];
                double dy = s.CartesianCoordinates[graph.EdgeSource[e]][1] + shift[1] - s.CartesianCoordinates[i][1];
                double dz = s.CartesianCoordinates[graph.EdgeSource[e]][2] + shift[2] - s.CartesianCoordinates[i][2];
                Assert.That(Math.Sqrt(dx * dx + dy * dy + dz * dz), Is.EqualTo(graph.EdgeDistance[e]).Within(1e-4), $"{name}: image of edge {e}");
            }
        }
    }

    [Test]
    public void ShippedStructuresMatchBruteForce()
    {
        var files = Directory.GetFiles(MaterialsTestData.Jarvis, "*.vasp").Order()
            .Concat(Directory.GetFiles(MaterialsTestData.Cgcnn, "*.cif"));
        foreach (string file in files)
            AssertMatchesBruteForce(StructureReader.Read(file), new GraphOptions(), Path.GetFileName(file));
    }

    [Test]
    public void ShortCutoffAndManyNeighboursMatchBruteForce()
    {
        var s = StructureReader.Read(Path.Combine(MaterialsTestData.Jarvis, "POSCAR-JVASP-14014.vasp"));
        AssertMatchesBruteForce(s, new GraphOptions { Cutoff = 3.2, MaxNeighbors = 40 }, "short cutoff");
        AssertMatchesBruteForce(s, new GraphOptions { Cutoff = 8, MaxNeighbors = 100 }, "K beyond the cutoff shell");
    }

    [Test]
    public void RandomTriclinicAndSkewedCellsMatchBruteForce()
    {
        var random = new Random(20260526);
        for (int trial = 0; trial < 12; trial++)
        {
            var s = RandomStructure(random, atoms: random.Next(1, 25), skew: trial % 3 == 0 ? 3.0 : 0.6);
            var options = new GraphOptions { Cutoff = 3 + 6 * random.NextDouble(), MaxNeighbors = random.Next(1, 30) };
            AssertMatchesBruteForce(s, options, $"trial {trial} ({s.AtomCount} atoms, cutoff {options.Cutoff:F2}, K {options.MaxNeighbors})");
        }
    }

    [Test]
    public void TinyCellMuchSmallerThanTheCutoffUsesManyImages()
    {
        // one atom in a 2.2 Å sheared cell: all neighbours are its own images, up to ~4 cells away
        var lattice = new double[,] { { 2.2, 0, 0 }, { 1.5, 2.0, 0 }, { 0.7, 0.9, 2.1 } };
        var s = Structure.Create("tiny", lattice, [13], [[0.3, 0.6, 0.9]], true, "tiny");
        var options = new GraphOptions { Cutoff = 8, MaxNeighbors = 60 };
        AssertMatchesBruteForce(s, options, "tiny");
        var graph = CrystalGraph.Build(s, options);
        Assert.That(graph.EdgeSource, Is.All.EqualTo(0));
        Assert.That(graph.EdgeCount, Is.EqualTo(60));
    }

    [Test]
    public void IsolatedAtomKeepsItsNearestNeighbourBeyondTheCutoffUnlessDisabled()
    {
        var lattice = new double[,] { { 20, 0, 0 }, { 0, 20, 0 }, { 0, 0, 20 } };
        var s = Structure.Create("molecule", lattice, [8, 1, 26], [[0, 0, 0], [0.96, 0, 0], [10, 10, 10]], false, "molecule");
        var graph = CrystalGraph.Build(s, new GraphOptions { Cutoff = 5 });
        int iron = 2;
        Assert.That(graph.TargetOffsets[iron + 1] - graph.TargetOffsets[iron], Is.EqualTo(1));
        int edge = graph.TargetOffsets[iron];
        Assert.That(graph.EdgeDistance[edge], Is.EqualTo(Math.Sqrt(3 * 100.0 - 2 * 10 * 0.96 + 0.96 * 0.96)).Within(1e-4), "nearest is the H at 0.96 Å from O");
        Assert.That(graph.EdgeSource[edge], Is.EqualTo(1));

        var strict = CrystalGraph.Build(s, new GraphOptions { Cutoff = 5, KeepNearestBeyondCutoff = false });
        Assert.That(strict.TargetOffsets[iron + 1] - strict.TargetOffsets[iron], Is.Zero);
    }

    [Test]
    public void GaussianExpansionMatchesTheFormula()
    {
        var options = new GraphOptions { Cutoff = 6, GaussianCount = 7, GaussianWidth = 0.5 };
        float[] distances = [0.9f, 2.0f, 5.99f];
        var expanded = GaussianExpansion.Expand(distances, options);
        Assert.That(expanded, Has.Length.EqualTo(21));
        for (int e = 0; e < 3; e++)
        for (int k = 0; k < 7; k++)
            Assert.That(expanded[e * 7 + k], Is.EqualTo(Math.Exp(-Math.Pow(distances[e] - k * 1.0, 2) / 0.25)).Within(1e-6));
        Assert.That(new GraphOptions { Cutoff = 8, GaussianCount = 41 }.EffectiveGaussianWidth, Is.EqualTo(0.2).Within(1e-12));
    }

    internal static Structure RandomStructure(Random random, int atoms, double skew)
    {
        while (true)
        {
            var lattice = new double[3, 3];
            for (int r = 0; r < 3; r++)
            for (int c = 0; c < 3; c++)
                lattice[r, c] = (r == c ? 2.5 + 4 * random.NextDouble() : 0) + skew * (random.NextDouble() - 0.5);
            var z = Enumerable.Range(0, atoms).Select(_ => random.Next(1, 84)).ToArray();
            var f = Enumerable.Range(0, atoms).Select(_ => new[] { random.NextDouble() * 1.4 - 0.2, random.NextDouble(), random.NextDouble() }).ToArray();
            try
            {
                return Structure.Create("random", lattice, z, f, true, "random");
            }
            catch (StructureFormatException)
            {
                // atoms too close or cell too thin: draw again
            }
        }
    }
}
