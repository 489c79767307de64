using ILGPU;
using ILGPU.Algorithms;

namespace SaGatSr.Kernels.Expressions;

/// <summary>
/// <see cref="LinearFit"/> on the device: one group per program reduces float64 sums of its outputs, shifted by its first
/// output so that a large mean does not swamp the variance, and writes (intercept, slope, residual sum of squares).
/// </summary>
internal static class ExprFitKernel
{
    public const int MaxGroupSize = 256;

    /// <summary>The largest power of two that the accelerator's groups hold, up to <see cref="MaxGroupSize"/>.</summary>
    public static int GroupSize(int maxThreadsPerGroup)
    {
        int size = 1;
        while (size * 2 <= Math.Min(MaxGroupSize, maxThreadsPerGroup)) size *= 2;
        return size;
    }

    /// <param name="centredTarget">y minus its mean, per sample</param>
    /// <param name="centredTargetSum">the sum of <paramref name="centredTarget"/> (zero but for rounding)</param>
    public static void Kernel(ArrayView<float> outputs, ArrayView<double> centredTarget, ArrayView<double> fits, int samples,
        double targetMean, double targetSumSquares, double centredTargetSum, int groupSize)
    {
        var sums = SharedMemory.Allocate<double>(MaxGroupSize);
        var squares = SharedMemory.Allocate<double>(MaxGroupSize);
        var products = SharedMemory.Allocate<double>(MaxGroupSize);
        var nonFinite = SharedMemory.Allocate<int>(MaxGroupSize);
        int program = Grid.IdxX, thread = Group.IdxX;
        long first = (long)program * samples;
        double shift = outputs[first];
        double sum = 0, square = 0, product = 0;
        int bad = 0;
        for (int i = thread; i < samples; i += groupSize)
        {
            float t = outputs[first + i];
            if (XMath.IsNaN(t) || XMath.IsInfinity(t))
            {
                bad++;
                continue;
            }

            double v = t - shift;
            sum += v;
            square += v * v;
            product += v * centredTarget[i];
        }

        sums[thread] = sum;
        squares[thread] = square;
        products[thread] = product;
        nonFinite[thread] = bad;
        Group.Barrier();
        for (int stride = groupSize / 2; stride > 0; stride /= 2)
        {
            if (thread < stride)
            {
                sums[thread] += sums[thread + stride];
                squares[thread] += squares[thread + stride];
                products[thread] += products[thread + stride];
                nonFinite[thread] += nonFinite[thread + stride];
            }

            Group.Barrier();
        }

        if (thread != 0) return;
        long at = 3L * program;
        if (nonFinite[0] > 0)
        {
            fits[at] = double.NaN;
            fits[at + 1] = 0;
            fits[at + 2] = double.PositiveInfinity;
            return;
        }

        double n = samples, shiftedMean = sums[0] / n, mean = shiftedMean + shift;
        double variance = squares[0] - sums[0] * shiftedMean;
        double covariance = products[0] - shiftedMean * centredTargetSum;
        if (!(variance > LinearFit.ConstantTolerance * n * XMath.Max(1.0, mean * mean)) || XMath.IsInfinity(variance))
        {
            fits[at] = targetMean;
            fits[at + 1] = 0;
            fits[at + 2] = targetSumSquares;
            return;
        }

        double slope = covariance / variance;
        fits[at] = targetMean - slope * mean;
        fits[at + 1] = slope;
        // One pass gives the residuals as total minus explained; rounding can take a perfect fit a hair below zero.
        fits[at + 2] = XMath.Max(0.0, targetSumSquares - slope * covariance);
    }
}
