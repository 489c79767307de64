namespace SaGatSr.Gat.Training;

public sealed record RegressionMetrics(int Count, double Mae, double Rmse, double R2)
{
    public static RegressionMetrics Compute(IReadOnlyList<double> actual, IReadOnlyList<double> predicted)
    {
        int n = actual.Count;
        if (n == 0) return new RegressionMetrics(0, double.NaN, double.NaN, double.NaN);
        double mean = actual.Average(), absolute = 0, squared = 0, total = 0;
        for (int i = 0; i < n; i++)
        {
            double error = predicted[i] - actual[i];
            absolute += Math.Abs(error);
            squared += error * error;
            total += (actual[i] - mean) * (actual[i] - mean);
        }

        return new RegressionMetrics(n, absolute / n, Math.Sqrt(squared / n), total > 0 ? 1 - squared / total : double.NaN);
    }

    public override string ToString() => $"MAE {Mae:G4}  RMSE {Rmse:G4}  R2 {R2:F3}  (n={Count})";
}
