using SaGatSr.Kernels;

namespace SaGatSr.Bench;

/// <summary>
/// `compare kernels [--device cuda|opencl|...]`: medians of dense matmul and of the attention pair
/// (SegmentSoftmax + SegmentWeightedGatherSum) on a naive single-threaded loop, the SIMD CPU backend, ILGPU's
/// CPU accelerator (smaller sizes: it emulates GPU threads) and, when asked, a GPU backend.
/// </summary>
public static partial class Comparisons
{
    private static void RegisterKernels() => Register("kernels",
        "matmul and segment softmax + weighted gather-sum: naive loop vs SIMD CPU vs ILGPU (CPU accelerator, --device cuda)",
        RunKernelComparison);

    private static int RunKernelComparison(string[] args)
    {
        int deviceAt = Array.IndexOf(args, "--device");
        string? gpuSpec = deviceAt >= 0 && deviceAt + 1 < args.Length ? args[deviceAt + 1] : null;
        Console.WriteLine($"{Environment.ProcessorCount} logical CPUs; medians of 7 runs after a warm-up");
        Console.WriteLine($"{"case",-34} {"backend",-44} {"median ms",10} {"rate",14} {"vs naive",9}");

        bool skipEmulated = args.Contains("--no-emulated");
        var backends = new List<(IComputeBackend Backend, bool Emulated)> { (Devices.Create("cpu"), false) };
        if (!skipEmulated) backends.Add((Devices.Create("ilgpu-cpu"), true));
        if (gpuSpec is not null) backends.Add((Devices.Create(gpuSpec), false));
        try
        {
            foreach (var (m, n, k) in new[] { (256, 256, 256), (1024, 128, 128) })
            {
                double naive = MedianMilliseconds(NaiveMatMul(m, n, k));
                PrintRow($"matmul {m}x{n}x{k}", "naive C# triple loop, 1 thread", naive, 2.0 * m * n * k / naive / 1e6, "GFLOP/s", naive);
                foreach (var (backend, emulated) in backends)
                {
                    // The emulated accelerator pays an OS-level barrier per tile step: time a 1/16 slice of the rows.
                    int rows = emulated ? m / 16 : m;
                    using var matMul = new BackendMatMul(backend, rows, n, k);
                    double ms = MedianMilliseconds(matMul.Run, emulated ? 1 : 7);
                    string label = emulated ? $"matmul {rows}x{n}x{k} (1/16 rows)" : $"matmul {m}x{n}x{k}";
                    PrintRow(label, backend.Name, ms, 2.0 * rows * n * k / ms / 1e6, "GFLOP/s", emulated ? naive / 16 : naive);
                }
            }

            foreach (var (nodes, emulated) in new[] { (20_000, false), (2_000, true) }.Where(c => !c.Item2 || !skipEmulated))
            {
                var graph = AttentionGraph.Create(nodes, edgesPerNode: 12, heads: 4, headDim: 16, seed: 1);
                double naive = MedianMilliseconds(() => graph.RunNaive());
                string label = $"softmax+gather-sum {nodes / 1000}k x 12, 4x16";
                PrintRow(label, "naive C# loops, 1 thread", naive, graph.Bytes / naive / 1e6, "GB/s", naive);
                foreach (var (backend, isEmulated) in backends.Where(b => b.Emulated == emulated))
                {
                    using var state = graph.Upload(backend);
                    double ms = MedianMilliseconds(state.Run, emulated ? 1 : 7);
                    PrintRow(label, backend.Name, ms, graph.Bytes / ms / 1e6, "GB/s", naive);
                }
            }

            if (gpuSpec is not null) RunDeviceScaleCases(backends.Where(b => !b.Emulated).Select(b => b.Backend).ToArray());
        }
        finally
        {
            foreach (var (backend, _) in backends) backend.Dispose();
        }

        return 0;
    }

    /// <summary>
    /// Sizes that fill a GPU (a GiB of data, 12M edges), each backend against the first (the SIMD CPU); memory-bound kernels
    /// also as a share of the rate a plain device copy reaches on the same backend.
    /// </summary>
    private static void RunDeviceScaleCases(IComputeBackend[] backends)
    {
        Console.WriteLine();
        Console.WriteLine("Device-scale cases (ratios against the SIMD CPU, % of the same backend's copy rate)");
        Console.WriteLine($"{"case",-34} {"backend",-44} {"median ms",10} {"rate",14} {"vs cpu",9} {"of copy",8}");
        const int copyLength = 1 << 27;
        var copyRates = new Dictionary<IComputeBackend, double>();
        double? cpuMs = null;
        foreach (var backend in backends)
        {
            using var source = backend.Allocate(copyLength);
            using var destination = backend.Allocate(copyLength);
            double ms = MedianMilliseconds(() => { backend.Copy(source, destination); backend.Synchronize(); });
            cpuMs ??= ms;
            copyRates[backend] = 8.0 * copyLength / ms / 1e6;
            Console.WriteLine($"{"copy 512 MiB (read + write)",-34} {Truncate(backend.Name, 44),-44} {ms,10:F3} {copyRates[backend],8:G4} {"GB/s",-5} {cpuMs / ms,8:F1}x");
        }

        const int size = 2048;
        cpuMs = null;
        foreach (var backend in backends)
        {
            using var matMul = new BackendMatMul(backend, size, size, size);
            double ms = MedianMilliseconds(matMul.Run, 5);
            cpuMs ??= ms;
            Console.WriteLine($"{$"matmul {size}^3",-34} {Truncate(backend.Name, 44),-44} {ms,10:F3} {2.0 * size * size * size / ms / 1e9,8:G4} {"TFLOP/s",-7} {cpuMs / ms,6:F1}x");
        }

        var graph = AttentionGraph.Create(1_000_000, edgesPerNode: 12, heads: 4, headDim: 16, seed: 2);
        foreach (var (what, bytes, run) in new (string, double, Func<AttentionGraph.State, Action>)[]
                 {
                     ("segment softmax 1M x 12, 4 heads", graph.SoftmaxBytes, s => s.RunSoftmax),
                     ("weighted gather-sum 1M x 12, 4x16", graph.GatherSumBytes, s => s.RunGatherSum),
                     ("softmax+gather-sum 1M x 12, 4x16", graph.Bytes, s => s.Run),
                 })
        {
            cpuMs = null;
            foreach (var backend in backends)
            {
                using var state = graph.Upload(backend);
                double ms = MedianMilliseconds(run(state), 7);
                cpuMs ??= ms;
                double rate = bytes / ms / 1e6;
                Console.WriteLine($"{what,-34} {Truncate(backend.Name, 44),-44} {ms,10:F3} {rate,8:G4} {"GB/s",-5} {cpuMs / ms,8:F1}x {100 * rate / copyRates[backend],7:F0}%");
            }
        }
    }

    private static void PrintRow(string label, string backend, double ms, double rate, string unit, double naiveMs) =>
        Console.WriteLine($"{label,-34} {Truncate(backend, 44),-44} {ms,10:F3} {rate,8:G3} {unit,-5} {naiveMs / ms,8:F1}x");

    private static string Truncate(string text, int width) => text.Length <= width ? text : text[..(width - 1)] + "…";

    private static Action NaiveMatMul(int m, int n, int k)
    {
        var random = new Random(1);
        float[] a = RandomFloats(random, m * k), b = RandomFloats(random, k * n), c = new float[m * n];
        return () =>
        {
            for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                float sum = 0f;
                for (int p = 0; p < k; p++) sum += a[i * k + p] * b[p * n + j];
                c[i * n + j] = sum;
            }
        };
    }

    private sealed class BackendMatMul : IDisposable
    {
        private readonly IComputeBackend backend;
        private readonly DeviceBuffer a, b, c;
        private readonly int m, n, k;

        public BackendMatMul(IComputeBackend backend, int m, int n, int k)
        {
            (this.backend, this.m, this.n, this.k) = (backend, m, n, k);
            var random = new Random(1);
            a = backend.Allocate(m * k);
            b = backend.Allocate(k * n);
            c = backend.Allocate(m * n);
            backend.Upload(a, RandomFloats(random, m * k));
            backend.Upload(b, RandomFloats(random, k * n));
        }

        public void Run()
        {
            backend.MatMul(a, b, c, m, n, k);
            backend.Synchronize();
        }

        public void Dispose()
        {
            a.Dispose();
            b.Dispose();
            c.Dispose();
        }
    }

    private static float[] RandomFloats(Random random, int length) =>
        Enumerable.Range(0, length).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();

    /// <summary>A random graph with edges sorted by destination, as the GAT layers use it.</summary>
    private sealed class AttentionGraph
    {
        private int nodes, heads, headDim;
        private int[] offsets = [], sources = [];
        private float[] scores = [], values = [], probabilities = [], output = [];

        public static AttentionGraph Create(int nodes, int edgesPerNode, int heads, int headDim, int seed)
        {
            var random = new Random(seed);
            int edges = nodes * edgesPerNode;
            return new AttentionGraph
            {
                nodes = nodes, heads = heads, headDim = headDim,
                offsets = Enumerable.Range(0, nodes + 1).Select(i => i * edgesPerNode).ToArray(),
                sources = Enumerable.Range(0, edges).Select(_ => random.Next(nodes)).ToArray(),
                scores = RandomFloats(random, edges * heads),
                values = RandomFloats(random, nodes * heads * headDim),
                probabilities = new float[edges * heads],
                output = new float[nodes * heads * headDim],
            };
        }

        private int Edges => offsets[^1];

        /// <summary>Bytes a single pass must move: scores in, probabilities out and back in, one value row per edge, output, indices.</summary>
        public double Bytes => SoftmaxBytes + GatherSumBytes - 4.0 * (nodes + 1);

        /// <summary>The softmax alone: scores in, probabilities out, offsets.</summary>
        public double SoftmaxBytes => 4.0 * (2.0 * Edges * heads + nodes + 1);

        /// <summary>The weighted gather-sum alone: weights, one value row and one source index per edge, the output rows, offsets.</summary>
        public double GatherSumBytes => 4.0 * ((double)Edges * heads + (double)Edges * heads * headDim + (double)nodes * heads * headDim + Edges + nodes + 1);

        public void RunNaive()
        {
            int width = heads * headDim;
            for (int s = 0; s < nodes; s++)
            for (int h = 0; h < heads; h++)
            {
                float max = float.NegativeInfinity;
                for (int e = offsets[s]; e < offsets[s + 1]; e++) max = MathF.Max(max, scores[e * heads + h]);
                float total = 0f;
                for (int e = offsets[s]; e < offsets[s + 1]; e++) total += probabilities[e * heads + h] = MathF.Exp(scores[e * heads + h] - max);
                for (int e = offsets[s]; e < offsets[s + 1]; e++) probabilities[e * heads + h] /= total;
            }

            for (int s = 0; s < nodes; s++)
            for (int j = 0; j < width; j++)
            {
                float sum = 0f;
                for (int e = offsets[s]; e < offsets[s + 1]; e++) sum += probabilities[e * heads + j / headDim] * values[sources[e] * width + j];
                output[s * width + j] = sum;
            }
        }

        public State Upload(IComputeBackend backend) => new(this, backend);

        public sealed class State : IDisposable
        {
            private readonly AttentionGraph graph;
            private readonly IComputeBackend backend;
            private readonly IndexBuffer offsets, sources;
            private readonly DeviceBuffer scores, values, probabilities, output;

            public State(AttentionGraph graph, IComputeBackend backend)
            {
                this.graph = graph;
                this.backend = backend;
                offsets = backend.AllocateIndices(graph.offsets.Length);
                sources = backend.AllocateIndices(graph.sources.Length);
                scores = backend.Allocate(graph.scores.Length);
                values = backend.Allocate(graph.values.Length);
                probabilities = backend.Allocate(graph.probabilities.Length);
                output = backend.Allocate(graph.output.Length);
                backend.Upload(offsets, graph.offsets);
                backend.Upload(sources, graph.sources);
                backend.Upload(scores, graph.scores);
                backend.Upload(values, graph.values);
            }

            public void Run()
            {
                backend.SegmentSoftmax(scores, offsets, probabilities, graph.nodes, graph.heads);
                backend.SegmentWeightedGatherSum(probabilities, values, sources, offsets, output, graph.nodes, graph.heads, graph.headDim);
                backend.Synchronize();
            }

            public void RunSoftmax()
            {
                backend.SegmentSoftmax(scores, offsets, probabilities, graph.nodes, graph.heads);
                backend.Synchronize();
            }

            public void RunGatherSum()
            {
                backend.SegmentWeightedGatherSum(probabilities, values, sources, offsets, output, graph.nodes, graph.heads, graph.headDim);
                backend.Synchronize();
            }

            public void Dispose()
            {
                foreach (var buffer in new IDisposable[] { offsets, sources, scores, values, probabilities, output }) buffer.Dispose();
            }
        }
    }
}
