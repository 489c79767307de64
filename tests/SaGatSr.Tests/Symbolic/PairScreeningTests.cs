using SaGatSr.Kernels.Expressions;

namespace SaGatSr.Tests.Symbolic;

/// <summary>The fused SIS kernels against plain float64 loops on fresh random columns.</summary>
public class PairScreeningTests
{
    private static double[] Padded(double[] values, bool withFirst)
    {
        var padded = new double[PairScreening.PaddedLength(values.Length)];
        for (int k = 0; k < padded.Length; k++) padded[k] = k < values.Length ? values[k] : withFirst ? values[0] : 0;
        return padded;
    }

    private static (double Sum, double Squares, double Dot) Reference(double[] f, double[] t)
    {
        double s = 0, q = 0, d = 0;
        for (int k = 0; k < f.Length; k++)
        {
            double c = f[k] - f[0];
            s += c;
            q += c * c;
            d += c * t[k];
        }

        return (s, q, d);
    }

    private static void AssertSums(CandidateSums actual, (double Sum, double Squares, double Dot) expected, string what)
    {
        Assert.That(actual.Sum, Is.EqualTo(expected.Sum).Within(1e-10 * (1 + Math.Abs(expected.Squares))), what);
        Assert.That(actual.SumOfSquares, Is.EqualTo(expected.Squares).Within(1e-10 * (1 + expected.Squares)), what);
        Assert.That(actual.Dot, Is.EqualTo(expected.Dot).Within(1e-10 * (1 + expected.Squares)), what);
    }

    [Test]
    public void BothGroupsAndSingleColumnsMatchPlainLoops([Values(1, 7, 8, 61, 500)] int samples)
    {
        var random = new Random(samples);
        double[] Column() => Enumerable.Range(0, samples).Select(_ => 0.2 + 3 * random.NextDouble()).ToArray();
        var (a, b) = (Column(), Column());
        var t = Enumerable.Range(0, samples).Select(_ => random.NextDouble() - 0.5).ToArray();
        var (pa, pb, pt) = (Padded(a, true), Padded(b, true), Padded(t, false));
        var (ia, ib) = (pa.Select(v => 1 / v).ToArray(), pb.Select(v => 1 / v).ToArray());
        var sums = new CandidateSums[3];

        PairScreening.SumGroup(pa, pb, pt, sums);
        AssertSums(sums[0], Reference(a.Zip(b, (x, y) => x + y).ToArray(), t), "a + b");
        AssertSums(sums[1], Reference(a.Zip(b, (x, y) => x - y).ToArray(), t), "a - b");
        AssertSums(sums[2], Reference(a.Zip(b, (x, y) => Math.Abs(x - y)).ToArray(), t), "|a - b|");

        PairScreening.ProductGroup(pa, pb, ia, ib, pt, sums);
        AssertSums(sums[0], Reference(a.Zip(b, (x, y) => x * y).ToArray(), t), "a * b");
        AssertSums(sums[1], Reference(a.Zip(b, (x, y) => x / y).ToArray(), t), "a / b");
        AssertSums(sums[2], Reference(a.Zip(b, (x, y) => y / x).ToArray(), t), "b / a");

        AssertSums(PairScreening.Single(pa, pt), Reference(a, t), "a");
    }

    [Test]
    public void CorrelationIsPearsonsAndZeroForConstants()
    {
        var random = new Random(3);
        var f = Enumerable.Range(0, 40).Select(_ => 1e4 + random.NextDouble()).ToArray();
        var y = f.Select(v => 2 * v + random.NextDouble()).ToArray();
        double my = y.Average(), norm = Math.Sqrt(y.Sum(v => (v - my) * (v - my)));
        var t = y.Select(v => (v - my) / norm).ToArray();
        double mf = f.Average();
        double pearson = f.Zip(y, (a, b) => (a - mf) * (b - my)).Sum()
                         / Math.Sqrt(f.Sum(v => (v - mf) * (v - mf)) * y.Sum(v => (v - my) * (v - my)));

        var sums = PairScreening.Single(Padded(f, true), Padded(t, false));
        Assert.That(sums.Correlation(f.Length), Is.EqualTo(Math.Abs(pearson)).Within(1e-9));
        var constant = PairScreening.Single(Padded(Enumerable.Repeat(2.5, 40).ToArray(), true), Padded(t, false));
        Assert.That(constant.Correlation(40), Is.EqualTo(0));
    }

    [Test]
    public void RejectsUnpaddedColumns()
    {
        var sums = new CandidateSums[3];
        Assert.Throws<ArgumentException>(() => PairScreening.SumGroup(new double[7], new double[7], new double[7], sums));
        Assert.Throws<ArgumentException>(() => PairScreening.SumGroup(new double[8], new double[16], new double[8], sums));
    }
}
