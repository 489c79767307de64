using SaGatSr.Autodiff;
using SaGatSr.Kernels;
using SaGatSr.Kernels.Reference;

namespace SaGatSr.Bench;

/// <summary>
/// What the tape costs: one GAT-style attention layer as bare kernel calls, through Ops without recording, with
/// recording, and with the backward pass, all on the same backend and data.
/// </summary>
public static partial class Comparisons
{
    private static void RegisterAutodiff() => Register("autodiff",
        "tape overhead on a GAT attention layer: raw kernels vs Ops (no-grad, recording, +backward) [--nodes N --degree D]",
        RunAutodiffComparison);

    private static int RunAutodiffComparison(string[] args)
    {
        int nodes = OptionValue(args, "--nodes", 2000), degree = OptionValue(args, "--degree", 12);
        const int features = 64, heads = 4, headDim = 16;
        using var backend = new ReferenceBackend();
        var rng = new Random(1);
        int edges = nodes * degree;
        var offsets = Enumerable.Range(0, nodes + 1).Select(s => s * degree).ToArray();
        using var segments = Segments.FromOffsets(backend, offsets);
        using var sources = IndexTensor.FromArray(backend, Enumerable.Range(0, edges).Select(_ => rng.Next(nodes)).ToArray());
        using var x = Tensor.FromArray(backend, Init.Uniform(rng, 1, nodes * features), nodes, features);
        using var weight = Tensor.Parameter(backend, Init.GlorotUniform(rng, features, heads * headDim, features * heads * headDim), features, heads * headDim);
        using var attention = Tensor.Parameter(backend, Init.GlorotUniform(rng, headDim, 1, heads * headDim * heads), heads * headDim, heads);

        void RawKernels()
        {
            using var h = backend.Allocate(nodes * heads * headDim);
            using var messages = backend.Allocate(edges * heads * headDim);
            using var scores = backend.Allocate(edges * heads);
            using var activated = backend.Allocate(edges * heads);
            using var probabilities = backend.Allocate(edges * heads);
            using var output = backend.Allocate(nodes * heads * headDim);
            backend.MatMul(x.Data, weight.Data, h, nodes, heads * headDim, features);
            backend.GatherRows(h, sources.Data, messages, edges, heads * headDim);
            backend.MatMul(messages, attention.Data, scores, edges, heads, heads * headDim);
            backend.Unary(UnaryOp.LeakyRelu, scores, activated, 0.2f);
            backend.SegmentSoftmax(activated, segments.Offsets.Data, probabilities, nodes, heads);
            backend.SegmentWeightedGatherSum(probabilities, h, sources.Data, segments.Offsets.Data, output, nodes, heads, headDim);
        }

        Tensor Layer()
        {
            var h = Ops.Linear(x, weight, null);
            var scores = Ops.LeakyRelu(Ops.MatMul(Ops.Gather(h, sources), attention));
            var probabilities = Ops.SegmentSoftmax(scores, segments);
            return Ops.SegmentWeightedGatherSum(probabilities, h, sources, segments, heads);
        }

        var variants = new (string Name, Action Run)[]
        {
            ("raw kernel calls", RawKernels),
            ("Ops, no-grad tape", () =>
            {
                using var tape = Tape.NoGrad();
                Layer();
            }),
            ("Ops, recording tape", () =>
            {
                using var tape = new Tape();
                Layer();
            }),
            ("Ops, forward + backward", () =>
            {
                using var tape = new Tape();
                tape.Backward(Ops.Mean(Layer()));
                weight.ZeroGrad();
                attention.ZeroGrad();
            }),
        };
        // A first round lets tiered JIT settle for every variant before anything is timed.
        foreach (var (_, run) in variants) MedianMilliseconds(run, 15);
        var rows = variants.Select(v => (v.Name, Milliseconds: MedianMilliseconds(v.Run, 15))).ToList();

        Console.WriteLine($"autodiff: GAT attention layer, {nodes} nodes x {degree} edges, {features} -> {heads} heads x {headDim}, backend: {backend.Name}");
        Console.WriteLine($"{"variant",-26} {"median ms",10} {"vs raw",8}");
        foreach (var (name, milliseconds) in rows)
            Console.WriteLine($"{name,-26} {milliseconds,10:F2} {milliseconds / rows[0].Milliseconds,8:F2}");
        return 0;
    }

    private static int OptionValue(string[] args, string name, int fallback)
    {
        int at = Array.IndexOf(args, name);
        if (at < 0) return fallback;
        if (at + 1 >= args.Length || !int.TryParse(args[at + 1], out int value) || value <= 0)
            throw new ArgumentException($"{name} needs a positive integer.");
        return value;
    }
}
