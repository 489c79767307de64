using System.Diagnostics;
using SaGatSr.Kernels.Expressions;
using SaGatSr.Symbolic;

namespace SaGatSr.Bench;

public static partial class Comparisons
{
    private static void RegisterSymbolic()
    {
        Register("sr-eval", "expression batch evaluators: node-evaluations/s (interpreter, cpu SIMD, ILGPU); --devices a,b --samples N --programs N --ops all|arith",
            SymbolicEvaluatorThroughput);
        Register("sr-scaling", "SISSO time to recover y = 2.5 a/b - 1.2 c^2 + 0.3 with 10/20/40/180 input features; --features a,b --samples N --device d",
            SymbolicRecoveryScaling);
        Register("sr-gp", "GP seconds per generation and kernel compilations by evaluator (why GP defaults to cpu SIMD); --devices a,b",
            SymbolicGpEvaluators);
    }

    private static string Option(string[] args, string name, string fallback)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
    }

    private static readonly ExprOpCode[] BenchUnary = [ExprOpCode.Exp, ExprOpCode.Log, ExprOpCode.Sqrt, ExprOpCode.Square, ExprOpCode.Inverse];
    private static readonly ExprOpCode[] BenchBinary = [ExprOpCode.Add, ExprOpCode.Sub, ExprOpCode.Mul, ExprOpCode.Div];

    /// <summary>Random full-ish programs of the size GP and SISSO produce (depth 4, about 10 to 20 nodes).</summary>
    private static List<ExprProgram> RandomPrograms(Random random, int count, int columns, List<float> constants, bool arithmeticOnly = false)
    {
        double unaryShare = arithmeticOnly ? 0 : 0.25;
        var programs = new List<ExprProgram>();
        for (int k = 0; k < count; k++)
        {
            var code = new List<ExprInstruction>();
            int slots = 0;
            void Grow(int depth)
            {
                if (depth == 0)
                {
                    if (random.NextDouble() < 0.25) { code.Add(ExprInstruction.Const(slots++)); constants.Add((float)random.NextDouble() + 0.5f); }
                    else code.Add(ExprInstruction.Col(random.Next(columns)));
                    return;
                }

                if (random.NextDouble() < unaryShare) { Grow(depth - 1); code.Add(new(BenchUnary[random.Next(BenchUnary.Length)])); }
                else { Grow(depth - 1); Grow(depth - 1); code.Add(new(BenchBinary[random.Next(BenchBinary.Length)])); }
            }

            Grow(4);
            programs.Add(new ExprProgram(code));
        }

        return programs;
    }

    private static int SymbolicEvaluatorThroughput(string[] args)
    {
        var devices = Option(args, "--devices", "interpreter,cpu,ilgpu-cpu").Split(',');
        int samples = int.Parse(Option(args, "--samples", "4096"));
        int count = int.Parse(Option(args, "--programs", "256"));
        var random = new Random(1);
        var columns = Enumerable.Range(0, 20).Select(_ => Enumerable.Range(0, samples).Select(_ => (float)(random.NextDouble() * 3 + 0.1)).ToArray()).ToArray();
        var constants = new List<float>();
        bool arithmeticOnly = Option(args, "--ops", "all") == "arith";
        var programs = RandomPrograms(random, count, columns.Length, constants, arithmeticOnly);
        long nodes = programs.Sum(p => (long)p.Code.Length) * samples;
        Console.WriteLine($"{count} programs, {programs.Sum(p => p.Code.Length)} nodes, {samples} samples, ops {(arithmeticOnly ? "+ - * /" : "+ - * / exp log sqrt ^2 ^-1")}, {Environment.ProcessorCount} cores");
        // "outputs": every output copied back to the host; "fitness": SR's score (the least-squares line of y on each output)
        // computed where the outputs are, so a GPU hands back three numbers per program.
        var y = Enumerable.Range(0, samples).Select(i => 2.0 * columns[0][i] - columns[1][i] * columns[2][i]).ToArray();
        Console.WriteLine($"{"device",-40} {"first ms",10} {"outputs ms",10} {"Gnode/s",10} {"vs interp",10} {"fitness ms",10} {"Gnode/s",10}");
        double? interpreter = null;
        foreach (var spec in devices)
        {
            using var evaluator = ExprEvaluators.Create(spec);
            evaluator.SetData(columns);
            var output = new float[count * samples];
            var fits = new LinearFit[count];
            var watch = Stopwatch.StartNew();
            evaluator.Evaluate(programs, constants.ToArray(), output);
            double first = watch.Elapsed.TotalMilliseconds;
            int repeats = spec == "interpreter" ? 3 : 7;
            double median = MedianMilliseconds(() => evaluator.Evaluate(programs, constants.ToArray(), output), repeats);
            double fitMedian = MedianMilliseconds(() => evaluator.FitLinear(programs, constants.ToArray(), y, fits), repeats);
            double rate = nodes / (median / 1000) / 1e9, fitRate = nodes / (fitMedian / 1000) / 1e9;
            interpreter ??= spec == "interpreter" ? rate : null;
            Console.WriteLine($"{evaluator.Name,-40} {first,10:F1} {median,10:F2} {rate,10:F3} {(interpreter is null ? "" : $"{rate / interpreter.Value:F1}x"),10} " +
                              $"{fitMedian,10:F2} {fitRate,10:F3}");
        }

        return 0;
    }

    private static (FeatureTable, double[]) PlantedTable(int features, int samples, int seed)
    {
        var random = new Random(seed);
        var names = new[] { "a", "b", "c" }.Concat(Enumerable.Range(0, features - 3).Select(k => $"n{k}")).ToArray();
        var columns = names.Select((_, f) => Enumerable.Range(0, samples).Select(_ => f == 2 ? random.NextDouble() * 4 - 2 : random.NextDouble() * 2.5 + 0.5).ToArray()).ToArray();
        var y = Enumerable.Range(0, samples).Select(i => 2.5 * columns[0][i] / columns[1][i] - 1.2 * columns[2][i] * columns[2][i] + 0.3).ToArray();
        return (new FeatureTable(names, columns), y);
    }

    private static int SymbolicRecoveryScaling(string[] args)
    {
        var featureCounts = Option(args, "--features", "10,20,40,180").Split(',').Select(int.Parse);
        int samples = int.Parse(Option(args, "--samples", "200"));
        string device = Option(args, "--device", "cpu");
        int rungs = int.Parse(Option(args, "--rungs", "1"));
        Console.WriteLine($"SISSO, rungs {rungs}, 3 terms, SIS 100 per term, {samples} samples, device {device}, {Environment.ProcessorCount} cores");
        Console.WriteLine($"{"features",8} {"scored",10} {"median s",10} {"space s",8} {"screen s",8} {"L0 s",8} {"recovered",10}  best");
        foreach (int features in featureCounts)
        {
            var (table, y) = PlantedTable(features, samples, 3);
            var options = new SrOptions { Rungs = rungs, MaxTerms = 3, SubspaceSize = 100, Device = device, TimeLimit = TimeSpan.FromMinutes(5) };
            SrResult? result = null;
            double ms = MedianMilliseconds(() => result = SymbolicRegressor.Fit(table, y, options), 3);
            var terms = CanonicalForm.Terms(result!.Best.Expression, i => table.Names[i]).Where(t => Math.Abs(t.Value) > 1e-7).ToDictionary();
            bool recovered = terms.Count == 3 && Math.Abs(terms.GetValueOrDefault("a*b^-1") - 2.5) < 1e-3
                && Math.Abs(terms.GetValueOrDefault("c^2") + 1.2) < 1e-3 && Math.Abs(terms.GetValueOrDefault("1") - 0.3) < 1e-3;
            Console.WriteLine($"{features,8} {result.Evaluations,10:N0} {ms / 1000,10:F3} {result.StageSeconds["space"],8:F3} {result.StageSeconds["screen"],8:F3} {result.StageSeconds["l0"],8:F3} {recovered,10}  {result.Best.ToText()}  =  {result.Best.ToSimplifiedText()}");
        }

        return 0;
    }

    private static int SymbolicGpEvaluators(string[] args)
    {
        // device[:interpreted|emitted]
        var devices = Option(args, "--devices", "cpu,ilgpu-cpu:interpreted,ilgpu-cpu:emitted").Split(',');
        int generations = int.Parse(Option(args, "--generations", "10"));
        int samples = int.Parse(Option(args, "--samples", "1000"));
        var (table, y) = PlantedTable(10, samples, 4);
        Console.WriteLine($"GP 2 islands x 200, {generations} generations, {samples} samples, {Environment.ProcessorCount} cores");
        foreach (var spec in devices)
        {
            var parts = spec.Split(':');
            var options = new SrOptions { Engine = "gp", Device = parts[0], Islands = 2, PopulationSize = 200, Generations = generations, Seed = 1,
                GpDeviceKernel = parts.Length > 1 ? parts[1] : "interpreted" };
            var watch = Stopwatch.StartNew();
            var result = SymbolicRegressor.Fit(table, y, options);
            Console.WriteLine($"{result.Device + (parts.Length > 1 ? " " + parts[1] : ""),-50} {watch.Elapsed.TotalSeconds / generations,8:F3} s/generation  {result.Evaluations:N0} evaluations  best R2 {result.Best.R2:F5}");
        }

        return 0;
    }
}
