using SaGatSr.Kernels;
using SaGatSr.Kernels.Expressions;

namespace SaGatSr.Tests.Symbolic;

public class ExprEvaluatorTests
{
    private static readonly ExprOpCode[] UnaryOps =
        [ExprOpCode.Neg, ExprOpCode.Exp, ExprOpCode.Log, ExprOpCode.Sqrt, ExprOpCode.Cbrt, ExprOpCode.Inverse, ExprOpCode.Square, ExprOpCode.Cube, ExprOpCode.Abs];
    private static readonly ExprOpCode[] BinaryOps = [ExprOpCode.Add, ExprOpCode.Sub, ExprOpCode.Mul, ExprOpCode.Div, ExprOpCode.AbsDiff];

    /// <summary>Random well-formed program; constants get local slots in order.</summary>
    private static ExprProgram RandomProgram(Random random, int columns, int depth, List<float> constants)
    {
        var code = new List<ExprInstruction>();
        int slots = 0;
        void Grow(int d)
        {
            if (d == 0 || random.NextDouble() < 0.2)
            {
                if (random.NextDouble() < 0.3)
                {
                    code.Add(ExprInstruction.Const(slots++));
                    constants.Add((float)(random.NextDouble() * 2 - 0.5));
                }
                else code.Add(ExprInstruction.Col(random.Next(columns)));
                return;
            }

            if (random.NextDouble() < 0.4)
            {
                Grow(d - 1);
                code.Add(new ExprInstruction(UnaryOps[random.Next(UnaryOps.Length)]));
            }
            else
            {
                Grow(d - 1);
                Grow(d - 1);
                code.Add(new ExprInstruction(BinaryOps[random.Next(BinaryOps.Length)]));
            }
        }

        Grow(depth);
        return new ExprProgram(code);
    }

    private static float[][] RandomColumns(Random random, int columns, int samples) =>
        Enumerable.Range(0, columns).Select(_ => Enumerable.Range(0, samples).Select(_ => (float)(random.NextDouble() * 3 - 1)).ToArray()).ToArray();

    private static float[] Run(IExprBatchEvaluator evaluator, float[][] columns, List<ExprProgram> programs, List<float> constants)
    {
        evaluator.SetData(columns);
        var output = new float[programs.Count * columns[0].Length];
        evaluator.Evaluate(programs, constants.ToArray(), output);
        return output;
    }

    /// <summary>Same value up to float32 rounding through the program, or both invalid; near-threshold flips are rare and bounded.</summary>
    private static void AssertAgree(float[] expected, float[] actual, string what)
    {
        int disagreements = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            bool validE = float.IsFinite(expected[i]), validA = float.IsFinite(actual[i]);
            if (validE != validA) { disagreements++; continue; }
            if (validE && Math.Abs(expected[i] - actual[i]) > 2e-3 * Math.Max(1, Math.Abs(expected[i]))) disagreements++;
        }

        Assert.That(disagreements, Is.LessThanOrEqualTo(expected.Length / 1000), $"{what}: {disagreements} of {expected.Length} values disagree");
    }

    [TestCaseSource(typeof(TestDevices), nameof(TestDevices.Accelerated))]
    public void SimdAndIlgpuAgreeWithInterpreterOnRandomPrograms(string device)
    {
        var random = new Random(42);
        var columns = RandomColumns(random, 5, 257);
        var constants = new List<float>();
        var programs = Enumerable.Range(0, 60).Select(_ => RandomProgram(random, 5, 4, constants)).ToList();
        var reference = Run(new InterpreterBatchEvaluator(), columns, programs, constants);
        Assert.That(reference.Count(float.IsFinite), Is.GreaterThan(reference.Length / 3), "test programs should be mostly valid");

        using var simd = ExprEvaluators.Create("cpu");
        AssertAgree(reference, Run(simd, columns, programs, constants), "cpu-simd");
        using var ilgpu = (IlgpuExprEvaluator)ExprEvaluators.Create(device);
        AssertAgree(reference, Run(ilgpu, columns, programs, constants), $"{device} emitted");
        int compiled = ilgpu.KernelsCompiled;
        ilgpu.Mode = ExprKernelMode.Interpreted;
        AssertAgree(reference, Run(ilgpu, columns, programs, constants), $"{device} interpreted");
        Assert.That(ilgpu.KernelsCompiled, Is.EqualTo(compiled), "the interpreted mode compiles no per-batch kernel");
    }

    private static IEnumerable<string> EveryEvaluator() =>
        TestDevices.Accelerated.SelectMany(d => new[] { d, d + "-interpreted" }).Prepend("cpu").Prepend("interpreter");

    [TestCaseSource(nameof(EveryEvaluator))]
    public void ProtectedOperationsGiveNaNNotExceptions(string device)
    {
        float[][] columns = [[-1f, 0f, 4f, 1e-20f]];
        var programs = new List<ExprProgram>
        {
            new([ExprInstruction.Col(0), new(ExprOpCode.Log)]),
            new([ExprInstruction.Const(0), ExprInstruction.Col(0), new(ExprOpCode.Div)]),
            new([ExprInstruction.Col(0), new(ExprOpCode.Inverse)]),
            new([ExprInstruction.Col(0), new(ExprOpCode.Sqrt)]),
        };
        const string interpreted = "-interpreted";
        using var evaluator = ExprEvaluators.Create(device.EndsWith(interpreted) ? device[..^interpreted.Length] : device);
        if (device.EndsWith(interpreted)) ((IlgpuExprEvaluator)evaluator).Mode = ExprKernelMode.Interpreted;
        var output = Run(evaluator, columns, programs, [3f]);
        float nan = float.NaN;
        Assert.That(output, Is.EqualTo(new[]
        {
            nan, nan, MathF.Log(4f), MathF.Log(1e-20f),
            -3f, nan, 0.75f, nan,
            -1f, nan, 0.25f, nan,
            nan, 0f, 2f, MathF.Sqrt(1e-20f),
        }).Within(1e-5f));
    }

    [Test]
    public void KernelsAreCachedByStructureNotConstants()
    {
        using var evaluator = new IlgpuExprEvaluator(DeviceKind.IlgpuCpu);
        float[][] columns = [[1f, 2f, 3f]];
        var program = new ExprProgram([ExprInstruction.Col(0), ExprInstruction.Const(0), new(ExprOpCode.Mul)]);
        evaluator.SetData(columns);
        var output = new float[3];
        evaluator.Evaluate([program], [2f], output);
        Assert.That(output, Is.EqualTo(new[] { 2f, 4f, 6f }));
        evaluator.Evaluate([new ExprProgram(program.Code)], [-1f], output);
        Assert.That(output, Is.EqualTo(new[] { -1f, -2f, -3f }));
        Assert.That(evaluator.KernelsCompiled, Is.EqualTo(1));
        evaluator.Evaluate([new ExprProgram([ExprInstruction.Col(0), new(ExprOpCode.Square)])], [], output);
        Assert.That(evaluator.KernelsCompiled, Is.EqualTo(2));
    }

    [TestCaseSource(typeof(TestDevices), nameof(TestDevices.Accelerated))]
    public void LargeBatchesAreSplitIntoSeveralKernelsWithCorrectConstantOffsets(string device)
    {
        var random = new Random(7);
        var columns = RandomColumns(random, 3, 33);
        var constants = new List<float>();
        int perKernel = IlgpuExprEvaluator.MaxInstructionsPerKernel;
        var programs = new List<ExprProgram>();
        while (programs.Sum(p => p.Code.Length) < perKernel * 2) programs.Add(RandomProgram(random, 3, 5, constants));
        var reference = Run(new InterpreterBatchEvaluator(), columns, programs, constants);
        using var ilgpu = (IlgpuExprEvaluator)ExprEvaluators.Create(device);
        AssertAgree(reference, Run(ilgpu, columns, programs, constants), $"chunked {device}");
        Assert.That(ilgpu.KernelsCompiled, Is.GreaterThanOrEqualTo(2));
    }

    [Test]
    public void CompilesABatchToPtxWithoutAGpu()
    {
        var programs = new List<ExprProgram>
        {
            new([ExprInstruction.Col(0), ExprInstruction.Col(1), new(ExprOpCode.Div), new(ExprOpCode.Log)]),
            new([ExprInstruction.Col(1), ExprInstruction.Const(0), new(ExprOpCode.Mul), new(ExprOpCode.Exp), new(ExprOpCode.Cbrt)]),
        };
        var ptx = IlgpuExprEvaluator.CompileToPtx(programs);
        Assert.That(ptx, Does.Contain(".entry").And.Contain(".target sm_70"));
        // Loads and stores of the columns and outputs, and the device log/exp (via log2/exp2) the programs need.
        Assert.That(ptx, Does.Contain("ld.f32").And.Contain("st.f32").And.Contain("lg2.approx.f32").And.Contain("ex2.approx.f32"));
    }

    [Test]
    public void CompilesTheInterpreterKernelToPtx()
    {
        var ptx = IlgpuExprEvaluator.CompileInterpreterToPtx();
        Assert.That(ptx, Does.Contain(".entry").And.Contain(".local").And.Contain("lg2.approx.f32"));
    }

    [Test]
    public void MalformedProgramsAreRejected()
    {
        Assert.Throws<ArgumentException>(() => new ExprProgram([ExprInstruction.Col(0), new(ExprOpCode.Add)]));
        Assert.Throws<ArgumentException>(() => new ExprProgram([ExprInstruction.Col(0), ExprInstruction.Col(1)]));
        Assert.Throws<ArgumentException>(() => new ExprProgram([ExprInstruction.Const(1)]));
        Assert.Throws<ArgumentException>(() => ExprEvaluators.Create("tpu"));
        foreach (var device in new[] { "interpreter", "cpu", "ilgpu-cpu" })
        {
            using var evaluator = ExprEvaluators.Create(device);
            evaluator.SetData([[1f, 2f]]);
            var error = Assert.Catch<ArgumentException>(() => evaluator.Evaluate([new ExprProgram([ExprInstruction.Col(3)])], [], new float[2]), device);
            Assert.That(error!.Message, Does.Contain("column 3"), device);
        }
    }
}
