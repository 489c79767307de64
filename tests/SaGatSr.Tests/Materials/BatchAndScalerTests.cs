using SaGatSr.Gat.Materials;

namespace SaGatSr.Tests.Materials;

public class BatchAndScalerTests
{
    [Test]
    public void BatchShiftsIndicesAndKeepsPerCrystalGraphsIntact()
    {
        var random = new Random(7);
        var sae = new SaeFeaturizer();
        var structures = Directory.GetFiles(MaterialsTestData.Jarvis, "*.vasp").Order().Take(6).Select(StructureReader.Read).ToList();
        var items = structures.Select(s =>
        {
            var g = CrystalGraph.Build(s, new GraphOptions { MaxNeighbors = random.Next(1, 15) });
            return (g, sae.Featurize(s, g));
        }).ToList();
        var batch = GraphBatch.Create(items, sae.Features.Count);

        Assert.That(batch.CrystalCount, Is.EqualTo(6));
        Assert.That(batch.AtomCount, Is.EqualTo(structures.Sum(s => s.AtomCount)));
        Assert.That(batch.EdgeCount, Is.EqualTo(items.Sum(i => i.g.EdgeCount)));
        Assert.That(batch.EdgeTargetOffsets, Has.Length.EqualTo(batch.AtomCount + 1));
        Assert.That(batch.EdgeTargetOffsets, Is.Ordered);
        Assert.That(batch.EdgeTargetOffsets[^1], Is.EqualTo(batch.EdgeCount));
        var crystalOfAtom = batch.CrystalOfAtom();
        for (int c = 0; c < 6; c++)
        {
            var g = items[c].g;
            int node = batch.NodeOffsets[c], edge = batch.EdgeOffsets[c];
            for (int e = 0; e < g.EdgeCount; e++)
            {
                Assert.That(batch.EdgeSource[edge + e], Is.EqualTo(g.EdgeSource[e] + node));
                Assert.That(batch.EdgeTarget[edge + e], Is.EqualTo(g.EdgeTarget[e] + node));
                Assert.That(batch.EdgeDistance[edge + e], Is.EqualTo(g.EdgeDistance[e]));
                Assert.That(crystalOfAtom[batch.EdgeSource[edge + e]], Is.EqualTo(c), "edges never cross crystals");
            }

            Assert.That(batch.AtomFeatures[(node * sae.Features.Count)..((node + g.AtomCount) * sae.Features.Count)], Is.EqualTo(items[c].Item2));
        }

        for (int i = 0; i < batch.AtomCount; i++)
        for (int e = batch.EdgeTargetOffsets[i]; e < batch.EdgeTargetOffsets[i + 1]; e++)
            Assert.That(batch.EdgeTarget[e], Is.EqualTo(i));
    }

    [Test]
    public void BatchRejectsFeatureMatricesOfTheWrongSize()
    {
        var s = StructureReader.Read(Path.Combine(MaterialsTestData.Cgcnn, "1000041.cif"));
        var g = CrystalGraph.Build(s);
        Assert.Throws<ArgumentException>(() => GraphBatch.Create([(g, new float[7])], 2));
    }

    [Test]
    public void ScalerStandardisesToZeroMeanUnitVarianceAndRoundTripsThroughJson()
    {
        var random = new Random(3);
        const int features = 5;
        var matrices = Enumerable.Range(0, 4).Select(_ => Enumerable.Range(0, features * random.Next(1, 30))
            .Select(k => (float)(k % features == 4 ? 2.5 : (k % features + 1) * 100 + 10 * random.NextDouble())).ToArray()).ToList();
        var scaler = FeatureScaler.Fit(matrices, features);

        var rows = matrices.SelectMany(m => m.Chunk(features)).ToList();
        for (int c = 0; c < features; c++)
        {
            double mean = rows.Average(r => (double)r[c]);
            double std = Math.Sqrt(rows.Average(r => (r[c] - mean) * (r[c] - mean)));
            Assert.That(scaler.Mean[c], Is.EqualTo(mean).Within(1e-9 * Math.Abs(mean) + 1e-9));
            Assert.That(scaler.StandardDeviation[c], Is.EqualTo(c == 4 ? 1 : std).Within(1e-6 * std + 1e-12), "constant column keeps std 1");
        }

        var all = matrices.SelectMany(m => m).ToArray();
        var restored = FeatureScaler.FromJson(scaler.ToJson());
        var copy = (float[])all.Clone();
        scaler.TransformInPlace(all);
        restored.TransformInPlace(copy);
        Assert.That(copy, Is.EqualTo(all));
        var inverted = (float[])all.Clone();
        scaler.InverseTransformInPlace(inverted);
        Assert.That(inverted, Is.EqualTo(matrices.SelectMany(m => m).ToArray()).Within(1e-3f));
        for (int c = 0; c < features - 1; c++)
        {
            var column = Enumerable.Range(0, all.Length / features).Select(r => (double)all[r * features + c]).ToArray();
            Assert.That(column.Average(), Is.EqualTo(0).Within(1e-4));
            Assert.That(Math.Sqrt(column.Average(v => v * v)), Is.EqualTo(1).Within(1e-4));
        }
    }

    [Test]
    public void ScalerRefusesMalformedJsonAndNonFiniteInput()
    {
        Assert.Throws<FormatException>(() => FeatureScaler.FromJson("{\"Mean\":[1],\"StandardDeviation\":[0]}"));
        Assert.Throws<FormatException>(() => FeatureScaler.FromJson("not json"));
        Assert.Throws<ArgumentException>(() => FeatureScaler.Fit([[1f, float.NaN]], 2));
    }
}
