using SaGatSr.Kernels.Expressions;

namespace SaGatSr.Tests.Symbolic;

/// <summary>SR's fitness (the least-squares line of y on each program's output) on every evaluator against a float64 host fit.</summary>
public class LinearFitTests
{
    private static IEnumerable<string> EveryEvaluator() =>
        TestDevices.Accelerated.SelectMany(d => new[] { d, d + "-interpreted" }).Prepend("cpu").Prepend("interpreter");

    [TestCaseSource(nameof(EveryEvaluator))]
    public void FitLinearMatchesAHostFitOfEachProgramsOutputs(string device)
    {
        int seed = TestContext.CurrentContext.Random.Next();
        TestContext.Out.WriteLine($"random seed {seed}");
        var random = new Random(seed);
        const int samples = 1031;
        var columns = Enumerable.Range(0, 3)
            .Select(_ => Enumerable.Range(0, samples).Select(_ => (float)(random.NextDouble() * 3 - 1)).ToArray()).ToArray();
        var y = Enumerable.Range(0, samples).Select(i => 3.0 - 2.0 * ((double)columns[0][i] * columns[1][i])).ToArray();
        ExprInstruction Col(int c) => ExprInstruction.Col(c);
        var programs = new List<ExprProgram>
        {
            new([Col(0), Col(1), new(ExprOpCode.Mul)]),                                   // y exactly: slope -2, intercept 3
            new([Col(0), ExprInstruction.Const(0), new(ExprOpCode.Add)]),                  // mean 1000 swamps a variance of ~1
            new([ExprInstruction.Const(0)]),                                               // constant: no slope
            new([Col(0), new(ExprOpCode.Log)]),                                            // negative inputs: not finite
            new([Col(2), new(ExprOpCode.Exp), Col(1), new(ExprOpCode.Mul)]),
            new([Col(0), Col(2), new(ExprOpCode.Sub), new(ExprOpCode.Square)]),
        };
        var constants = new[] { 1000f, 0.5f };

        var reference = new InterpreterBatchEvaluator();
        reference.SetData(columns);
        var outputs = new float[programs.Count * samples];
        reference.Evaluate(programs, constants, outputs);
        var target = LinearFit.Target.Of(y);
        var expected = Enumerable.Range(0, programs.Count).Select(k => LinearFit.Compute(outputs.AsSpan(k * samples, samples), y, target)).ToArray();

        const string interpreted = "-interpreted";
        using var evaluator = ExprEvaluators.Create(device.EndsWith(interpreted) ? device[..^interpreted.Length] : device);
        if (device.EndsWith(interpreted)) ((IlgpuExprEvaluator)evaluator).Mode = ExprKernelMode.Interpreted;
        evaluator.SetData(columns);
        var fits = new LinearFit[programs.Count];
        evaluator.FitLinear(programs, constants, y, fits);

        Assert.That(fits[0].Slope, Is.EqualTo(-2).Within(1e-5));
        Assert.That(fits[0].Intercept, Is.EqualTo(3).Within(1e-5));
        Assert.That(fits[0].SumSquaredResiduals / target.SumSquares, Is.LessThan(1e-10), "an exact line leaves no residual");
        Assert.That(fits[2], Is.EqualTo(new LinearFit(target.Mean, 0, target.SumSquares)), "a constant output fits no slope");
        Assert.That(fits[3].SumSquaredResiduals, Is.EqualTo(double.PositiveInfinity), "a non-finite output is never a fit");
        for (int k = 0; k < programs.Count; k++)
        {
            Assert.That(fits[k].SumSquaredResiduals / target.SumSquares,
                Is.EqualTo(expected[k].SumSquaredResiduals / target.SumSquares).Within(1e-5), $"program {k}: 1 - R^2");
            if (double.IsFinite(expected[k].SumSquaredResiduals))
            {
                Assert.That(fits[k].Slope, Is.EqualTo(expected[k].Slope).Within(1e-4 * Math.Max(1, Math.Abs(expected[k].Slope))), $"program {k}: slope");
                Assert.That(fits[k].Intercept, Is.EqualTo(expected[k].Intercept).Within(1e-4 * Math.Max(1, Math.Abs(expected[k].Intercept))),
                    $"program {k}: intercept");
            }
        }
    }

    [Test]
    public void TargetLengthMustMatchTheBoundSamples()
    {
        using var evaluator = ExprEvaluators.Create("cpu");
        evaluator.SetData([[1f, 2f, 3f]]);
        var error = Assert.Throws<ArgumentException>(() =>
            evaluator.FitLinear([new ExprProgram([ExprInstruction.Col(0)])], [], new double[2], new LinearFit[1]));
        Assert.That(error!.Message, Does.Contain("2 values for 3 samples"));
    }
}
