namespace SaGatSr.Kernels.Expressions;

/// <summary>
/// The least-squares line y ≈ Intercept + Slope·t of a target on one program's output t, as SR scores candidates
/// (linear scaling). A non-finite output gives (NaN, 0, +inf); a constant one (mean of y, 0, sum of squares of y).
/// </summary>
public readonly record struct LinearFit(double Intercept, double Slope, double SumSquaredResiduals)
{
    /// <summary>The target's mean and total sum of squares about it, computed once per target.</summary>
    public readonly record struct Target(double Mean, double SumSquares)
    {
        public static Target Of(ReadOnlySpan<double> y)
        {
            double sum = 0;
            foreach (double v in y) sum += v;
            double mean = y.Length == 0 ? 0 : sum / y.Length, squares = 0;
            foreach (double v in y) squares += (v - mean) * (v - mean);
            return new Target(mean, squares);
        }
    }

    /// <summary>Below this variance of t relative to its size, t counts as constant (no slope is fitted).</summary>
    public const double ConstantTolerance = 1e-12;

    public static LinearFit NonFinite => new(double.NaN, 0, double.PositiveInfinity);

    /// <summary>Two passes in float64 over the host copy of t.</summary>
    public static LinearFit Compute(ReadOnlySpan<float> t, ReadOnlySpan<double> y, Target target)
    {
        int n = t.Length;
        double mean = 0;
        for (int i = 0; i < n; i++)
        {
            if (!float.IsFinite(t[i])) return NonFinite;
            mean += t[i];
        }

        mean /= n;
        double covariance = 0, variance = 0;
        for (int i = 0; i < n; i++)
        {
            double c = t[i] - mean;
            covariance += c * (y[i] - target.Mean);
            variance += c * c;
        }

        if (!IsVaried(variance, mean, n)) return new LinearFit(target.Mean, 0, target.SumSquares);
        double slope = covariance / variance, intercept = target.Mean - slope * mean, residuals = 0;
        for (int i = 0; i < n; i++)
        {
            double r = y[i] - intercept - slope * t[i];
            residuals += r * r;
        }

        return new LinearFit(intercept, slope, residuals);
    }

    internal static bool IsVaried(double variance, double mean, int n) =>
        variance > ConstantTolerance * n * Math.Max(1, mean * mean) && double.IsFinite(variance);
}
