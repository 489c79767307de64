using SaGatSr.Kernels;
using SaGatSr.Kernels.Reference;

namespace SaGatSr.Tests.Kernels;

/// <summary>
/// Every IComputeBackend method on each float32 backend against the float64 reference, on fresh random inputs
/// (the seed is logged), with ragged sizes, empty segments, transposes, accumulate flags and allowed aliasing.
/// </summary>
[TestFixtureSource(typeof(TestDevices), nameof(TestDevices.Float32))]
public sealed class BackendConformanceTests(string device)
{
    private IComputeBackend backend = null!;
    private Harness h = null!;

    /// <summary>The ILGPU CPU accelerator emulates GPU threads and is slow, so it gets smaller problems.</summary>
    private int Size(int cpu, int ilgpuCpu) => TestDevices.IsEmulated(device) ? ilgpuCpu : cpu;

    [OneTimeSetUp]
    public void CreateBackend() => backend = Devices.Create(device);

    [OneTimeTearDown]
    public void DisposeBackend() => backend.Dispose();

    [SetUp]
    public void CreateHarness()
    {
        int seed = TestContext.CurrentContext.Random.Next();
        TestContext.Out.WriteLine($"random seed {seed}");
        h = new Harness(backend, seed);
    }

    [TearDown]
    public void DisposeHarness() => h.Dispose();

    [Test]
    public void UploadDownloadRoundTripsFloatsDoublesAndIndices()
    {
        var floats = new[] { 1.5f, -2.25f, 3e-8f, float.MaxValue };
        using var buffer = backend.Allocate(4);
        backend.Upload(buffer, floats);
        var back = new float[4];
        backend.Download(buffer, back);
        Assert.That(back, Is.EqualTo(floats));

        backend.Upload(buffer, new[] { 0.1, -7.0 });
        var doubles = new double[2];
        backend.Download(buffer, doubles);
        Assert.That(doubles, Is.EqualTo(new[] { (double)0.1f, -7.0 }));

        using var indices = backend.AllocateIndices(3);
        backend.Upload(indices, new[] { 7, -1, 42 });
        var ints = new int[3];
        backend.Download(indices, ints);
        Assert.That(ints, Is.EqualTo(new[] { 7, -1, 42 }));
    }

    [Test]
    public void AllocateReturnsZerosEvenWhenReusingPooledMemory()
    {
        int length = Size(5000, 300) + 3;
        for (int round = 0; round < 3; round++)
        {
            using var buffer = backend.Allocate(length);
            var values = new float[length];
            backend.Download(buffer, values);
            Assert.That(values, Is.All.Zero, $"round {round}");
            backend.Fill(buffer, 3.5);
            using var indices = backend.AllocateIndices(length);
            var ints = new int[length];
            backend.Download(indices, ints);
            Assert.That(ints, Is.All.Zero, $"round {round}");
            backend.Upload(indices, Enumerable.Repeat(9, length).ToArray());
        }
    }

    [Test]
    public void FillAndCopy()
    {
        var x = h.Tensor(Size(10007, 301));
        var y = h.Tensor(x.Length);
        h.CheckElementwise((b, v) => b.Fill(v.B(x), -0.375), x);
        h.CheckElementwise((b, v) => b.Copy(v.B(x), v.B(y)), y);
        var values = new float[y.Length];
        backend.Download(y.Actual, values);
        Assert.That(values, Is.All.EqualTo(-0.375f));
    }

    [Test]
    public void MatMulMatchesReferenceForEveryTransposeAndBeta(
        [Values] bool transposeA, [Values] bool transposeB, [Values(0f, 1f)] float beta)
    {
        int m = Size(133, 37), n = Size(70, 29), k = Size(300, 45);
        var a = h.Tensor(m * k);
        var bMatrix = h.Tensor(k * n);
        var c = beta == 0f ? h.Tensor(Enumerable.Repeat(float.NaN, m * n).ToArray()) : h.Tensor(m * n);
        if (beta == 0f) h.Reference.Fill(c.Magnitude, 0);
        h.CheckLinear((b, v) => b.MatMul(v.B(a), v.B(bMatrix), v.B(c), m, n, k, transposeA, transposeB, beta), c);
    }

    [Test]
    public void MatrixVectorProductMatchesReference([Values] bool transposeA, [Values] bool transposeB, [Values(0f, 1f)] float beta)
    {
        // n = 1 with a depth over several of the CPU path's partial-sum blocks (and a ragged last one).
        int m = Size(53, 11), k = Size(9001, 301);
        var a = h.Tensor(m * k);
        var vector = h.Tensor(k);
        var c = beta == 0f ? h.Tensor(Enumerable.Repeat(float.NaN, m).ToArray()) : h.Tensor(m);
        if (beta == 0f) h.Reference.Fill(c.Magnitude, 0);
        h.CheckLinear((b, v) => b.MatMul(v.B(a), v.B(vector), v.B(c), m, 1, k, transposeA, transposeB, beta), c);
    }

    [TestCase(1, 1, 1)]
    [TestCase(5, 3, 1)]
    [TestCase(1, 17, 9)]
    [TestCase(16, 16, 16)]
    [TestCase(33, 1, 70)]
    public void MatMulHandlesTinyAndTileSizedShapes(int m, int n, int k)
    {
        var a = h.Tensor(m * k);
        var bMatrix = h.Tensor(k * n);
        var c = h.Tensor(m * n);
        h.CheckLinear((b, v) => b.MatMul(v.B(a), v.B(bMatrix), v.B(c), m, n, k, beta: 1f), c);
        h.CheckLinear((b, v) => b.MatMul(v.B(a), v.B(bMatrix), v.B(c), m, n, k, transposeA: true, transposeB: true), c);
    }

    [Test]
    public void MatMulWithZeroDepthClearsOrKeepsC()
    {
        var a = h.Tensor(1);
        var c = h.Tensor(12);
        h.CheckLinear((b, v) => b.MatMul(v.B(a), v.B(a), v.B(c), 3, 4, 0, beta: 1f), c);
        h.CheckLinear((b, v) => b.MatMul(v.B(a), v.B(a), v.B(c), 3, 4, 0), c);
        var values = new float[12];
        backend.Download(c.Actual, values);
        Assert.That(values, Is.All.Zero);
    }

    private static (double Low, double High) Domain(UnaryOp op) => op switch
    {
        UnaryOp.Log or UnaryOp.Sqrt => (0.05, 4),
        UnaryOp.Softplus or UnaryOp.Sigmoid or UnaryOp.Silu or UnaryOp.Exp => (-12, 12),
        _ => (-4, 4),
    };

    [Test]
    public void UnaryMatchesReference([Values] UnaryOp op)
    {
        var (low, high) = Domain(op);
        var x = h.Tensor(Size(20011, 203), low, high);
        var y = h.Tensor(x.Length);
        h.CheckElementwise((b, v) => b.Unary(op, v.B(x), v.B(y), 0.15f), y);
    }

    [Test]
    public void UnaryMayWorkInPlace([Values(UnaryOp.Silu, UnaryOp.Tanh, UnaryOp.Softplus)] UnaryOp op)
    {
        var x = h.Tensor(Size(10001, 131), -5, 5);
        h.CheckElementwise((b, v) => b.Unary(op, v.B(x), v.B(x)), x);
    }

    [Test]
    public void SoftplusIsAccurateFarFromZero()
    {
        var x = h.Tensor(new[] { -60f, -40f, -20f, -1e-3f, 0f, 1e-3f, 20f, 40f, 90f });
        var y = h.Tensor(x.Length);
        h.CheckElementwise((b, v) => b.Unary(UnaryOp.Softplus, v.B(x), v.B(y)), y);
    }

    [Test]
    public void UnaryBackwardMatchesReference([Values] UnaryOp op, [Values] bool accumulate)
    {
        var (low, high) = Domain(op);
        int length = Size(20011, 203);
        var x = h.Tensor(length, low, high);
        var forward = h.Tensor(length);
        h.Reference.Unary(op, x.Expected, forward.Expected, 0.15f);
        var y = h.Tensor(Harness.Download(h.Reference, forward.Expected).Select(d => (float)d).ToArray());
        var dy = h.Tensor(length);
        var dx = h.Tensor(length);

        backend.UnaryBackward(op, x.Actual, y.Actual, dy.Actual, dx.Actual, 0.15f, accumulate);
        h.Reference.UnaryBackward(op, x.Expected, y.Expected, dy.Expected, dx.Expected, 0.15f, accumulate);
        h.Compare(dx, Enumerable.Range(0, length).Select(i =>
            Math.Abs(dy.Values[i]) * DerivativeTerms(op, x.Values[i], y.Values[i]) + (accumulate ? Math.Abs(dx.Values[i]) : 0)).ToArray());
    }

    /// <summary>Sum of the magnitudes of the terms of f'(x): Silu's derivative crosses zero by cancellation.</summary>
    private static double DerivativeTerms(UnaryOp op, double x, double y)
    {
        if (op != UnaryOp.Silu) return Math.Abs(ReferenceBackend.Derivative(op, x, y, 0.15));
        double s = 1 / (1 + Math.Exp(-x));
        return s * (1 + Math.Abs(x) * (1 - s));
    }

    [Test]
    public void BinaryMatchesReferenceIncludingInPlace([Values] BinaryOp op, [Values("none", "a", "b")] string aliased)
    {
        int length = Size(30011, 257);
        var a = h.Tensor(length);
        var bb = h.Tensor(Enumerable.Range(0, length).Select(_ => (float)((h.Random.Next(2) * 2 - 1) * (0.1 + h.Random.NextDouble()))).ToArray());
        var c = aliased switch { "a" => a, "b" => bb, _ => h.Tensor(length) };
        h.CheckElementwise((b, v) => b.Binary(op, v.B(a), v.B(bb), v.B(c)), c);
    }

    [TestCase(0.7f, 0f)]
    [TestCase(-1.3f, 0.45f)]
    [TestCase(2f, 1f)]
    public void AxpbyMatchesReference(float alpha, float beta)
    {
        int length = Size(30011, 257);
        var x = h.Tensor(length);
        var y = beta == 0f ? h.Tensor(Enumerable.Repeat(float.NaN, length).ToArray()) : h.Tensor(length);
        if (beta == 0f) h.Reference.Fill(y.Magnitude, 0);
        h.CheckLinear((b, v) => b.Axpby(v.S(alpha), v.B(x), v.S(beta), v.B(y)), y);
    }

    [Test]
    public void BroadcastRowAndColumnMatchReference([Values] BinaryOp op)
    {
        int rows = Size(301, 23), cols = Size(67, 13);
        var x = h.Tensor(rows * cols);
        var row = h.Tensor(Enumerable.Range(0, cols).Select(_ => (float)(0.2 + h.Random.NextDouble())).ToArray());
        var column = h.Tensor(Enumerable.Range(0, rows).Select(_ => (float)(-0.2 - h.Random.NextDouble())).ToArray());
        var y = h.Tensor(rows * cols);
        h.CheckElementwise((b, v) => b.BroadcastRow(op, v.B(x), v.B(row), v.B(y), rows, cols), y);
        h.CheckElementwise((b, v) => b.BroadcastColumn(op, v.B(x), v.B(column), v.B(y), rows, cols), y);
        h.CheckElementwise((b, v) => b.BroadcastRow(op, v.B(x), v.B(row), v.B(x), rows, cols), x);
    }

    [Test]
    public void SumRowsAndColumnsMatchReference([Values] bool accumulate, [Values(1, 7, 300)] int cols)
    {
        int rows = Size(2003, 531); // over two ColumnBlockRows blocks on ILGPU
        var x = h.Tensor(rows * cols);
        var rowSums = h.Tensor(rows);
        var columnSums = h.Tensor(cols);
        h.CheckLinear((b, v) => b.SumRows(v.B(x), v.B(rowSums), rows, cols, accumulate), rowSums);
        h.CheckLinear((b, v) => b.SumColumns(v.B(x), v.B(columnSums), rows, cols, accumulate), columnSums);
    }

    [Test]
    public void SumAndDotReturnHostValuesWithinRelativeBound()
    {
        foreach (int length in new[] { 0, 1, 31, Size(100_003, 1003) })
        {
            var x = h.Tensor(length);
            var y = h.Tensor(length);
            double sum = backend.Sum(x.Actual), expectedSum = h.Reference.Sum(x.Expected);
            double dot = backend.Dot(x.Actual, y.Actual), expectedDot = h.Reference.Dot(x.Expected, y.Expected);
            double sumBound = Harness.Tolerance * h.Reference.Sum(x.Magnitude);
            double dotBound = Harness.Tolerance * h.Reference.Dot(x.Magnitude, y.Magnitude);
            Assert.That(sum, Is.EqualTo(expectedSum).Within(sumBound), $"Sum of {length}");
            Assert.That(dot, Is.EqualTo(expectedDot).Within(dotBound), $"Dot of {length}");
        }
    }

    [Test]
    public void GatherAndScatterAddRowsWithRepeatedIndices([Values(1, 5, 48)] int cols)
    {
        int sourceRows = Size(997, 31), rows = Size(5003, 97);
        var table = h.Tensor(sourceRows * cols);
        var index = h.Indices(h.RandomIndices(rows, sourceRows));
        var gathered = h.Tensor(rows * cols);
        h.CheckLinear((b, v) => b.GatherRows(v.B(table), v.I(index), v.B(gathered), rows, cols), gathered);
        var scattered = h.Tensor(sourceRows * cols);
        h.CheckLinear((b, v) => b.ScatterAddRows(v.B(gathered), v.I(index), v.B(scattered), rows, cols), scattered);
    }

    [Test]
    public void SegmentSumWithEmptySegments([Values] bool accumulate, [Values(1, 19)] int cols)
    {
        int segments = Size(3001, 41);
        var offsets = h.Offsets(segments, 9);
        var o = h.Indices(offsets);
        var source = h.Tensor(offsets[^1] * cols);
        var destination = h.Tensor(segments * cols);
        h.CheckLinear((b, v) => b.SegmentSum(v.B(source), v.I(o), v.B(destination), segments, cols, accumulate), destination);
    }

    [Test]
    public void SegmentSoftmaxWithEmptyAndSingleEdgeSegments([Values(1, 4)] int heads)
    {
        int segments = Size(3001, 41);
        var offsets = h.Offsets(segments, 12);
        offsets = [0, 1, .. offsets.Skip(1).Select(x => x + 1)];
        var o = h.Indices(offsets);
        var scores = h.Tensor(offsets[^1] * heads, -8, 8);
        var probabilities = h.Tensor(offsets[^1] * heads);
        h.CheckElementwise((b, v) => b.SegmentSoftmax(v.B(scores), v.I(o), v.B(probabilities), segments + 1, heads),
            probabilities, absolute: 1e-12);
    }

    [Test]
    public void SegmentSoftmaxBackwardMatchesReference([Values] bool accumulate)
    {
        int segments = Size(3001, 41), heads = 3;
        var offsets = h.Offsets(segments, 12);
        var o = h.Indices(offsets);
        int edges = offsets[^1];
        var scores = h.Tensor(edges * heads, -4, 4);
        var p = h.Tensor(edges * heads);
        h.Reference.SegmentSoftmax(scores.Expected, o.Expected, p.Expected, segments, heads);
        p = h.Tensor(Harness.Download(h.Reference, p.Expected).Select(d => (float)d).ToArray());
        var dp = h.Tensor(edges * heads);
        var dScores = h.Tensor(edges * heads);
        var before = dScores.Values.ToArray();
        backend.SegmentSoftmaxBackward(p.Actual, dp.Actual, o.Actual, dScores.Actual, segments, heads, accumulate);
        h.Reference.SegmentSoftmaxBackward(p.Expected, dp.Expected, o.Expected, dScores.Expected, segments, heads, accumulate);

        // |p| * (|dp| + sum |p dp|) bounds the terms of p * (dp - sum p dp).
        var bound = new double[edges * heads];
        for (int s = 0; s < segments; s++)
        for (int hd = 0; hd < heads; hd++)
        {
            double inner = 0;
            for (int e = offsets[s]; e < offsets[s + 1]; e++) inner += Math.Abs(p.Values[e * heads + hd] * dp.Values[e * heads + hd]);
            for (int e = offsets[s]; e < offsets[s + 1]; e++)
            {
                int at = e * heads + hd;
                bound[at] = Math.Abs(p.Values[at]) * (Math.Abs(dp.Values[at]) + inner) + (accumulate ? Math.Abs(before[at]) : 0);
            }
        }

        h.Compare(dScores, bound);
    }

    [TestCase(4, 16)]
    [TestCase(3, 5)]
    [TestCase(1, 1)]
    public void SegmentWeightedGatherSumMatchesReference(int heads, int headDim)
    {
        int segments = Size(2001, 37), valueRows = Size(1500, 29);
        var offsets = h.Offsets(segments, 14);
        var o = h.Indices(offsets);
        var source = h.Indices(h.RandomIndices(offsets[^1], valueRows));
        var weights = h.Tensor(offsets[^1] * heads, 0, 1);
        var values = h.Tensor(valueRows * heads * headDim);
        var output = h.Tensor(Enumerable.Repeat(float.NaN, segments * heads * headDim).ToArray());
        h.Reference.Fill(output.Magnitude, 0);
        h.CheckLinear((b, v) => b.SegmentWeightedGatherSum(v.B(weights), v.B(values), v.I(source), v.I(o), v.B(output),
            segments, heads, headDim), output);
    }

    [TestCase(false, true, true)]
    [TestCase(true, true, true)]
    [TestCase(false, true, false)]
    [TestCase(true, true, false)]
    [TestCase(false, false, true)]
    public void SegmentWeightedGatherSumBackwardMatchesReference(bool accumulateWeights, bool wantWeights, bool wantValues)
    {
        int segments = Size(2001, 37), valueRows = Size(1500, 29), heads = 4, headDim = 6;
        var offsets = h.Offsets(segments, 14);
        var o = h.Indices(offsets);
        var source = h.Indices(h.RandomIndices(offsets[^1], valueRows));
        var weights = h.Tensor(offsets[^1] * heads, -1, 1);
        var values = h.Tensor(valueRows * heads * headDim);
        var dOutput = h.Tensor(segments * heads * headDim);
        var dWeights = wantWeights ? h.Tensor(offsets[^1] * heads) : null;
        var dValues = wantValues ? h.Tensor(valueRows * heads * headDim) : null;
        var outputs = new[] { dWeights, dValues }.OfType<Trio>().ToArray();
        h.CheckLinear((b, v) => b.SegmentWeightedGatherSumBackward(v.B(weights), v.B(values), v.I(source), v.I(o),
            v.B(dOutput), v.Maybe(dWeights), v.Maybe(dValues), segments, heads, headDim, accumulateWeights), outputs);
    }

    [TestCase(UnaryOp.Silu)]
    [TestCase(UnaryOp.Tanh)]
    [TestCase(UnaryOp.LeakyRelu)]
    [TestCase(UnaryOp.Sigmoid)]
    [TestCase(UnaryOp.Identity)]
    public void FeatureProjectionMatchesReference(UnaryOp activation)
    {
        int rows = Size(211, 7), features = Size(37, 5), cols = 24;
        var x = h.Tensor(rows * features);
        var weights = h.Tensor(features * cols);
        var biases = h.Tensor(features * cols);
        var y = h.Tensor(Enumerable.Repeat(float.NaN, rows * features * cols).ToArray());
        backend.FeatureProjection(activation, x.Actual, weights.Actual, biases.Actual, y.Actual, rows, features, cols, 0.15f);
        h.Reference.FeatureProjection(activation, x.Expected, weights.Expected, biases.Expected, y.Expected, rows, features, cols, 0.15f);
        var expected = Harness.Download(h.Reference, y.Expected);
        // Rounding of the pre-activation is carried through by the derivative; the activation's own rounding by |y|.
        h.Compare(y, expected.Select((e, at) =>
        {
            int slot = at / cols, parameter = slot % features * cols + at % cols;
            double pre = Math.Abs(x.Values[slot] * weights.Values[parameter]) + Math.Abs(biases.Values[parameter]);
            return Math.Abs(e) + pre * DerivativeTerms(activation, pre, e);
        }).ToArray());
    }

    [TestCase(UnaryOp.Silu, false, true, true, true)]
    [TestCase(UnaryOp.Silu, true, true, true, true)]
    [TestCase(UnaryOp.Tanh, false, true, false, true)]
    [TestCase(UnaryOp.LeakyRelu, true, false, true, false)]
    public void FeatureProjectionBackwardMatchesReference(UnaryOp activation, bool accumulateX, bool wantX, bool wantWeights, bool wantBiases)
    {
        int rows = Size(211, 7), features = Size(37, 5), cols = 24;
        var x = h.Tensor(rows * features);
        var weights = h.Tensor(features * cols);
        var biases = h.Tensor(features * cols);
        var forward = h.Tensor(rows * features * cols);
        h.Reference.FeatureProjection(activation, x.Expected, weights.Expected, biases.Expected, forward.Expected, rows, features, cols, 0.15f);
        var y = h.Tensor(Harness.Download(h.Reference, forward.Expected).Select(d => (float)d).ToArray());
        var dy = h.Tensor(rows * features * cols);
        var dx = wantX ? h.Tensor(rows * features) : null;
        var dWeights = wantWeights ? h.Tensor(features * cols) : null;
        var dBiases = wantBiases ? h.Tensor(features * cols) : null;
        backend.FeatureProjectionBackward(activation, x.Actual, weights.Actual, biases.Actual, y.Actual, dy.Actual, dx?.Actual,
            dWeights?.Actual, dBiases?.Actual, rows, features, cols, 0.15f, accumulateX);
        h.Reference.FeatureProjectionBackward(activation, x.Expected, weights.Expected, biases.Expected, y.Expected, dy.Expected,
            dx?.Expected, dWeights?.Expected, dBiases?.Expected, rows, features, cols, 0.15f, accumulateX);

        // Error bounds: the same sums taken over the magnitudes of their terms, plus any accumulated old value.
        var dxBound = dx is null ? null : dx.Values.Select(v => accumulateX ? (double)Math.Abs(v) : 0).ToArray();
        var dWeightsBound = dWeights?.Values.Select(v => (double)Math.Abs(v)).ToArray();
        var dBiasesBound = dBiases?.Values.Select(v => (double)Math.Abs(v)).ToArray();
        for (int slot = 0; slot < rows * features; slot++)
        for (int j = 0; j < cols; j++)
        {
            int at = slot * cols + j, parameter = slot % features * cols + j;
            double pre = x.Values[slot] * (double)weights.Values[parameter] + biases.Values[parameter];
            double term = Math.Abs(dy.Values[at]) * DerivativeTerms(activation, pre, y.Values[at]);
            if (dxBound is not null) dxBound[slot] += term * Math.Abs(weights.Values[parameter]);
            if (dWeightsBound is not null) dWeightsBound[parameter] += term * Math.Abs(x.Values[slot]);
            if (dBiasesBound is not null) dBiasesBound[parameter] += term;
        }

        if (dx is not null) h.Compare(dx, dxBound!);
        if (dWeights is not null) h.Compare(dWeights, dWeightsBound!);
        if (dBiases is not null) h.Compare(dBiases, dBiasesBound!);
    }

    [Test]
    public void SaeEncodeMatchesReference([Values(1, 3)] int heads, [Values] bool logits, [Values] bool repeatedValues)
    {
        int rows = Size(97, 5), features = Size(37, 6), hidden = heads * Size(8, 3);
        var (x, weights, biases, scoreWeights) = SaeInputs(rows, features, hidden, heads, repeatedValues);
        var featureLogits = logits ? h.Tensor(features * heads) : null;
        var encoded = h.Tensor(Enumerable.Repeat(float.NaN, rows * hidden).ToArray());
        var coefficients = h.Tensor(Enumerable.Repeat(float.NaN, rows * features * heads).ToArray());
        backend.SaeEncode(x.Actual, weights.Actual, biases.Actual, scoreWeights.Actual, featureLogits?.Actual, encoded.Actual, coefficients.Actual,
            rows, features, hidden, heads, 1 / 0.3f);
        h.Reference.SaeEncode(x.Expected, weights.Expected, biases.Expected, scoreWeights.Expected, featureLogits?.Expected, encoded.Expected,
            coefficients.Expected, rows, features, hidden, heads, 1 / 0.3f);
        h.Compare(encoded, ScaleOf(encoded));
        h.Compare(coefficients, ScaleOf(coefficients));
        var sums = Harness.Download(h.Reference, coefficients.Expected).Chunk(features * heads)
            .SelectMany(row => Enumerable.Range(0, heads).Select(k => row.Where((_, at) => at % heads == k).Sum()));
        Assert.That(sums, Is.All.EqualTo(1).Within(1e-12), "each row's coefficients of each head sum to 1");
    }

    [Test]
    public void SaeEncodeBackwardMatchesReference([Values(1, 3)] int heads, [Values] bool coefficientGradient, [Values] bool repeatedValues)
    {
        // Over 64 rows and 256 slots on every device: the GPU kernels' row and slot blocks are summed across blocks.
        int rows = Size(150, 70), features = Size(37, 6), hidden = heads * Size(8, 3);
        var (x, weights, biases, scoreWeights) = SaeInputs(rows, features, hidden, heads, repeatedValues);
        var forward = h.Tensor(rows * features * heads);
        using (var encoded = h.Reference.Allocate(rows * hidden))
            h.Reference.SaeEncode(x.Expected, weights.Expected, biases.Expected, scoreWeights.Expected, null, encoded, forward.Expected,
                rows, features, hidden, heads, 2f);
        var coefficients = h.Tensor(Harness.Download(h.Reference, forward.Expected).Select(d => (float)d).ToArray());
        var dEncoded = h.Tensor(rows * hidden);
        var dCoefficients = coefficientGradient ? h.Tensor(rows * features * heads) : null;
        // Gradients start non-zero: they must accumulate.
        var dWeights = h.Tensor(features * hidden);
        var dBiases = h.Tensor(features * hidden);
        var dScoreWeights = h.Tensor(hidden * heads);
        var dFeatureLogits = h.Tensor(features * heads);
        backend.SaeEncodeBackward(x.Actual, weights.Actual, biases.Actual, scoreWeights.Actual, coefficients.Actual, dEncoded.Actual,
            dCoefficients?.Actual, dWeights.Actual, dBiases.Actual, dScoreWeights.Actual, dFeatureLogits.Actual, rows, features, hidden, heads, 2f);
        h.Reference.SaeEncodeBackward(x.Expected, weights.Expected, biases.Expected, scoreWeights.Expected, coefficients.Expected, dEncoded.Expected,
            dCoefficients?.Expected, dWeights.Expected, dBiases.Expected, dScoreWeights.Expected, dFeatureLogits.Expected, rows, features, hidden,
            heads, 2f);
        foreach (var gradient in new[] { dWeights, dBiases, dScoreWeights, dFeatureLogits })
        {
            var added = Harness.Download(h.Reference, gradient.Expected).Select((v, i) => v - gradient.Values[i]).ToArray();
            Assert.That(added.Max(Math.Abs), Is.GreaterThan(1e-3), "the gradient is non-trivial");
            h.Compare(gradient, ScaleOf(gradient));
        }
    }

    [Test]
    public void SaeEncodeBackwardAfterItsOwnForwardMatchesReference([Values] bool sameInputs)
    {
        // A backend may keep what the forward pass computed for the backward pass of the same inputs: with other inputs
        // in between (sameInputs false), what it kept must not be used.
        int rows = Size(150, 70), features = Size(37, 6), heads = 3, hidden = heads * Size(8, 3);
        var (x, weights, biases, scoreWeights) = SaeInputs(rows, features, hidden, heads, repeatedValues: true);
        var featureLogits = h.Tensor(features * heads);
        var encoded = h.Tensor(rows * hidden);
        var coefficients = h.Tensor(rows * features * heads);
        backend.SaeEncode(x.Actual, weights.Actual, biases.Actual, scoreWeights.Actual, featureLogits.Actual, encoded.Actual, coefficients.Actual,
            rows, features, hidden, heads, 2f);
        h.Reference.SaeEncode(x.Expected, weights.Expected, biases.Expected, scoreWeights.Expected, featureLogits.Expected, encoded.Expected,
            coefficients.Expected, rows, features, hidden, heads, 2f);
        if (!sameInputs)
        {
            var other = h.Tensor(RepeatedValues(rows, features));
            using var otherEncoded = backend.Allocate(rows * hidden);
            using var otherCoefficients = backend.Allocate(rows * features * heads);
            backend.SaeEncode(other.Actual, weights.Actual, biases.Actual, scoreWeights.Actual, featureLogits.Actual, otherEncoded, otherCoefficients,
                rows, features, hidden, heads, 2f);
        }

        var exactCoefficients = h.Tensor(Harness.Download(h.Reference, coefficients.Expected).Select(d => (float)d).ToArray());
        var dEncoded = h.Tensor(rows * hidden);
        var dCoefficients = h.Tensor(rows * features * heads);
        var dWeights = h.Tensor(features * hidden);
        var dBiases = h.Tensor(features * hidden);
        var dScoreWeights = h.Tensor(hidden * heads);
        var dFeatureLogits = h.Tensor(features * heads);
        backend.SaeEncodeBackward(x.Actual, weights.Actual, biases.Actual, scoreWeights.Actual, exactCoefficients.Actual, dEncoded.Actual,
            dCoefficients.Actual, dWeights.Actual, dBiases.Actual, dScoreWeights.Actual, dFeatureLogits.Actual, rows, features, hidden, heads, 2f);
        h.Reference.SaeEncodeBackward(x.Expected, weights.Expected, biases.Expected, scoreWeights.Expected, exactCoefficients.Expected,
            dEncoded.Expected, dCoefficients.Expected, dWeights.Expected, dBiases.Expected, dScoreWeights.Expected, dFeatureLogits.Expected,
            rows, features, hidden, heads, 2f);
        foreach (var gradient in new[] { dWeights, dBiases, dScoreWeights, dFeatureLogits })
            h.Compare(gradient, ScaleOf(gradient));
    }

    [Test]
    public void SaeEncodeOverManyRowsMatchesReference()
    {
        // The perovskite shape (195 features, 48 wide) over more rows than the host backend codes in one chunk (448).
        int rows = Size(500, 12), features = Size(195, 7), hidden = Size(48, 4);
        var (x, weights, biases, scoreWeights) = SaeInputs(rows, features, hidden, 1, repeatedValues: true);
        var encoded = h.Tensor(rows * hidden);
        var coefficients = h.Tensor(rows * features);
        backend.SaeEncode(x.Actual, weights.Actual, biases.Actual, scoreWeights.Actual, null, encoded.Actual, coefficients.Actual,
            rows, features, hidden, 1, 1 / 0.3f);
        h.Reference.SaeEncode(x.Expected, weights.Expected, biases.Expected, scoreWeights.Expected, null, encoded.Expected,
            coefficients.Expected, rows, features, hidden, 1, 1 / 0.3f);
        h.Compare(encoded, ScaleOf(encoded));
        h.Compare(coefficients, ScaleOf(coefficients));

        var dEncoded = h.Tensor(rows * hidden);
        var dWeights = h.Tensor(new float[features * hidden]);
        var dScoreWeights = h.Tensor(new float[hidden]);
        var exactCoefficients = h.Tensor(Harness.Download(h.Reference, coefficients.Expected).Select(d => (float)d).ToArray());
        backend.SaeEncodeBackward(x.Actual, weights.Actual, biases.Actual, scoreWeights.Actual, exactCoefficients.Actual, dEncoded.Actual,
            null, dWeights.Actual, null, dScoreWeights.Actual, null, rows, features, hidden, 1, 1 / 0.3f);
        h.Reference.SaeEncodeBackward(x.Expected, weights.Expected, biases.Expected, scoreWeights.Expected, exactCoefficients.Expected,
            dEncoded.Expected, null, dWeights.Expected, null, dScoreWeights.Expected, null, rows, features, hidden, 1, 1 / 0.3f);
        h.Compare(dWeights, ScaleOf(dWeights));
        h.Compare(dScoreWeights, ScaleOf(dScoreWeights));
    }

    /// <summary>
    /// Features in [-2, 2], projections of unit scale with small biases, and score weights, as the SAE sees them. With
    /// <paramref name="repeatedValues"/>, each feature draws from a few values (one for some features, 0 and -0 among
    /// them), as elemental and crystal descriptors repeat over a batch's atoms: the host backend projects each distinct
    /// value once and gathers its gradient from every slot that holds it.
    /// </summary>
    private (Trio X, Trio Weights, Trio Biases, Trio ScoreWeights) SaeInputs(int rows, int features, int hidden, int heads,
        bool repeatedValues = false)
    {
        var x = repeatedValues ? h.Tensor(RepeatedValues(rows, features)) : h.Tensor(rows * features, -2, 2);
        return (x, h.Tensor(features * hidden), h.Tensor(features * hidden, -0.3, 0.3), h.Tensor(hidden * heads));
    }

    private float[] RepeatedValues(int rows, int features)
    {
        var choices = Enumerable.Range(0, features).Select(f => f % 5 == 0 ? [f % 2 == 0 ? 0f : -0f]
            : Enumerable.Range(0, 1 + h.Random.Next(4)).Select(_ => (float)(4 * h.Random.NextDouble() - 2)).Append(0f).ToArray()).ToArray();
        var values = new float[rows * features];
        for (int r = 0; r < rows; r++)
        for (int f = 0; f < features; f++)
            values[r * features + f] = choices[f][h.Random.Next(choices[f].Length)];
        return values;
    }

    /// <summary>
    /// A bound for sums of many float32 terms through SiLU, exp and softmax: 30 x the largest expected magnitude of the
    /// output (relative error 3e-4 against it), where a wrong index or head gives errors of the order of that magnitude.
    /// </summary>
    private double[] ScaleOf(Trio output)
    {
        var expected = Harness.Download(h.Reference, output.Expected);
        double scale = 30 * expected.Max(Math.Abs);
        return Enumerable.Repeat(scale, expected.Length).ToArray();
    }

    [Test]
    public void CopyColumnsSlicesAndConcatenates([Values] bool accumulate)
    {
        int rows = Size(3001, 53);
        var source = h.Tensor(rows * 11);
        var destination = h.Tensor(rows * 20);
        h.CheckLinear((b, v) => b.CopyColumns(v.B(source), 11, 3, v.B(destination), 20, 9, rows, 8, accumulate), destination);
        h.CheckLinear((b, v) => b.CopyColumns(v.B(source), 11, 0, v.B(destination), 20, 0, rows, 11, accumulate), destination);
    }

    [TestCase(0f)]
    [TestCase(0.01f)]
    public void AdamStepMatchesReferenceOverSeveralSteps(float weightDecay)
    {
        int length = Size(20011, 203);
        var parameters = h.Tensor(length);
        var gradients = h.Tensor(length);
        var first = h.Tensor(length, -0.1, 0.1);
        var second = h.Tensor(length, 0, 0.1);
        for (int step = 1; step <= 3; step++)
        {
            var oldParameters = Harness.Download(h.Reference, parameters.Expected);
            var oldFirst = Harness.Download(h.Reference, first.Expected);
            backend.AdamStep(parameters.Actual, gradients.Actual, first.Actual, second.Actual, 1e-2f, 0.9f, 0.999f, 1e-8f, weightDecay, step);
            h.Reference.AdamStep(parameters.Expected, gradients.Expected, first.Expected, second.Expected, 1e-2f, 0.9f, 0.999f, 1e-8f, weightDecay, step);
            var newParameters = Harness.Download(h.Reference, parameters.Expected);
            h.Compare(parameters, oldParameters.Select((p, i) => Math.Abs(p) + Math.Abs(newParameters[i] - p)).ToArray());
            h.Compare(first, oldFirst.Select((m, i) => 0.9 * Math.Abs(m) + 0.1 * Math.Abs(gradients.Values[i])).ToArray());
            h.Compare(second, Harness.Download(h.Reference, second.Expected).Select(Math.Abs).ToArray());
        }
    }
}
