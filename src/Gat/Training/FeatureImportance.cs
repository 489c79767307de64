namespace SaGatSr.Gat.Training;

/// <summary>
/// One feature's SAE importance: the coefficient a_i averaged over each crystal's atoms, then the mean and spread of that
/// over crystals. A uniform model gives every feature 1/F; the ranking is by Mean.
/// </summary>
public sealed record FeatureImportance(int Index, string Name, string Description, double Mean, double Std)
{
    /// <summary>Accumulates per-crystal means of the coefficients [atoms * features] of successive batches.</summary>
    public sealed class Accumulator(int featureCount)
    {
        private readonly double[] sum = new double[featureCount];
        private readonly double[] sumOfSquares = new double[featureCount];
        private int crystals;

        public void Add(float[] coefficients, int[] nodeOffsets)
        {
            var perCrystal = new double[featureCount];
            for (int c = 0; c + 1 < nodeOffsets.Length; c++)
            {
                Array.Clear(perCrystal);
                int atoms = nodeOffsets[c + 1] - nodeOffsets[c];
                if (atoms == 0) continue;
                for (int atom = nodeOffsets[c]; atom < nodeOffsets[c + 1]; atom++)
                for (int f = 0; f < featureCount; f++)
                    perCrystal[f] += coefficients[atom * featureCount + f];
                for (int f = 0; f < featureCount; f++)
                {
                    double mean = perCrystal[f] / atoms;
                    sum[f] += mean;
                    sumOfSquares[f] += mean * mean;
                }

                crystals++;
            }
        }

        public IReadOnlyList<FeatureImportance> Result(IReadOnlyList<string> names, IReadOnlyList<string> descriptions)
        {
            var result = new FeatureImportance[featureCount];
            for (int f = 0; f < featureCount; f++)
            {
                double mean = crystals > 0 ? sum[f] / crystals : 0;
                double variance = crystals > 0 ? Math.Max(0, sumOfSquares[f] / crystals - mean * mean) : 0;
                result[f] = new FeatureImportance(f, names[f], descriptions[f], mean, Math.Sqrt(variance));
            }

            return result.OrderByDescending(r => r.Mean).ThenBy(r => r.Index).ToArray();
        }
    }
}
