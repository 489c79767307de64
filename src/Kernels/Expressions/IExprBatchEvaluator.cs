namespace SaGatSr.Kernels.Expressions;

/// <summary>
/// Evaluates a batch of programs over the same bound data in float32. Output is [program][sample], i.e.
/// output[k * SampleCount + i]; constants are every program's slots concatenated in batch order.
/// </summary>
public interface IExprBatchEvaluator : IDisposable
{
    string Name { get; }
    int SampleCount { get; }

    /// <summary>Binds the data, [column][sample]; later batches read it without copying it again.</summary>
    void SetData(IReadOnlyList<float[]> columns);

    void Evaluate(IReadOnlyList<ExprProgram> programs, ReadOnlySpan<float> constants, Span<float> output);

    /// <summary>
    /// SR's fitness: for each program, the least-squares line of <paramref name="y"/> (one value per sample) on its output.
    /// A GPU keeps the outputs on the device and hands back only the fits.
    /// </summary>
    void FitLinear(IReadOnlyList<ExprProgram> programs, ReadOnlySpan<float> constants, ReadOnlySpan<double> y, Span<LinearFit> fits);
}

/// <summary>Creates evaluators from a device spec: interpreter | cpu | ilgpu-cpu | cuda | opencl.</summary>
public static class ExprEvaluators
{
    public static readonly string[] Specs = ["interpreter", "cpu", "ilgpu-cpu", "cuda", "opencl"];

    public static IExprBatchEvaluator Create(string spec) => spec.Trim().ToLowerInvariant() switch
    {
        "interpreter" or "reference" => new InterpreterBatchEvaluator(),
        "cpu" or "simd" => new SimdBatchEvaluator(),
        "ilgpu-cpu" or "ilgpucpu" => new IlgpuExprEvaluator(DeviceKind.IlgpuCpu),
        "cuda" or "gpu" => new IlgpuExprEvaluator(DeviceKind.Cuda),
        "opencl" => new IlgpuExprEvaluator(DeviceKind.OpenCl),
        _ => throw new ArgumentException($"Unknown device '{spec}'; expected one of: {string.Join(", ", Specs)}."),
    };

    public static IExprBatchEvaluator Create(DeviceKind kind) => kind switch
    {
        DeviceKind.Reference => new InterpreterBatchEvaluator(),
        DeviceKind.Cpu => new SimdBatchEvaluator(),
        _ => new IlgpuExprEvaluator(kind),
    };

    /// <summary>FitLinear for evaluators that hand every output back: evaluate, then fit each program on the host.</summary>
    internal static void FitOnHost(IExprBatchEvaluator evaluator, IReadOnlyList<ExprProgram> programs, ReadOnlySpan<float> constants,
        ReadOnlySpan<double> y, Span<LinearFit> fits)
    {
        int samples = evaluator.SampleCount;
        CheckFitShapes(programs.Count, samples, y.Length, fits.Length);
        var output = new float[programs.Count * samples];
        evaluator.Evaluate(programs, constants, output);
        var target = LinearFit.Target.Of(y);
        var results = new LinearFit[programs.Count];
        var targetValues = y.ToArray();
        // Each program's fit is computed whole by one thread, so the results do not depend on the thread count.
        Parallel.For(0, programs.Count, new ParallelOptions { MaxDegreeOfParallelism = (long)programs.Count * samples < 1 << 15 ? 1 : -1 },
            k => results[k] = LinearFit.Compute(output.AsSpan(k * samples, samples), targetValues, target));
        results.CopyTo(fits);
    }

    internal static void CheckFitShapes(int programs, int samples, int targetLength, int fitsLength)
    {
        if (targetLength != samples) throw new ArgumentException($"The target has {targetLength} values for {samples} samples.");
        if (fitsLength < programs) throw new ArgumentException($"Fits need {programs} elements.");
    }

    /// <summary>Checks a batch against the bound data and buffers; returns each program's first constant index.</summary>
    internal static int[] ValidateBatch(IReadOnlyList<ExprProgram> programs, int columnCount, int constantsLength, int outputLength, int samples)
    {
        var offsets = new int[programs.Count];
        int total = 0;
        for (int k = 0; k < programs.Count; k++)
        {
            if (programs[k].MaxColumn >= columnCount)
                throw new ArgumentException($"Program {k} reads column {programs[k].MaxColumn} but only {columnCount} are bound.");
            offsets[k] = total;
            total += programs[k].ConstantCount;
        }

        if (constantsLength < total) throw new ArgumentException($"The batch needs {total} constants; {constantsLength} were given.");
        if (outputLength < (long)programs.Count * samples) throw new ArgumentException($"Output needs {programs.Count} x {samples} elements.");
        return offsets;
    }
}

/// <summary>The sample-by-sample reference, computing in float64 and rounding the result to float32.</summary>
public sealed class InterpreterBatchEvaluator : IExprBatchEvaluator
{
    private double[][] columns = [];

    public string Name => "interpreter";
    public int SampleCount { get; private set; }

    public void SetData(IReadOnlyList<float[]> data)
    {
        SampleCount = data.Count == 0 ? 0 : data[0].Length;
        columns = data.Select(c => c.Select(v => (double)v).ToArray()).ToArray();
    }

    public void Evaluate(IReadOnlyList<ExprProgram> programs, ReadOnlySpan<float> constants, Span<float> output)
    {
        var offsets = ExprEvaluators.ValidateBatch(programs, columns.Length, constants.Length, output.Length, SampleCount);
        var result = new double[SampleCount];
        for (int k = 0; k < programs.Count; k++)
        {
            var local = new double[programs[k].ConstantCount];
            for (int c = 0; c < local.Length; c++) local[c] = constants[offsets[k] + c];
            ExprInterpreter.Evaluate<double>(programs[k], local, columns, result);
            var target = output.Slice(k * SampleCount, SampleCount);
            for (int i = 0; i < SampleCount; i++) target[i] = (float)result[i];
        }
    }

    public void FitLinear(IReadOnlyList<ExprProgram> programs, ReadOnlySpan<float> constants, ReadOnlySpan<double> y, Span<LinearFit> fits) =>
        ExprEvaluators.FitOnHost(this, programs, constants, y, fits);

    public void Dispose() { }
}

/// <summary>Vectorised host evaluator; programs of a batch run in parallel, each on one thread, so results are deterministic.</summary>
public sealed class SimdBatchEvaluator : IExprBatchEvaluator
{
    private float[][] columns = [];
    private int dataVersion;
    // Each thread keeps its own scratch buffers; the version says which bound data they were made for.
    private readonly ThreadLocal<(int Version, SimdExprEvaluator<float> Evaluator)?> perThread = new();

    public string Name => "cpu-simd";
    public int SampleCount { get; private set; }

    public void SetData(IReadOnlyList<float[]> data)
    {
        columns = data.ToArray();
        SampleCount = columns.Length == 0 ? 0 : columns[0].Length;
        foreach (var column in columns)
            if (column.Length != SampleCount) throw new ArgumentException("All columns need the same number of samples.");
        dataVersion++;
    }

    public unsafe void Evaluate(IReadOnlyList<ExprProgram> programs, ReadOnlySpan<float> constants, Span<float> output)
    {
        var offsets = ExprEvaluators.ValidateBatch(programs, columns.Length, constants.Length, output.Length, SampleCount);
        int samples = SampleCount;
        // Small batches are not worth the thread hand-off.
        int parallelism = (long)programs.Count * samples < 1 << 15 ? 1 : Environment.ProcessorCount;
        fixed (float* constantPointer = constants)
        fixed (float* outputPointer = output)
        {
            // Spans cannot enter the lambda; the pinned pointers can, and each program writes only its own slice.
            float* c = constantPointer, o = outputPointer;
            int constantCount = constants.Length;
            Parallel.For(0, programs.Count, new ParallelOptions { MaxDegreeOfParallelism = parallelism }, k =>
            {
                var all = new ReadOnlySpan<float>(c, constantCount);
                Local().Evaluate(programs[k], all.Slice(offsets[k], programs[k].ConstantCount), new Span<float>(o + (long)k * samples, samples));
            });
        }
    }

    public void FitLinear(IReadOnlyList<ExprProgram> programs, ReadOnlySpan<float> constants, ReadOnlySpan<double> y, Span<LinearFit> fits) =>
        ExprEvaluators.FitOnHost(this, programs, constants, y, fits);

    private SimdExprEvaluator<float> Local()
    {
        if (perThread.Value is not { } local || local.Version != dataVersion)
        {
            local = (dataVersion, new SimdExprEvaluator<float>(columns, SampleCount));
            perThread.Value = local;
        }

        return local.Evaluator;
    }

    public void Dispose() => perThread.Dispose();
}
