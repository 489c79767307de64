namespace SaGatSr.Gat.Training;

/// <summary>The network learns (y - mean) / std; predictions are mapped back to the user's units.</summary>
public sealed record TargetScaler(double Mean, double Std)
{
    public static TargetScaler Fit(IEnumerable<double> targets)
    {
        var values = targets.ToArray();
        double mean = values.Average();
        double std = Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / Math.Max(1, values.Length));
        // A constant target would divide by zero; any positive scale then gives the same fit.
        return new TargetScaler(mean, std > 1e-12 ? std : 1.0);
    }

    public float Normalise(double value) => (float)((value - Mean) / Std);

    public double Restore(double normalised) => normalised * Std + Mean;
}
