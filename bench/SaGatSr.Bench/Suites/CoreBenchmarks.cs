using BenchmarkDotNet.Attributes;
using SaGatSr.Autodiff;
using SaGatSr.Gat.Materials;
using SaGatSr.Gat.Model;
using SaGatSr.Gat.Training;
using SaGatSr.Kernels;

namespace SaGatSr.Bench.Suites;

/// <summary>Dense matmul on the SIMD CPU backend against a plain triple loop (the baseline).</summary>
[MemoryDiagnoser]
[MedianColumn]
[SimpleJob(warmupCount: 3, iterationCount: 10)]
public class MatMulBenchmarks
{
    private IComputeBackend backend = null!;
    private DeviceBuffer a = null!, b = null!, c = null!;
    private float[] hostA = [], hostB = [], hostC = [];

    [Params(128, 256)]
    public int Size { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(1);
        hostA = Enumerable.Range(0, Size * Size).Select(_ => (float)rng.NextDouble()).ToArray();
        hostB = Enumerable.Range(0, Size * Size).Select(_ => (float)rng.NextDouble()).ToArray();
        hostC = new float[Size * Size];
        backend = Devices.Create("cpu");
        (a, b, c) = (backend.Allocate(Size * Size), backend.Allocate(Size * Size), backend.Allocate(Size * Size));
        backend.Upload(a, hostA);
        backend.Upload(b, hostB);
    }

    [Benchmark(Baseline = true)]
    public void NaiveLoop()
    {
        int n = Size;
        for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++)
        {
            float sum = 0;
            for (int k = 0; k < n; k++) sum += hostA[i * n + k] * hostB[k * n + j];
            hostC[i * n + j] = sum;
        }
    }

    [Benchmark]
    public void SimdBackend() => backend.MatMul(a, b, c, Size, Size, Size);

    [GlobalCleanup]
    public void Cleanup() => backend.Dispose();
}

/// <summary>Periodic neighbour graphs (cell lists) of NaCl supercells: time per atom should not grow with size.</summary>
[MemoryDiagnoser]
[MedianColumn]
[SimpleJob(warmupCount: 2, iterationCount: 8)]
public class GraphBuildBenchmarks
{
    private Structure structure = null!;

    [Params(2, 5, 10)]
    public int Repeats { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var rockSalt = Structure.Create("NaCl", new double[,] { { 5.64, 0, 0 }, { 0, 5.64, 0 }, { 0, 0, 5.64 } },
            [11, 11, 11, 11, 17, 17, 17, 17],
            [[0, 0, 0], [0, 0.5, 0.5], [0.5, 0, 0.5], [0.5, 0.5, 0], [0.5, 0.5, 0.5], [0.5, 0, 0], [0, 0.5, 0], [0, 0, 0.5]],
            coordinatesAreFractional: true, sourceName: "NaCl");
        structure = rockSalt.Supercell(Repeats, Repeats, Repeats);
    }

    [Benchmark]
    public int Build() => CrystalGraph.Build(structure, new GraphOptions()).EdgeCount;
}

/// <summary>One SA-GAT training step (forward, backward, Adam) on a batch of 16 shipped crystals, SIMD CPU backend.</summary>
[MemoryDiagnoser]
[MedianColumn]
[SimpleJob(warmupCount: 3, iterationCount: 10)]
public class TrainStepBenchmarks
{
    private IComputeBackend backend = null!;
    private SaGatModel model = null!;
    private Adam optimizer = null!;
    private CrystalSample[] samples = [];
    private TargetScaler targets = null!;
    private GraphOptions graphOptions = null!;
    private readonly int[] batch = Enumerable.Range(0, 16).ToArray();

    [GlobalSetup]
    public void Setup()
    {
        var data = ShippedData.Load();
        graphOptions = data.GraphOptions;
        samples = ShippedData.StandardisedSamples(data);
        targets = TargetScaler.Fit(data.Targets);
        backend = Devices.Create("cpu");
        model = new SaGatModel(backend, ShippedData.DefaultConfig(data) with { Hidden = 48, Heads = 4, Layers = 3 });
        optimizer = new Adam(model.Parameters(), 1e-3f);
    }

    [Benchmark]
    public double Step() => Trainer.TrainStep(model, optimizer, samples, batch, TargetEncoding.Regression(targets), graphOptions, new TrainingOptions { ClipNorm = 0 });

    [GlobalCleanup]
    public void Cleanup()
    {
        optimizer.Dispose();
        model.Dispose();
        backend.Dispose();
    }
}
