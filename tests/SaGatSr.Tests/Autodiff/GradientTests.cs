using SaGatSr.Autodiff;
using SaGatSr.Kernels;

namespace SaGatSr.Tests.Autodiff;

/// <summary>Every op's backward against central finite differences in float64, on fresh random shapes and data.</summary>
public class GradientTests
{
    private delegate (Tensor[] Inputs, Func<Tensor[], Tensor> Op) CaseBuilder(GradientSetup s);

    private static readonly Dictionary<string, CaseBuilder> Cases = new()
    {
        ["MatMul"] = s => MatMulCase(s, false, false),
        ["MatMulTransposeA"] = s => MatMulCase(s, true, false),
        ["MatMulTransposeB"] = s => MatMulCase(s, false, true),
        ["MatMulTransposeBoth"] = s => MatMulCase(s, true, true),
        ["MatMulSameOperandTwice"] = s => ([s.Random(s.Size(1, 4), s.Size(1, 4))], x => Ops.MatMul(x[0], x[0], transposeB: true)),
        ["Linear"] = s =>
        {
            int m = s.Size(1, 5), i = s.Size(1, 4), o = s.Size(1, 4);
            return ([s.Random(m, i), s.Random(i, o), s.Random(o)], x => Ops.Linear(x[0], x[1], x[2]));
        },
        ["LinearNoBiasRank3"] = s =>
        {
            int i = s.Size(1, 4), o = s.Size(1, 4);
            return ([s.Random(2, s.Size(1, 3), i), s.Random(i, o)], x => Ops.Linear(x[0], x[1], null));
        },
        ["Add"] = s => Binary(s, Ops.Add),
        ["Sub"] = s => Binary(s, Ops.Sub),
        ["Mul"] = s => Binary(s, Ops.Mul),
        ["MulSameOperandTwice"] = s => ([s.Random(s.Size(1, 4), s.Size(1, 4))], x => Ops.Mul(x[0], x[0])),
        ["Div"] = s =>
        {
            int r = s.Size(1, 4), c = s.Size(1, 4);
            return ([s.Random(r, c), s.AwayFromZero(r, c)], x => Ops.Div(x[0], x[1]));
        },
        ["AddRow"] = s => RowCase(s, Ops.AddRow),
        ["MulRow"] = s => RowCase(s, Ops.MulRow),
        ["MulColumn"] = s =>
        {
            int r = s.Size(1, 4), c = s.Size(1, 4);
            return ([s.Random(r, c), s.Random(r)], x => Ops.MulColumn(x[0], x[1]));
        },
        ["DivColumn"] = s =>
        {
            int r = s.Size(1, 4), c = s.Size(1, 4);
            return ([s.Random(r, c), s.AwayFromZero(r)], x => Ops.DivColumn(x[0], x[1]));
        },
        ["Scale"] = s => ([s.Random(s.Size(1, 4), s.Size(1, 4))], x => Ops.Scale(x[0], -1.75f)),
        ["AddScalar"] = s => ([s.Random(s.Size(1, 4), s.Size(1, 4))], x => Ops.AddScalar(x[0], 0.5f)),
        ["Relu"] = s => Unary(s, s.AwayFromZero, Ops.Relu),
        ["LeakyRelu"] = s => Unary(s, s.AwayFromZero, x => Ops.LeakyRelu(x, 0.1f)),
        ["Sigmoid"] = s => Unary(s, s.Random, Ops.Sigmoid),
        ["Tanh"] = s => Unary(s, s.Random, Ops.Tanh),
        ["Silu"] = s => Unary(s, s.Random, Ops.Silu),
        ["Softplus"] = s => Unary(s, s.Random, Ops.Softplus),
        ["Exp"] = s => Unary(s, s.Random, Ops.Exp),
        ["Log"] = s => Unary(s, s.Positive, Ops.Log),
        ["Square"] = s => Unary(s, s.Random, Ops.Square),
        ["Sqrt"] = s => Unary(s, s.Positive, Ops.Sqrt),
        ["Abs"] = s => Unary(s, s.AwayFromZero, Ops.Abs),
        ["Neg"] = s => Unary(s, s.Random, Ops.Neg),
        ["Reshape"] = s => ([s.Random(2, 3, 2)], x => Ops.Square(x[0].Reshape(3, 4))),
        ["Gather"] = s =>
        {
            int rows = s.Size(1, 4);
            var index = s.Indices(s.Size(1, 8), rows);
            return ([s.Random(rows, s.Size(1, 3))], x => Ops.Gather(x[0], index));
        },
        ["ScatterAdd"] = s =>
        {
            int rows = s.Size(1, 6), outputs = s.Size(1, 4);
            var index = s.Indices(rows, outputs);
            return ([s.Random(rows, s.Size(1, 3))], x => Ops.ScatterAdd(x[0], index, outputs));
        },
        ["SegmentSum"] = s =>
        {
            var segments = s.RandomSegments();
            return ([s.Random(segments.TotalRows, s.Size(1, 3))], x => Ops.SegmentSum(x[0], segments));
        },
        ["SegmentMean"] = s =>
        {
            var segments = s.RandomSegments();
            return ([s.Random(segments.TotalRows, s.Size(1, 3))], x => Ops.SegmentMean(x[0], segments));
        },
        ["BroadcastSegments"] = s =>
        {
            var segments = s.RandomSegments();
            return ([s.Random(segments.Count, s.Size(1, 3))], x => Ops.BroadcastSegments(x[0], segments));
        },
        ["SegmentSoftmax"] = s =>
        {
            var segments = s.RandomSegments();
            return ([s.Random(segments.TotalRows, s.Size(1, 3))], x => Ops.SegmentSoftmax(x[0], segments));
        },
        ["SegmentWeightedGatherSum"] = s =>
        {
            var segments = s.RandomSegments();
            int heads = s.Size(1, 3), headDim = s.Size(1, 3), nodes = s.Size(1, 4);
            var sources = s.Indices(segments.TotalRows, nodes);
            return ([s.Random(segments.TotalRows, heads), s.Random(nodes, heads * headDim)],
                x => Ops.SegmentWeightedGatherSum(x[0], x[1], sources, segments, heads));
        },
        ["Concat"] = s =>
        {
            int r = s.Size(1, 4);
            return ([s.Random(r, s.Size(1, 3)), s.Random(r, s.Size(1, 3))], x => Ops.Concat(x[0], x[1], x[0]));
        },
        ["SliceColumns"] = s =>
        {
            int c = s.Size(2, 6), offset = s.Size(0, c - 1), width = s.Size(1, c - offset);
            // Used twice so the accumulation into an existing gradient is exercised too.
            return ([s.Random(s.Size(1, 4), c)], x => Ops.Add(Ops.SliceColumns(x[0], offset, width), Ops.SliceColumns(x[0], c - width, width)));
        },
        ["Sum"] = s => ([s.Random(s.Size(1, 4), s.Size(1, 4))], x => Ops.Sum(x[0])),
        ["Mean"] = s => ([s.Random(s.Size(1, 4), s.Size(1, 4))], x => Ops.Mean(x[0])),
        ["SumRows"] = s => ([s.Random(s.Size(1, 4), s.Size(1, 4))], x => Ops.SumRows(x[0])),
        ["SumColumns"] = s => ([s.Random(s.Size(1, 4), s.Size(1, 4))], x => Ops.SumColumns(x[0])),
        ["MeanColumns"] = s => ([s.Random(s.Size(1, 4), s.Size(1, 4))], x => Ops.MeanColumns(x[0])),
        ["LayerNorm"] = s =>
        {
            // Two columns of random values are too often nearly equal: a variance near zero makes finite differences
            // ill-conditioned (a seed gave a gradient of -26 off by 2.9e-5 relative).
            int c = s.Size(3, 5);
            return ([s.Random(s.Size(1, 4), c), s.Random(c), s.Random(c)], x => Ops.LayerNorm(x[0], x[1], x[2]));
        },
        ["MseLoss"] = s =>
        {
            int r = s.Size(1, 4), c = s.Size(1, 4);
            return ([s.Random(r, c), s.Random(r, c)], x => Ops.MseLoss(x[0], x[1]));
        },
        ["L1Loss"] = s =>
        {
            int r = s.Size(1, 4), c = s.Size(1, 4);
            var prediction = s.Random(r, c);
            var offsets = s.AwayFromZero(r, c).ToDoubleArray();
            // Every difference stays at least 0.2 away from the kink of |.|.
            var target = s.Parameter([r, c], () => 0);
            target.Upload(prediction.ToDoubleArray().Select((p, i) => p - offsets[i]).ToArray());
            return ([prediction, target], x => Ops.L1Loss(x[0], x[1]));
        },
        ["BinaryCrossEntropyWithLogits"] = s =>
        {
            int r = s.Size(1, 5), c = s.Size(1, 3);
            // Targets of both classes (the logits get the gradient; the 0/1 targets are data).
            var target = s.Parameter([r, c], () => s.Rng.Next(2));
            return ([s.Random(r, c), target], x => Ops.BinaryCrossEntropyWithLogits(x[0], x[1]));
        },
        ["BinaryCrossEntropyWithLogitsWeighted"] = s =>
        {
            int r = s.Size(1, 5);
            var target = s.Parameter([r, 1], () => s.Rng.Next(2));
            var weights = Enumerable.Range(0, r).Select(_ => 0.5 + 4 * s.Rng.NextDouble()).ToArray();
            // Logits out to +-4, where the softplus saturates.
            return ([s.Parameter([r, 1], () => 8 * s.Rng.NextDouble() - 4), target], x =>
            {
                var w = Tensor.FromArray(x[0].Backend, weights, r, 1);
                return Ops.BinaryCrossEntropyWithLogits(x[0], x[1], w);
            });
        },
        ["SoftmaxRows"] = s => ([s.Random(s.Size(1, 3), s.Size(2, 4), s.Size(2, 4))], x => Ops.SoftmaxRows(x[0])),
        ["MulScalar"] = s => ([s.Random(s.Size(1, 4), s.Size(1, 4)), s.Random(1)], x => Ops.MulScalar(x[0], x[1])),
        // A fresh generator with a fixed seed on every call keeps the mask the same across finite-difference evaluations.
        ["Dropout"] = s => ([s.Random(s.Size(2, 4), s.Size(2, 4))], x => Ops.Dropout(x[0], 0.25f, new Random(5))),
        ["FeatureProjectionSilu"] = s => FeatureProjectionCase(s, UnaryOp.Silu),
        ["FeatureProjectionTanh"] = s => FeatureProjectionCase(s, UnaryOp.Tanh),
        ["SaeEncoderChain"] = s =>
        {
            // The SAE encoder's ops; the input is also added to the output, so its gradient accumulates.
            int atoms = s.Size(1, 3), features = s.Size(2, 4), hidden = s.Size(1, 3);
            var slots = Segments.Uniform(s.Backend, atoms, features);
            var slotIndex = s.Indices(Enumerable.Range(0, atoms * features).ToArray());
            return ([s.Random(atoms, features), s.Random(features, hidden), s.Random(features, hidden), s.Random(hidden, 1)], x =>
            {
                var perFeature = Ops.FeatureProjection(x[0], x[1], x[2], UnaryOp.Silu);
                var importance = Ops.SegmentSoftmax(Ops.MatMul(perFeature, x[3]), slots);
                var encoded = Ops.SegmentWeightedGatherSum(importance, perFeature, slotIndex, slots, heads: 1);
                return Ops.Concat(encoded, Ops.Square(x[0]));
            });
        },
        ["SaeEncodeOneHead"] = s => SaeEncodeCase(s, heads: 1, logits: false, temperature: 1f, encoded: true, coefficients: false),
        ["SaeEncodeHeadsLogitsTemperature"] = s => SaeEncodeCase(s, heads: 2, logits: true, temperature: 0.5f, encoded: true, coefficients: true),
        ["SaeEncodeCoefficientsOnly"] = s => SaeEncodeCase(s, heads: 2, logits: true, temperature: 0.7f, encoded: false, coefficients: true),
        ["AttentionLayerChain"] = s =>
        {
            // A GAT-style block: project, score edges, softmax per destination, aggregate, normalise.
            var segments = s.RandomSegments();
            int nodes = s.Size(2, 4), heads = 2, headDim = 2, features = 3;
            // Distinct sources within the first segment, else its attention is constant and has no gradient.
            var sources = s.Indices(Enumerable.Range(0, segments.TotalRows).Select(e => e % nodes).ToArray());
            return ([s.Random(nodes, features), s.Random(features, heads * headDim), s.Random(heads * headDim, heads)], x =>
            {
                var h = Ops.Linear(x[0], x[1], null);
                var messages = Ops.Gather(h, sources);
                var scores = Ops.LeakyRelu(Ops.MatMul(messages, x[2]));
                var attention = Ops.SegmentSoftmax(scores, segments);
                var aggregated = Ops.SegmentWeightedGatherSum(attention, h, sources, segments, heads);
                var edgeMean = Ops.SegmentMean(Ops.SliceColumns(messages, 0, 1), segments);
                return Ops.Tanh(Ops.Concat(aggregated, edgeMean));
            });
        },
    };

    public static IEnumerable<string> CaseNames => Cases.Keys;

    [TestCaseSource(nameof(CaseNames))]
    public void BackwardMatchesFiniteDifferences(string name)
    {
        // Several fresh random shapes per op; the seed is in the message of any failure.
        for (int trial = 0; trial < 3; trial++)
        {
            int seed = TestContext.CurrentContext.Random.Next();
            using var setup = new GradientSetup(seed);
            var (inputs, op) = Cases[name](setup);
            try
            {
                GradientCheck.Check(setup, inputs, op);
            }
            catch (AssertionException)
            {
                TestContext.Out.WriteLine($"{name}: failing seed {seed}");
                throw;
            }
        }
    }

    private static (Tensor[], Func<Tensor[], Tensor>) FeatureProjectionCase(GradientSetup s, UnaryOp activation)
    {
        int rows = s.Size(1, 3), features = s.Size(1, 4), cols = s.Size(1, 3);
        return ([s.Random(rows, features), s.Random(features, cols), s.Random(features, cols)],
            x => Ops.FeatureProjection(x[0], x[1], x[2], activation));
    }

    /// <summary>The fused SAE with data x (no gradient), its output the encoding, the coefficients or both side by side.</summary>
    private static (Tensor[], Func<Tensor[], Tensor>) SaeEncodeCase(GradientSetup s, int heads, bool logits, float temperature, bool encoded,
        bool coefficients)
    {
        int rows = s.Size(1, 3), features = s.Size(2, 4), hidden = heads * s.Size(1, 2);
        var x = Tensor.FromArray(s.Backend, Enumerable.Range(0, rows * features).Select(_ => s.Rng.NextDouble() * 4 - 2).ToArray(), rows, features);
        Tensor[] inputs = [s.Random(features, hidden), s.Random(features, hidden), s.Random(hidden, heads), .. logits ? [s.Random(features * heads)] : Array.Empty<Tensor>()];
        return (inputs, p =>
        {
            var (h0, a) = Ops.SaeEncode(x, p[0], p[1], p[2], logits ? p[3] : null, heads, temperature);
            var flat = new List<Tensor>();
            if (encoded) flat.Add(h0.Reshape(1, rows * hidden));
            if (coefficients) flat.Add(a.Reshape(1, rows * features * heads));
            return flat.Count == 1 ? flat[0] : Ops.Concat(flat[0], flat[1]);
        });
    }

    private static (Tensor[], Func<Tensor[], Tensor>) MatMulCase(GradientSetup s, bool transposeA, bool transposeB)
    {
        int m = s.Size(1, 4), k = s.Size(1, 4), n = s.Size(1, 4);
        var a = transposeA ? s.Random(k, m) : s.Random(m, k);
        var b = transposeB ? s.Random(n, k) : s.Random(k, n);
        return ([a, b], x => Ops.MatMul(x[0], x[1], transposeA, transposeB));
    }

    private static (Tensor[], Func<Tensor[], Tensor>) Binary(GradientSetup s, Func<Tensor, Tensor, Tensor> op)
    {
        int r = s.Size(1, 4), c = s.Size(1, 4);
        return ([s.Random(r, c), s.Random(r, c)], x => op(x[0], x[1]));
    }

    private static (Tensor[], Func<Tensor[], Tensor>) RowCase(GradientSetup s, Func<Tensor, Tensor, Tensor> op)
    {
        int r = s.Size(1, 4), c = s.Size(1, 4);
        return ([s.Random(r, c), s.Random(c)], x => op(x[0], x[1]));
    }

    private static (Tensor[], Func<Tensor[], Tensor>) Unary(GradientSetup s, Func<int[], Tensor> draw, Func<Tensor, Tensor> op) =>
        ([draw([s.Size(1, 4), s.Size(1, 4)])], x => op(x[0]));
}
