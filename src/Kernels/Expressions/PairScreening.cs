using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace SaGatSr.Kernels.Expressions;

/// <summary>Σd, Σd² and Σd·t of one candidate column d = f - f[0] (shifted by its first value against cancellation).</summary>
public struct CandidateSums
{
    public double Sum, SumOfSquares, Dot;

    /// <summary>Σ(f - mean)^2: NaN or infinite for a candidate that is not finite.</summary>
    public readonly double CentredSumOfSquares(int sampleCount) => SumOfSquares - Sum * Sum / sampleCount;

    /// <summary>
    /// |Pearson correlation| of the candidate with the target whose centred unit vector gave the dot products; 0 when the
    /// candidate is constant to round-off or not finite.
    /// </summary>
    public readonly double Correlation(int sampleCount)
    {
        double variance = CentredSumOfSquares(sampleCount);
        if (!(variance > 1e-24 * Math.Max(SumOfSquares, 1e-300)) || !double.IsFinite(variance) || !double.IsFinite(Dot)) return 0;
        return Math.Abs(Dot) / Math.Sqrt(variance);
    }
}

/// <summary>
/// Fused candidate evaluation and scoring for sure independence screening: the binary-operator candidates of two columns
/// are computed and reduced to <see cref="CandidateSums"/> in one pass over the samples, never written out. Columns are
/// padded to a multiple of <see cref="Padding"/> with their first value (so padded samples add nothing to d) and the
/// target with zeros.
/// </summary>
public static class PairScreening
{
    public const int Padding = 8;

    public static int PaddedLength(int samples) => (samples + Padding - 1) / Padding * Padding;

    /// <summary>a + b, a - b and |a - b| into sums[0..3).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void SumGroup(ReadOnlySpan<double> a, ReadOnlySpan<double> b, ReadOnlySpan<double> target, Span<CandidateSums> sums)
    {
        CheckLengths(a, b, target, sums, 3);
        ref double pa = ref MemoryMarshal.GetReference(a), pb = ref MemoryMarshal.GetReference(b), pt = ref MemoryMarshal.GetReference(target);
        double a0 = a[0], b0 = b[0];
        var pilotSum = Vector256.Create(a0 + b0);
        var pilotDifference = Vector256.Create(a0 - b0);
        var pilotAbsolute = Vector256.Create(Math.Abs(a0 - b0));
        Vector256<double> s1 = default, s2 = default, s3 = default, q1 = default, q2 = default, q3 = default, t1 = default, t2 = default, t3 = default;
        for (nuint k = 0, length = (nuint)a.Length; k < length; k += 4)
        {
            var va = Vector256.LoadUnsafe(ref pa, k);
            var vb = Vector256.LoadUnsafe(ref pb, k);
            var vt = Vector256.LoadUnsafe(ref pt, k);
            var difference = va - vb;
            var d1 = va + vb - pilotSum;
            var d2 = difference - pilotDifference;
            var d3 = Vector256.Abs(difference) - pilotAbsolute;
            s1 += d1;
            s2 += d2;
            s3 += d3;
            q1 = Vector256.MultiplyAddEstimate(d1, d1, q1);
            q2 = Vector256.MultiplyAddEstimate(d2, d2, q2);
            q3 = Vector256.MultiplyAddEstimate(d3, d3, q3);
            t1 = Vector256.MultiplyAddEstimate(d1, vt, t1);
            t2 = Vector256.MultiplyAddEstimate(d2, vt, t2);
            t3 = Vector256.MultiplyAddEstimate(d3, vt, t3);
        }

        sums[0] = new CandidateSums { Sum = Vector256.Sum(s1), SumOfSquares = Vector256.Sum(q1), Dot = Vector256.Sum(t1) };
        sums[1] = new CandidateSums { Sum = Vector256.Sum(s2), SumOfSquares = Vector256.Sum(q2), Dot = Vector256.Sum(t2) };
        sums[2] = new CandidateSums { Sum = Vector256.Sum(s3), SumOfSquares = Vector256.Sum(q3), Dot = Vector256.Sum(t3) };
    }

    /// <summary>
    /// a * b, a / b and b / a into sums[0..3), the quotients as products with the precomputed reciprocals 1/b and 1/a
    /// (within an ulp of the division, and several times faster).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ProductGroup(ReadOnlySpan<double> a, ReadOnlySpan<double> b, ReadOnlySpan<double> inverseA, ReadOnlySpan<double> inverseB,
        ReadOnlySpan<double> target, Span<CandidateSums> sums)
    {
        CheckLengths(a, b, target, sums, 3);
        if (inverseA.Length != a.Length || inverseB.Length != a.Length) throw new ArgumentException("The reciprocal columns must be as long as the columns.");
        ref double pa = ref MemoryMarshal.GetReference(a), pb = ref MemoryMarshal.GetReference(b), pt = ref MemoryMarshal.GetReference(target);
        ref double ia = ref MemoryMarshal.GetReference(inverseA), ib = ref MemoryMarshal.GetReference(inverseB);
        var pilotProduct = Vector256.Create(a[0] * b[0]);
        var pilotQuotient = Vector256.Create(a[0] * inverseB[0]);
        var pilotInverseQuotient = Vector256.Create(b[0] * inverseA[0]);
        Vector256<double> s1 = default, s2 = default, s3 = default, q1 = default, q2 = default, q3 = default, t1 = default, t2 = default, t3 = default;
        for (nuint k = 0, length = (nuint)a.Length; k < length; k += 4)
        {
            var va = Vector256.LoadUnsafe(ref pa, k);
            var vb = Vector256.LoadUnsafe(ref pb, k);
            var vt = Vector256.LoadUnsafe(ref pt, k);
            var d1 = va * vb - pilotProduct;
            var d2 = va * Vector256.LoadUnsafe(ref ib, k) - pilotQuotient;
            var d3 = vb * Vector256.LoadUnsafe(ref ia, k) - pilotInverseQuotient;
            s1 += d1;
            s2 += d2;
            s3 += d3;
            q1 = Vector256.MultiplyAddEstimate(d1, d1, q1);
            q2 = Vector256.MultiplyAddEstimate(d2, d2, q2);
            q3 = Vector256.MultiplyAddEstimate(d3, d3, q3);
            t1 = Vector256.MultiplyAddEstimate(d1, vt, t1);
            t2 = Vector256.MultiplyAddEstimate(d2, vt, t2);
            t3 = Vector256.MultiplyAddEstimate(d3, vt, t3);
        }

        sums[0] = new CandidateSums { Sum = Vector256.Sum(s1), SumOfSquares = Vector256.Sum(q1), Dot = Vector256.Sum(t1) };
        sums[1] = new CandidateSums { Sum = Vector256.Sum(s2), SumOfSquares = Vector256.Sum(q2), Dot = Vector256.Sum(t2) };
        sums[2] = new CandidateSums { Sum = Vector256.Sum(s3), SumOfSquares = Vector256.Sum(q3), Dot = Vector256.Sum(t3) };
    }

    /// <summary>One column (e.g. a unary candidate) into sums.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static CandidateSums Single(ReadOnlySpan<double> f, ReadOnlySpan<double> target)
    {
        if (f.Length != target.Length || f.Length % Padding != 0 || f.Length == 0)
            throw new ArgumentException($"Column and target must have the same non-zero length, a multiple of {Padding}.");
        ref double pf = ref MemoryMarshal.GetReference(f), pt = ref MemoryMarshal.GetReference(target);
        var pilot = Vector256.Create(f[0]);
        Vector256<double> s = default, q = default, t = default;
        for (nuint k = 0, length = (nuint)f.Length; k < length; k += 4)
        {
            var d = Vector256.LoadUnsafe(ref pf, k) - pilot;
            s += d;
            q = Vector256.MultiplyAddEstimate(d, d, q);
            t = Vector256.MultiplyAddEstimate(d, Vector256.LoadUnsafe(ref pt, k), t);
        }

        return new CandidateSums { Sum = Vector256.Sum(s), SumOfSquares = Vector256.Sum(q), Dot = Vector256.Sum(t) };
    }

    private static void CheckLengths(ReadOnlySpan<double> a, ReadOnlySpan<double> b, ReadOnlySpan<double> target, Span<CandidateSums> sums, int outputs)
    {
        if (a.Length != b.Length || a.Length != target.Length || a.Length % Padding != 0 || a.Length == 0)
            throw new ArgumentException($"Columns and target must have the same non-zero length, a multiple of {Padding} (got {a.Length}, {b.Length}, {target.Length}).");
        if (sums.Length < outputs) throw new ArgumentException($"Room for {outputs} results is needed.");
    }
}
