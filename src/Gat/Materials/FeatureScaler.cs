using System.Text.Json;

namespace SaGatSr.Gat.Materials;

/// <summary>Per-column standardisation (x - mean) / std fitted on training matrices; constant columns keep std = 1.</summary>
public sealed class FeatureScaler
{
    private FeatureScaler(double[] mean, double[] std)
    {
        Mean = mean;
        StandardDeviation = std;
    }

    public double[] Mean { get; }

    public double[] StandardDeviation { get; }

    public int FeatureCount => Mean.Length;

    /// <summary>Fits over all rows of all matrices (row-major [rows, featureCount]); Welford's update keeps it stable.</summary>
    public static FeatureScaler Fit(IEnumerable<float[]> matrices, int featureCount)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(featureCount, 1);
        var mean = new double[featureCount];
        var m2 = new double[featureCount];
        long rows = 0;
        foreach (var matrix in matrices)
        {
            if (matrix.Length % featureCount != 0)
                throw new ArgumentException($"a matrix of {matrix.Length} values is not a whole number of rows of {featureCount} features");
            for (int offset = 0; offset < matrix.Length; offset += featureCount)
            {
                rows++;
                for (int c = 0; c < featureCount; c++)
                {
                    double x = matrix[offset + c];
                    if (!double.IsFinite(x))
                        throw new ArgumentException($"non-finite value {x} in feature column {c}");
                    double delta = x - mean[c];
                    mean[c] += delta / rows;
                    m2[c] += delta * (x - mean[c]);
                }
            }
        }

        if (rows == 0)
            throw new ArgumentException("cannot fit a scaler on zero rows");
        var std = new double[featureCount];
        for (int c = 0; c < featureCount; c++)
        {
            double s = Math.Sqrt(m2[c] / rows);
            std[c] = s > 1e-12 * Math.Max(1, Math.Abs(mean[c])) ? s : 1;
        }

        return new FeatureScaler(mean, std);
    }

    public void TransformInPlace(float[] matrix)
    {
        if (matrix.Length % FeatureCount != 0)
            throw new ArgumentException($"a matrix of {matrix.Length} values is not a whole number of rows of {FeatureCount} features");
        for (int offset = 0; offset < matrix.Length; offset += FeatureCount)
        for (int c = 0; c < FeatureCount; c++)
            matrix[offset + c] = (float)((matrix[offset + c] - Mean[c]) / StandardDeviation[c]);
    }

    public void InverseTransformInPlace(float[] matrix)
    {
        for (int offset = 0; offset + FeatureCount <= matrix.Length; offset += FeatureCount)
        for (int c = 0; c < FeatureCount; c++)
            matrix[offset + c] = (float)(matrix[offset + c] * StandardDeviation[c] + Mean[c]);
    }

    private sealed record Dto(double[] Mean, double[] StandardDeviation);

    public string ToJson() => JsonSerializer.Serialize(new Dto(Mean, StandardDeviation));

    public static FeatureScaler FromJson(string json)
    {
        Dto? dto;
        try
        {
            dto = JsonSerializer.Deserialize<Dto>(json);
        }
        catch (JsonException ex)
        {
            throw new FormatException($"feature scaler JSON is malformed: {ex.Message}", ex);
        }

        if (dto?.Mean is null || dto.StandardDeviation is null || dto.Mean.Length != dto.StandardDeviation.Length || dto.Mean.Length == 0)
            throw new FormatException("feature scaler JSON needs Mean and StandardDeviation arrays of equal, non-zero length");
        if (dto.StandardDeviation.Any(s => !(s > 0) || !double.IsFinite(s)) || dto.Mean.Any(m => !double.IsFinite(m)))
            throw new FormatException("feature scaler JSON has a non-finite mean or a non-positive standard deviation");
        return new FeatureScaler(dto.Mean, dto.StandardDeviation);
    }
}
