namespace SaGatSr.Gat.Training;

/// <summary>
/// How well a spread ranks and bounds the errors: coverage of the central 68% and 90% intervals (mean ± z·std under a
/// normal error), the rank correlation of |error| with std, and how much larger the errors are where std is largest.
/// </summary>
/// <param name="TopDecileErrorRatio">mean |error| of the 10% of crystals with the largest std over that of the rest</param>
public sealed record UncertaintyMetrics(int Count, double Coverage68, double Coverage90, double SpearmanErrorSpread,
    double TopDecileErrorRatio, double MeanStd)
{
    public const double Z68 = 0.994457883209753, Z90 = 1.6448536269514722;

    public static UncertaintyMetrics Compute(IReadOnlyList<double> actual, IReadOnlyList<double> mean, IReadOnlyList<double> std)
    {
        int n = actual.Count;
        if (n == 0) return new UncertaintyMetrics(0, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN);
        var error = Enumerable.Range(0, n).Select(i => Math.Abs(actual[i] - mean[i])).ToArray();
        double Coverage(double z) => Enumerable.Range(0, n).Count(i => error[i] <= z * std[i]) / (double)n;
        var bySpread = Enumerable.Range(0, n).OrderByDescending(i => std[i]).ToArray();
        int top = Math.Max(1, n / 10);
        double rest = n > top ? bySpread.Skip(top).Average(i => error[i]) : double.NaN;
        return new UncertaintyMetrics(n, Coverage(Z68), Coverage(Z90), Spearman(error, std),
            bySpread.Take(top).Average(i => error[i]) / rest, std.Average());
    }

    /// <summary>
    /// The factor that makes mean ± 1.645·factor·spread cover 90% of the given crystals (the validation set): the 90th
    /// percentile of |error| / spread, over 1.645. Members of a small ensemble agree more closely than they are right, so
    /// their raw spread understates the error; one factor fitted on held-out crystals corrects that without touching
    /// which crystals look uncertain.
    /// </summary>
    public static double CalibrationScale(IReadOnlyList<double> actual, IReadOnlyList<double> mean, IReadOnlyList<double> spread)
    {
        var ratios = Enumerable.Range(0, actual.Count)
            .Select(i => Math.Abs(actual[i] - mean[i]) / Math.Max(spread[i], 1e-12)).Where(double.IsFinite).Order().ToArray();
        if (ratios.Length == 0) return double.NaN;
        return Quantile(ratios, 0.9) / Z90;
    }

    /// <summary>Observed coverage of the central interval of each nominal probability (a reliability diagram's points).</summary>
    public static (double Nominal, double Observed)[] ReliabilityCurve(IReadOnlyList<double> actual, IReadOnlyList<double> mean,
        IReadOnlyList<double> std, int points = 19)
    {
        var curve = new (double, double)[points];
        for (int p = 0; p < points; p++)
        {
            double nominal = (p + 1.0) / (points + 1);
            double z = NormalQuantile(0.5 + nominal / 2);
            int inside = Enumerable.Range(0, actual.Count).Count(i => Math.Abs(actual[i] - mean[i]) <= z * std[i]);
            curve[p] = (nominal, actual.Count == 0 ? double.NaN : inside / (double)actual.Count);
        }

        return curve;
    }

    /// <summary>Spearman's rank correlation, ties given their mean rank.</summary>
    public static double Spearman(IReadOnlyList<double> x, IReadOnlyList<double> y)
    {
        var rx = Ranks(x);
        var ry = Ranks(y);
        double mx = rx.Average(), my = ry.Average(), sxy = 0, sxx = 0, syy = 0;
        for (int i = 0; i < rx.Length; i++)
        {
            sxy += (rx[i] - mx) * (ry[i] - my);
            sxx += (rx[i] - mx) * (rx[i] - mx);
            syy += (ry[i] - my) * (ry[i] - my);
        }

        return sxy / Math.Sqrt(sxx * syy);
    }

    private static double[] Ranks(IReadOnlyList<double> values)
    {
        var order = Enumerable.Range(0, values.Count).OrderBy(i => values[i]).ToArray();
        var ranks = new double[values.Count];
        for (int start = 0; start < order.Length;)
        {
            int end = start;
            while (end + 1 < order.Length && values[order[end + 1]] == values[order[start]]) end++;
            for (int k = start; k <= end; k++) ranks[order[k]] = (start + end) / 2.0;
            start = end + 1;
        }

        return ranks;
    }

    /// <summary>Linear interpolation between order statistics (numpy's default).</summary>
    private static double Quantile(double[] sorted, double q)
    {
        double position = q * (sorted.Length - 1);
        int below = (int)Math.Floor(position);
        int above = Math.Min(below + 1, sorted.Length - 1);
        return sorted[below] + (position - below) * (sorted[above] - sorted[below]);
    }

    /// <summary>The standard normal quantile, by bisection on the CDF (erf to 1.2e-7 by Numerical Recipes' erfc).</summary>
    internal static double NormalQuantile(double p)
    {
        double low = -10, high = 10;
        for (int i = 0; i < 100; i++)
        {
            double middle = 0.5 * (low + high);
            if (NormalCdf(middle) < p) low = middle;
            else high = middle;
        }

        return 0.5 * (low + high);
    }

    internal static double NormalCdf(double x) => 0.5 * Erfc(-x / Math.Sqrt(2));

    private static double Erfc(double x)
    {
        double z = Math.Abs(x), t = 1 / (1 + 0.5 * z);
        double r = t * Math.Exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 +
            t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
        return x >= 0 ? r : 2 - r;
    }
}
