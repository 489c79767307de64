using SaGatSr.Autodiff;
using SaGatSr.Kernels.Reference;

namespace SaGatSr.Tests.Autodiff;

/// <summary>Each op's forward value against a plain host loop on fresh random inputs (the gradient checks only prove consistency).</summary>
public class ForwardTests
{
    private const double Tolerance = 1e-12;

    private ReferenceBackend backend = null!;
    private Random rng = null!;

    [SetUp]
    public void SetUp()
    {
        backend = new ReferenceBackend();
        rng = new Random(TestContext.CurrentContext.Random.Next());
    }

    [TearDown]
    public void TearDown() => backend.Dispose();

    [TestCase(false, false)]
    [TestCase(true, false)]
    [TestCase(false, true)]
    [TestCase(true, true)]
    public void MatMulMatchesNaiveProduct(bool transposeA, bool transposeB)
    {
        int m = rng.Next(1, 6), k = rng.Next(1, 6), n = rng.Next(1, 6);
        var a = RandomMatrix(transposeA ? k : m, transposeA ? m : k);
        var b = RandomMatrix(transposeB ? n : k, transposeB ? k : n);
        var expected = new double[m * n];
        for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++)
        for (int p = 0; p < k; p++)
            expected[i * n + j] += (transposeA ? a.Values[p * m + i] : a.Values[i * k + p]) * (transposeB ? b.Values[j * k + p] : b.Values[p * n + j]);
        using var c = Ops.MatMul(a.Tensor, b.Tensor, transposeA, transposeB);
        Assert.That(c.Shape, Is.EqualTo(new[] { m, n }));
        Assert.That(c.ToDoubleArray(), Is.EqualTo(expected).Within(Tolerance));
    }

    [Test]
    public void LinearOfRank3InputKeepsLeadingDimensions()
    {
        int batch = 2, rows = rng.Next(1, 4), inFeatures = rng.Next(1, 5), outFeatures = rng.Next(1, 5);
        var x = RandomMatrix(batch * rows, inFeatures);
        var w = RandomMatrix(inFeatures, outFeatures);
        var bias = RandomMatrix(1, outFeatures);
        using var x3 = x.Tensor.Reshape(batch, rows, inFeatures);
        using var y = Ops.Linear(x3, w.Tensor, bias.Tensor);
        var expected = new double[batch * rows * outFeatures];
        for (int i = 0; i < batch * rows; i++)
        for (int o = 0; o < outFeatures; o++)
        {
            expected[i * outFeatures + o] = bias.Values[o];
            for (int p = 0; p < inFeatures; p++) expected[i * outFeatures + o] += x.Values[i * inFeatures + p] * w.Values[p * outFeatures + o];
        }

        Assert.That(y.Shape, Is.EqualTo(new[] { batch, rows, outFeatures }));
        Assert.That(y.ToDoubleArray(), Is.EqualTo(expected).Within(Tolerance));
    }

    [Test]
    public void ElementwiseAndBroadcastOpsMatchLoops()
    {
        int r = rng.Next(1, 5), c = rng.Next(1, 5);
        var a = RandomMatrix(r, c);
        var b = RandomMatrix(r, c);
        var row = RandomMatrix(1, c);
        var column = RandomMatrix(r, 1);
        double[] Map(Func<int, double> f) => Enumerable.Range(0, r * c).Select(f).ToArray();
        using var col = column.Tensor.Reshape(r);
        Assert.Multiple(() =>
        {
            Check(Ops.Add(a.Tensor, b.Tensor), Map(i => a.Values[i] + b.Values[i]));
            Check(Ops.Sub(a.Tensor, b.Tensor), Map(i => a.Values[i] - b.Values[i]));
            Check(Ops.Mul(a.Tensor, b.Tensor), Map(i => a.Values[i] * b.Values[i]));
            Check(Ops.Div(a.Tensor, b.Tensor), Map(i => a.Values[i] / b.Values[i]));
            Check(Ops.AddRow(a.Tensor, row.Tensor), Map(i => a.Values[i] + row.Values[i % c]));
            Check(Ops.MulRow(a.Tensor, row.Tensor), Map(i => a.Values[i] * row.Values[i % c]));
            Check(Ops.MulColumn(a.Tensor, col), Map(i => a.Values[i] * column.Values[i / c]));
            Check(Ops.DivColumn(a.Tensor, col), Map(i => a.Values[i] / column.Values[i / c]));
            Check(Ops.Scale(a.Tensor, 2.5f), Map(i => 2.5 * a.Values[i]));
            Check(Ops.AddScalar(a.Tensor, -0.75f), Map(i => a.Values[i] - 0.75));
        });
    }

    [Test]
    public void ActivationsMatchTheirFormulas()
    {
        var x = RandomMatrix(3, 4);
        var positive = x.Values.Select(Math.Abs).ToArray();
        using var p = Tensor.FromArray(backend, positive, 3, 4);
        double[] Map(Func<double, double> f, double[]? values = null) => (values ?? x.Values).Select(f).ToArray();
        Assert.Multiple(() =>
        {
            Check(Ops.Relu(x.Tensor), Map(v => Math.Max(v, 0)));
            Check(Ops.LeakyRelu(x.Tensor), Map(v => v > 0 ? v : 0.2 * v), 1e-8); // slope is a float
            Check(Ops.Sigmoid(x.Tensor), Map(v => 1 / (1 + Math.Exp(-v))));
            Check(Ops.Tanh(x.Tensor), Map(Math.Tanh));
            Check(Ops.Silu(x.Tensor), Map(v => v / (1 + Math.Exp(-v))));
            Check(Ops.Softplus(x.Tensor), Map(v => Math.Log(1 + Math.Exp(v))));
            Check(Ops.Exp(x.Tensor), Map(Math.Exp));
            Check(Ops.Log(p), Map(Math.Log, positive));
            Check(Ops.Square(x.Tensor), Map(v => v * v));
            Check(Ops.Sqrt(p), Map(Math.Sqrt, positive));
            Check(Ops.Abs(x.Tensor), Map(Math.Abs));
            Check(Ops.Neg(x.Tensor), Map(v => -v));
        });
    }

    [Test]
    public void GatherAndScatterAddMatchLoops()
    {
        int rows = rng.Next(1, 5), cols = rng.Next(1, 4), count = rng.Next(1, 9);
        var x = RandomMatrix(rows, cols);
        var indices = Enumerable.Range(0, count).Select(_ => rng.Next(rows)).ToArray();
        using var index = IndexTensor.FromArray(backend, indices);
        var gathered = new double[count * cols];
        for (int i = 0; i < count; i++)
        for (int j = 0; j < cols; j++)
            gathered[i * cols + j] = x.Values[indices[i] * cols + j];
        using var g = Ops.Gather(x.Tensor, index);
        Assert.That(g.Shape, Is.EqualTo(new[] { count, cols }));
        Assert.That(g.ToDoubleArray(), Is.EqualTo(gathered));

        var scattered = new double[rows * cols];
        for (int i = 0; i < count; i++)
        for (int j = 0; j < cols; j++)
            scattered[indices[i] * cols + j] += gathered[i * cols + j];
        using var s = Ops.ScatterAdd(g, index, rows);
        Assert.That(s.ToDoubleArray(), Is.EqualTo(scattered).Within(Tolerance));
    }

    [Test]
    public void SegmentOpsMatchLoopsAndGiveZeroForEmptySegments()
    {
        int[] offsets = [0, 3, 3, 4, 7];
        int cols = rng.Next(1, 4), count = offsets.Length - 1, total = offsets[^1];
        using var segments = Segments.FromOffsets(backend, offsets);
        Assert.That(segments.RowToSegment.ToArray(), Is.EqualTo(new[] { 0, 0, 0, 2, 3, 3, 3 }));
        var x = RandomMatrix(total, cols);
        var sums = new double[count * cols];
        var means = new double[count * cols];
        var broadcast = new double[total * cols];
        var softmax = new double[total * cols];
        for (int s = 0; s < count; s++)
        for (int j = 0; j < cols; j++)
        {
            double max = double.NegativeInfinity, expSum = 0;
            for (int r = offsets[s]; r < offsets[s + 1]; r++)
            {
                sums[s * cols + j] += x.Values[r * cols + j];
                max = Math.Max(max, x.Values[r * cols + j]);
            }

            int size = offsets[s + 1] - offsets[s];
            means[s * cols + j] = size == 0 ? 0 : sums[s * cols + j] / size;
            for (int r = offsets[s]; r < offsets[s + 1]; r++) expSum += Math.Exp(x.Values[r * cols + j] - max);
            for (int r = offsets[s]; r < offsets[s + 1]; r++)
            {
                broadcast[r * cols + j] = sums[s * cols + j];
                softmax[r * cols + j] = Math.Exp(x.Values[r * cols + j] - max) / expSum;
            }
        }

        using var sumTensor = Ops.SegmentSum(x.Tensor, segments);
        Assert.Multiple(() =>
        {
            Check(Ops.SegmentSum(x.Tensor, segments), sums);
            Check(Ops.SegmentMean(x.Tensor, segments), means);
            Check(Ops.BroadcastSegments(sumTensor, segments), broadcast);
            Check(Ops.SegmentSoftmax(x.Tensor, segments), softmax);
        });
    }

    [Test]
    public void SegmentWeightedGatherSumMatchesLoop()
    {
        int[] offsets = [0, 2, 2, 5];
        int heads = 2, headDim = 3, nodes = 4, edges = offsets[^1];
        using var segments = Segments.FromOffsets(backend, offsets);
        var weights = RandomMatrix(edges, heads);
        var values = RandomMatrix(nodes, heads * headDim);
        var sourceIndex = Enumerable.Range(0, edges).Select(_ => rng.Next(nodes)).ToArray();
        using var sources = IndexTensor.FromArray(backend, sourceIndex);
        var expected = new double[(offsets.Length - 1) * heads * headDim];
        for (int s = 0; s < offsets.Length - 1; s++)
        for (int e = offsets[s]; e < offsets[s + 1]; e++)
        for (int h = 0; h < heads; h++)
        for (int d = 0; d < headDim; d++)
            expected[s * heads * headDim + h * headDim + d] += weights.Values[e * heads + h] * values.Values[sourceIndex[e] * heads * headDim + h * headDim + d];
        using var y = Ops.SegmentWeightedGatherSum(weights.Tensor, values.Tensor, sources, segments, heads);
        Assert.That(y.ToDoubleArray(), Is.EqualTo(expected).Within(Tolerance));
    }

    [Test]
    public void ConcatAndSliceColumnsMatchLoops()
    {
        int rows = rng.Next(1, 4), c1 = rng.Next(1, 4), c2 = rng.Next(1, 4);
        var a = RandomMatrix(rows, c1);
        var b = RandomMatrix(rows, c2);
        var expected = new List<double>();
        for (int i = 0; i < rows; i++)
        {
            expected.AddRange(a.Values.Skip(i * c1).Take(c1));
            expected.AddRange(b.Values.Skip(i * c2).Take(c2));
        }

        using var joined = Ops.Concat(a.Tensor, b.Tensor);
        Assert.That(joined.Shape, Is.EqualTo(new[] { rows, c1 + c2 }));
        Assert.That(joined.ToDoubleArray(), Is.EqualTo(expected));
        using var slice = Ops.SliceColumns(joined, c1, c2);
        Assert.That(slice.ToDoubleArray(), Is.EqualTo(b.Values));
    }

    [Test]
    public void ReductionsMatchLoops()
    {
        int r = rng.Next(1, 5), c = rng.Next(1, 5);
        var x = RandomMatrix(r, c);
        var rowSums = Enumerable.Range(0, r).Select(i => x.Values.Skip(i * c).Take(c).Sum()).ToArray();
        var columnSums = Enumerable.Range(0, c).Select(j => Enumerable.Range(0, r).Sum(i => x.Values[i * c + j])).ToArray();
        Assert.Multiple(() =>
        {
            Check(Ops.Sum(x.Tensor), [x.Values.Sum()]);
            Check(Ops.Mean(x.Tensor), [x.Values.Average()]);
            Check(Ops.SumRows(x.Tensor), rowSums);
            Check(Ops.SumColumns(x.Tensor), columnSums);
            Check(Ops.MeanColumns(x.Tensor), columnSums.Select(v => v / r).ToArray());
        });
    }

    [Test]
    public void LayerNormMatchesLoop()
    {
        int r = rng.Next(1, 5), c = rng.Next(2, 6);
        var x = RandomMatrix(r, c);
        var gamma = RandomMatrix(1, c);
        var beta = RandomMatrix(1, c);
        const float eps = 1e-3f;
        var expected = new double[r * c];
        for (int i = 0; i < r; i++)
        {
            var rowValues = x.Values.Skip(i * c).Take(c).ToArray();
            double mean = rowValues.Average(), variance = rowValues.Select(v => (v - mean) * (v - mean)).Average();
            for (int j = 0; j < c; j++)
                expected[i * c + j] = (rowValues[j] - mean) / Math.Sqrt(variance + eps) * gamma.Values[j] + beta.Values[j];
        }

        using var y = Ops.LayerNorm(x.Tensor, gamma.Tensor, beta.Tensor, eps);
        Assert.That(y.ToDoubleArray(), Is.EqualTo(expected).Within(1e-10));
    }

    [Test]
    public void LossesAreMeansOverElements()
    {
        var prediction = RandomMatrix(3, 2);
        var target = RandomMatrix(3, 2);
        var differences = prediction.Values.Zip(target.Values, (p, t) => p - t).ToArray();
        Assert.Multiple(() =>
        {
            Check(Ops.MseLoss(prediction.Tensor, target.Tensor), [differences.Average(d => d * d)]);
            Check(Ops.L1Loss(prediction.Tensor, target.Tensor), [differences.Average(Math.Abs)]);
        });
    }

    [Test]
    public void WeightedBinaryCrossEntropyIsTheWeightedMeanOfMinusLogLikelihoods()
    {
        int n = rng.Next(2, 9);
        // Logits out to +-40 reach where log(sigmoid) would underflow in float32.
        var logits = Enumerable.Range(0, n).Select(_ => (rng.NextDouble() * 2 - 1) * 40).ToArray();
        var labels = Enumerable.Range(0, n).Select(i => (double)(i % 2)).ToArray();
        var weights = Enumerable.Range(0, n).Select(_ => 0.1 + rng.NextDouble() * 5).ToArray();
        double LogSigmoid(double z) => z >= 0 ? -Math.Log(1 + Math.Exp(-z)) : z - Math.Log(1 + Math.Exp(z));
        double expected = Enumerable.Range(0, n).Sum(i => -weights[i] * (labels[i] * LogSigmoid(logits[i]) + (1 - labels[i]) * LogSigmoid(-logits[i])))
                          / weights.Sum();
        using var z = Tensor.FromArray(backend, logits, n, 1);
        using var y = Tensor.FromArray(backend, labels, n, 1);
        using var w = Tensor.FromArray(backend, weights, n, 1);
        // 1 / sum(w) enters as a float32 scale: 1e-7 relative is its rounding, far below any wrong term.
        Check(Ops.BinaryCrossEntropyWithLogits(z, y, w), [expected], 1e-7 * Math.Max(1, expected));
    }

    [Test]
    public void CompositeOpsMatchLoops()
    {
        int r = rng.Next(1, 4), c = rng.Next(1, 5);
        var x = RandomMatrix(r, c);
        var softmax = new double[r * c];
        for (int i = 0; i < r; i++)
        {
            var row = x.Values.Skip(i * c).Take(c).ToArray();
            double max = row.Max(), total = row.Sum(v => Math.Exp(v - max));
            for (int j = 0; j < c; j++) softmax[i * c + j] = Math.Exp(row[j] - max) / total;
        }

        using var gate = Tensor.FromArray(backend, [-1.5], 1);
        Assert.Multiple(() =>
        {
            Check(Ops.SoftmaxRows(x.Tensor), softmax);
            Check(Ops.MulScalar(x.Tensor, gate), x.Values.Select(v => -1.5 * v).ToArray());
        });
    }

    [Test]
    public void DropoutZeroesAboutTheRateAndScalesTheRest()
    {
        using var ones = Tensor.FromArray(backend, Enumerable.Repeat(1.0, 4000).ToArray(), 40, 100);
        using var dropped = Ops.Dropout(ones, 0.25f, rng);
        var values = dropped.ToDoubleArray();
        int zeros = values.Count(v => v == 0);
        Assert.That(values.Where(v => v != 0), Is.All.EqualTo(1 / 0.75).Within(1e-6));
        Assert.That(zeros, Is.InRange(850, 1150), "about a quarter dropped (binomial sd is 27)");
    }

    [Test]
    public void ReshapeSharesDataAndSurvivesTheOriginal()
    {
        var x = RandomMatrix(2, 6);
        var view = x.Tensor.Reshape(3, 2, 2);
        Assert.That(view.Rows, Is.EqualTo(6));
        Assert.That(view.Cols, Is.EqualTo(2));
        Assert.That(view.Data, Is.SameAs(x.Tensor.Data));
        x.Tensor.Dispose();
        Assert.That(view.Data.IsDisposed, Is.False, "the view still holds the shared buffer");
        Assert.That(view.ToDoubleArray(), Is.EqualTo(x.Values));
        view.Dispose();
        Assert.That(view.Data.IsDisposed, Is.True);
    }

    [Test]
    public void ShapeConventionsForVectorsAndScalars()
    {
        using var vector = Tensor.Zeros(backend, 5);
        using var scalar = Tensor.FromArray(backend, [3.5], 1);
        using var cube = Tensor.Zeros(backend, 2, 3, 4);
        Assert.Multiple(() =>
        {
            Assert.That((vector.Rows, vector.Cols, vector.Length), Is.EqualTo((1, 5, 5)));
            Assert.That(scalar.Item(), Is.EqualTo(3.5));
            Assert.That((cube.Rows, cube.Cols, cube.Length), Is.EqualTo((6, 4, 24)));
        });
    }

    [Test]
    public void BadArgumentsGiveClearMessages()
    {
        using var a = Tensor.Zeros(backend, 2, 3);
        using var b = Tensor.Zeros(backend, 2, 3);
        using var index = IndexTensor.FromArray(backend, [0, 5]);
        Assert.Multiple(() =>
        {
            Assert.That(() => Ops.MatMul(a, b), Throws.ArgumentException.With.Message.Contains("inner dimensions differ"));
            Assert.That(() => Ops.Gather(a, index), Throws.InstanceOf<ArgumentOutOfRangeException>().With.Message.Contains("[0, 5]"));
            Assert.That(() => Segments.FromOffsets(backend, [0, 3, 2]), Throws.ArgumentException.With.Message.Contains("must not decrease"));
            Assert.That(() => Segments.FromOffsets(backend, [1, 3]), Throws.ArgumentException.With.Message.Contains("start at 0"));
            Assert.That(() => Tensor.FromArray(backend, new float[5], 2, 3), Throws.ArgumentException.With.Message.Contains("5 values"));
            Assert.That(() => a.Item(), Throws.InvalidOperationException.With.Message.Contains("one element"));
            Assert.That(() => Ops.SliceColumns(a, 2, 2), Throws.InstanceOf<ArgumentOutOfRangeException>());
            Assert.That(() => Ops.AddRow(a, b), Throws.ArgumentException.With.Message.Contains("must have 3 elements"));
        });
    }

    private (Tensor Tensor, double[] Values) RandomMatrix(int rows, int cols)
    {
        var values = Enumerable.Range(0, rows * cols).Select(_ => rng.NextDouble() * 2 - 1).ToArray();
        return (Tensor.FromArray(backend, values, rows, cols), values);
    }

    private static void Check(Tensor actual, double[] expected, double tolerance = Tolerance)
    {
        using (actual) Assert.That(actual.ToDoubleArray(), Is.EqualTo(expected).Within(tolerance));
    }
}
