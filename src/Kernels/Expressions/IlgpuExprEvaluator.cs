using System.Reflection;
using System.Reflection.Emit;
using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.PTX;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;
using ILGPU.Runtime.OpenCL;
using SaGatSr.Kernels.Gpu;

namespace SaGatSr.Kernels.Expressions;

using ExprKernel = Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int>;

/// <summary>
/// Compiles a whole batch of programs into one ILGPU kernel (IL emitted with TypeBuilder: postfix code maps 1:1 onto
/// the IL evaluation stack) that evaluates every program for one sample per thread. Kernels are cached by the batch's
/// structure key; constants are a kernel argument, so batches that differ only in constants reuse the kernel.
/// Large batches are split into chunks of at most <see cref="MaxInstructionsPerKernel"/> instructions.
/// </summary>
public sealed class IlgpuExprEvaluator : IExprBatchEvaluator
{
    public const int MaxInstructionsPerKernel = 4096;
    private const int MaxCachedKernels = 512;

    private readonly Context context;
    private readonly Accelerator accelerator;
    private readonly Dictionary<string, ExprKernel> kernels = new();
    private MemoryBuffer1D<float, Stride1D.Dense>? data;
    private MemoryBuffer1D<float, Stride1D.Dense>? constantsBuffer;
    private MemoryBuffer1D<float, Stride1D.Dense>? outputBuffer;
    private MemoryBuffer1D<int, Stride1D.Dense>? codeBuffer;
    private MemoryBuffer1D<int, Stride1D.Dense>? startsBuffer;
    private MemoryBuffer1D<double, Stride1D.Dense>? targetBuffer;
    private MemoryBuffer1D<double, Stride1D.Dense>? fitsBuffer;
    private Action<KernelConfig, ArrayView<float>, ArrayView<double>, ArrayView<double>, int, double, double, double, int>? fitKernel;
    private Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, ArrayView<int>, ArrayView<int>, ArrayView<float>, int>? interpreter;

    /// <summary>Emitted (default) compiles each new batch structure; Interpreted runs one precompiled bytecode kernel.</summary>
    public ExprKernelMode Mode { get; set; } = ExprKernelMode.Emitted;

    /// <summary>Kernels compiled so far (cache misses); for measuring how often the cache saves a compile.</summary>
    public int KernelsCompiled { get; private set; }

    public IlgpuExprEvaluator(DeviceKind kind)
    {
        GpuDriverLibraries.Register();
        context = Context.Create(builder =>
        {
            switch (kind)
            {
                case DeviceKind.IlgpuCpu: builder.CPU(); break;
                case DeviceKind.Cuda: builder.Cuda(); break;
                case DeviceKind.OpenCl: builder.OpenCL(); break;
                default: throw new ArgumentException($"{kind} is not an ILGPU device; use Cpu or Reference through ExprEvaluators.Create.");
            }

            // Maps MathF.Exp/Log/Pow onto ILGPU.Algorithms' implementations on backends without native ones (PTX).
            builder.EnableAlgorithms();
            builder.Optimize(OptimizationLevel.O1);
        });
        var wanted = kind switch
        {
            DeviceKind.Cuda => AcceleratorType.Cuda,
            DeviceKind.OpenCl => AcceleratorType.OpenCL,
            _ => AcceleratorType.CPU,
        };
        Device? device = null;
        foreach (var candidate in context.Devices)
            if (candidate.AcceleratorType == wanted) { device = candidate; break; }
        if (device is null)
        {
            context.Dispose();
            throw new InvalidOperationException($"No {kind} device was found on this machine.");
        }

        accelerator = device.CreateAccelerator(context);
        Name = $"ilgpu-{kind.ToString().ToLowerInvariant()}: {accelerator.Name}";
    }

    public string Name { get; }
    public int SampleCount { get; private set; }

    public void SetData(IReadOnlyList<float[]> columns)
    {
        SampleCount = columns.Count == 0 ? 0 : columns[0].Length;
        var flat = new float[Math.Max(1, columns.Count * SampleCount)];
        for (int c = 0; c < columns.Count; c++)
        {
            if (columns[c].Length != SampleCount) throw new ArgumentException("All columns need the same number of samples.");
            columns[c].CopyTo(flat, c * SampleCount);
        }

        data?.Dispose();
        data = accelerator.Allocate1D(flat);
        ColumnCount = columns.Count;
    }

    private int ColumnCount { get; set; }

    public void Evaluate(IReadOnlyList<ExprProgram> programs, ReadOnlySpan<float> constants, Span<float> output)
    {
        int length = Launch(programs, constants, output.Length);
        if (length == 0) return;
        accelerator.Synchronize();
        var result = new float[length];
        outputBuffer!.View.SubView(0, length).CopyToCPU(result);
        result.CopyTo(output);
    }

    public void FitLinear(IReadOnlyList<ExprProgram> programs, ReadOnlySpan<float> constants, ReadOnlySpan<double> y, Span<LinearFit> fits)
    {
        ExprEvaluators.CheckFitShapes(programs.Count, SampleCount, y.Length, fits.Length);
        if (programs.Count == 0) return;
        Launch(programs, constants, programs.Count * SampleCount);
        var target = LinearFit.Target.Of(y);
        var centred = new double[SampleCount];
        double centredSum = 0;
        for (int i = 0; i < centred.Length; i++) centredSum += centred[i] = y[i] - target.Mean;
        EnsureCapacity(ref targetBuffer, Math.Max(1, SampleCount));
        EnsureCapacity(ref fitsBuffer, 3L * programs.Count);
        targetBuffer!.View.SubView(0, SampleCount).CopyFromCPU(centred);
        fitKernel ??= accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<double>, ArrayView<double>, int, double, double, double, int>(
            ExprFitKernel.Kernel);
        int groupSize = ExprFitKernel.GroupSize(accelerator.MaxNumThreadsPerGroup);
        fitKernel(new KernelConfig(programs.Count, groupSize), outputBuffer!.View, targetBuffer.View, fitsBuffer!.View, SampleCount,
            target.Mean, target.SumSquares, centredSum, groupSize);
        accelerator.Synchronize();
        var raw = new double[3 * programs.Count];
        fitsBuffer.View.SubView(0, raw.Length).CopyToCPU(raw);
        for (int k = 0; k < programs.Count; k++) fits[k] = new LinearFit(raw[3 * k], raw[3 * k + 1], raw[3 * k + 2]);
    }

    /// <summary>Queues the kernels that write every program's outputs into the device output buffer; returns their count.</summary>
    private int Launch(IReadOnlyList<ExprProgram> programs, ReadOnlySpan<float> constants, int outputLength)
    {
        if (data is null) throw new InvalidOperationException("Call SetData before Evaluate.");
        var offsets = ExprEvaluators.ValidateBatch(programs, ColumnCount, constants.Length, outputLength, SampleCount);
        int length = programs.Count * SampleCount;
        EnsureCapacity(ref constantsBuffer, constants.Length + 1);
        EnsureCapacity(ref outputBuffer, Math.Max(1, length));
        if (constants.Length > 0) constantsBuffer!.View.SubView(0, constants.Length).CopyFromCPU(constants.ToArray());
        if (length == 0) return 0;
        if (Mode == ExprKernelMode.Interpreted)
        {
            LaunchInterpreted(programs, offsets);
            return length;
        }

        int start = 0;
        while (start < programs.Count)
        {
            int end = start, instructions = 0;
            while (end < programs.Count && (end == start || instructions + programs[end].Code.Length <= MaxInstructionsPerKernel))
                instructions += programs[end++].Code.Length;
            var chunk = new ExprProgram[end - start];
            for (int k = start; k < end; k++) chunk[k - start] = programs[k];
            // Each chunk's kernel numbers its constants from zero, so it gets the slice that starts at its first program's.
            var chunkConstants = constantsBuffer!.View.SubView(offsets[start], constantsBuffer.Length - offsets[start]);
            GetKernel(chunk)(accelerator.DefaultStream, SampleCount, data.View, chunkConstants,
                outputBuffer!.View.SubView((long)start * SampleCount, (long)chunk.Length * SampleCount), SampleCount);
            start = end;
        }

        return length;
    }

    private void LaunchInterpreted(IReadOnlyList<ExprProgram> programs, int[] offsets)
    {
        var starts = new int[programs.Count + 1];
        for (int k = 0; k < programs.Count; k++)
        {
            if (programs[k].MaxStackDepth > ExprInterpreterKernel.MaxStack)
                throw new ArgumentException($"Program {k} needs a stack of {programs[k].MaxStackDepth}; the interpreter kernel supports {ExprInterpreterKernel.MaxStack}.");
            starts[k + 1] = starts[k] + programs[k].Code.Length;
        }

        var code = new int[Math.Max(1, starts[^1])];
        for (int k = 0; k < programs.Count; k++)
            for (int pc = 0; pc < programs[k].Code.Length; pc++)
                code[starts[k] + pc] = ExprInterpreterKernel.Encode(programs[k].Code[pc], offsets[k]);
        interpreter ??= accelerator.LoadAutoGroupedKernel<Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, ArrayView<int>, ArrayView<int>, ArrayView<float>, int>>(
            typeof(ExprInterpreterKernel).GetMethod(nameof(ExprInterpreterKernel.Kernel))!);
        EnsureCapacity(ref codeBuffer, code.Length);
        EnsureCapacity(ref startsBuffer, starts.Length);
        codeBuffer!.View.SubView(0, code.Length).CopyFromCPU(code);
        startsBuffer!.View.SubView(0, starts.Length).CopyFromCPU(starts);
        interpreter(accelerator.DefaultStream, programs.Count * SampleCount, data!.View, constantsBuffer!.View, codeBuffer.View, startsBuffer.View,
            outputBuffer!.View, SampleCount);
    }

    private void EnsureCapacity<T>(ref MemoryBuffer1D<T, Stride1D.Dense>? buffer, long length) where T : unmanaged
    {
        if (buffer is not null && buffer.Length >= length) return;
        buffer?.Dispose();
        buffer = accelerator.Allocate1D<T>(length);
    }

    private ExprKernel GetKernel(ExprProgram[] chunk)
    {
        string key = BatchKey(chunk);
        if (kernels.TryGetValue(key, out var kernel)) return kernel;
        if (kernels.Count >= MaxCachedKernels) kernels.Clear();
        kernel = accelerator.LoadAutoGroupedKernel<ExprKernel>(ExprKernelEmitter.Emit(chunk));
        kernels[key] = kernel;
        KernelsCompiled++;
        return kernel;
    }

    internal static string BatchKey(IEnumerable<ExprProgram> programs) => string.Join('|', programs.Select(p => p.StructureKey));

    /// <summary>Compiles a batch's emitted kernel to PTX text without needing a GPU (the ILGPU PTX backend only generates code).</summary>
    public static string CompileToPtx(IReadOnlyList<ExprProgram> programs, int smMajor = 7, int smMinor = 0) =>
        CompileToPtx(ExprKernelEmitter.Emit(programs), smMajor, smMinor);

    /// <summary>PTX of the bytecode interpreter kernel used by <see cref="ExprKernelMode.Interpreted"/>.</summary>
    public static string CompileInterpreterToPtx(int smMajor = 7, int smMinor = 0) =>
        CompileToPtx(typeof(ExprInterpreterKernel).GetMethod(nameof(ExprInterpreterKernel.Kernel))!, smMajor, smMinor);

    private static string CompileToPtx(MethodInfo kernel, int smMajor, int smMinor)
    {
        var arch = new CudaArchitecture(smMajor, smMinor);
        using var context = Context.Create(builder => builder.EnableAlgorithms().Optimize(OptimizationLevel.O1));
        using var backend = new PTXBackend(context, new CudaCapabilityContext(arch), arch, CudaInstructionSet.ISA_70, null);
        var compiled = (PTXCompiledKernel)backend.Compile(EntryPointDescription.FromImplicitlyGroupedKernel(kernel), default);
        return compiled.PTXAssembly;
    }

    public void Dispose()
    {
        data?.Dispose();
        constantsBuffer?.Dispose();
        outputBuffer?.Dispose();
        codeBuffer?.Dispose();
        startsBuffer?.Dispose();
        targetBuffer?.Dispose();
        fitsBuffer?.Dispose();
        accelerator.Dispose();
        context.Dispose();
    }
}

/// <summary>Device-side scalar math for emitted kernels; same semantics as <see cref="ExprSemantics"/>.</summary>
public static class ExprDeviceMath
{
    private const float Epsilon = (float)ExprSemantics.DivisionEpsilon;

    public static float Div(float a, float b) => MathF.Abs(b) > Epsilon ? a / b : float.NaN;
    public static float Inverse(float x) => MathF.Abs(x) > Epsilon ? 1f / x : float.NaN;
    public static float Log(float x) => x > 0f ? MathF.Log(x) : float.NaN;
    public static float Exp(float x) => MathF.Exp(x);
    public static float Sqrt(float x) => MathF.Sqrt(x);
    // Pow keeps to intrinsics every ILGPU backend maps; the sign is restored for a real cube root.
    public static float Cbrt(float x) => x < 0f ? -MathF.Pow(-x, 1f / 3f) : MathF.Pow(x, 1f / 3f);
    public static float Abs(float x) => MathF.Abs(x);
    public static float AbsDiff(float a, float b) => MathF.Abs(a - b);
    public static float Square(float x) => x * x;
    public static float Cube(float x) => x * x * x;
}

/// <summary>Emits <c>static void K(Index1D i, ArrayView&lt;float&gt; data, ArrayView&lt;float&gt; constants, ArrayView&lt;float&gt; output, int samples)</c>.</summary>
internal static class ExprKernelEmitter
{
    private static readonly ModuleBuilder Module = AssemblyBuilder
        .DefineDynamicAssembly(new AssemblyName("SaGatSr.ExprKernels"), AssemblyBuilderAccess.Run)
        .DefineDynamicModule("SaGatSr.ExprKernels");
    private static readonly object Gate = new();
    private static int counter;

    private static readonly MethodInfo IndexToInt = typeof(Index1D).GetMethods()
        .Single(m => m.Name == "op_Implicit" && m.ReturnType == typeof(int) && m.GetParameters()[0].ParameterType == typeof(Index1D));
    private static readonly MethodInfo Element = typeof(ArrayView<float>).GetMethod("get_Item", [typeof(int)])!;

    public static MethodInfo Emit(IReadOnlyList<ExprProgram> programs)
    {
        lock (Gate)
        {
            var type = Module.DefineType($"ExprKernel{counter++}", TypeAttributes.Public | TypeAttributes.Sealed | TypeAttributes.Abstract);
            var method = type.DefineMethod("K", MethodAttributes.Public | MethodAttributes.Static, typeof(void),
                [typeof(Index1D), typeof(ArrayView<float>), typeof(ArrayView<float>), typeof(ArrayView<float>), typeof(int)]);
            var il = method.GetILGenerator();
            var sample = il.DeclareLocal(typeof(int));
            il.Emit(OpCodes.Ldarg_0);
            il.Emit(OpCodes.Call, IndexToInt);
            il.Emit(OpCodes.Stloc, sample);

            int constantOffset = 0;
            for (int k = 0; k < programs.Count; k++)
            {
                // &output[k * samples + i], then the program's value, then store.
                il.Emit(OpCodes.Ldarga_S, (byte)3);
                il.Emit(OpCodes.Ldc_I4, k);
                il.Emit(OpCodes.Ldarg_S, (byte)4);
                il.Emit(OpCodes.Mul);
                il.Emit(OpCodes.Ldloc, sample);
                il.Emit(OpCodes.Add);
                il.Emit(OpCodes.Call, Element);
                foreach (var instruction in programs[k].Code)
                    EmitInstruction(il, instruction, constantOffset, sample);
                il.Emit(OpCodes.Stind_R4);
                constantOffset += programs[k].ConstantCount;
            }

            il.Emit(OpCodes.Ret);
            return type.CreateType().GetMethod("K")!;
        }
    }

    private static void EmitInstruction(ILGenerator il, ExprInstruction instruction, int constantOffset, LocalBuilder sample)
    {
        switch (instruction.Op)
        {
            case ExprOpCode.Column:
                il.Emit(OpCodes.Ldarga_S, (byte)1);
                il.Emit(OpCodes.Ldc_I4, instruction.Operand);
                il.Emit(OpCodes.Ldarg_S, (byte)4);
                il.Emit(OpCodes.Mul);
                il.Emit(OpCodes.Ldloc, sample);
                il.Emit(OpCodes.Add);
                il.Emit(OpCodes.Call, Element);
                il.Emit(OpCodes.Ldind_R4);
                break;
            case ExprOpCode.Constant:
                il.Emit(OpCodes.Ldarga_S, (byte)2);
                il.Emit(OpCodes.Ldc_I4, constantOffset + instruction.Operand);
                il.Emit(OpCodes.Call, Element);
                il.Emit(OpCodes.Ldind_R4);
                break;
            case ExprOpCode.Add: il.Emit(OpCodes.Add); break;
            case ExprOpCode.Sub: il.Emit(OpCodes.Sub); break;
            case ExprOpCode.Mul: il.Emit(OpCodes.Mul); break;
            case ExprOpCode.Neg: il.Emit(OpCodes.Neg); break;
            default: il.Emit(OpCodes.Call, typeof(ExprDeviceMath).GetMethod(instruction.Op.ToString())!); break;
        }
    }
}
