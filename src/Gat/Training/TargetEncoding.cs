using SaGatSr.Autodiff;
using SaGatSr.Kernels;

namespace SaGatSr.Gat.Training;

/// <summary>
/// How the crystals' targets become the loss the network minimises and how its outputs become the user's numbers.
/// Regression: each output learns its standardised target, so with several targets each counts alike whatever its units.
/// Classification: one logit under cross-entropy, positives weighted by negatives/positives of the training crystals, so a
/// rare class (151 non-metals in 3,785) is not outvoted into a constant.
/// </summary>
public sealed record TargetEncoding(TargetScaler[] Scalers, bool Classify = false, double PositiveWeight = 1)
{
    public static TargetEncoding Regression(TargetScaler scaler) => new([scaler]);

    /// <summary>The encoding for the training crystals <paramref name="train"/> of <paramref name="data"/>.</summary>
    /// <param name="positiveWeight">a classifier's weight of class 1; null: balanced (negatives/positives)</param>
    public static TargetEncoding Fit(TrainingData data, IReadOnlyList<int> train, double? positiveWeight = null)
    {
        if (!data.IsClassification)
            return new TargetEncoding(Enumerable.Range(0, data.OutputCount)
                .Select(k => TargetScaler.Fit(train.Select(i => data.TargetRow(i)[k]))).ToArray());
        int positives = train.Count(i => ClassificationMetrics.IsPositive(data.Targets[i])), negatives = train.Count - positives;
        if (positives == 0 || negatives == 0)
            throw new ArgumentException($"the {train.Count} training crystals hold {positives} of class 1 and {negatives} of class 0 in " +
                                        $"'{data.TargetName}': a classifier needs both.");
        return new TargetEncoding([new TargetScaler(0, 1)], Classify: true, PositiveWeight: positiveWeight ?? negatives / (double)positives);
    }

    public int Outputs => Scalers.Length;

    /// <summary>The batch's targets as the loss reads them [crystals, outputs], and a classifier's per-crystal weights.</summary>
    public (Tensor Target, Tensor? Weights) Upload(IComputeBackend backend, IReadOnlyList<CrystalSample> samples, IReadOnlyList<int> indices)
    {
        int outputs = Outputs;
        var values = new float[indices.Count * outputs];
        for (int r = 0; r < indices.Count; r++)
            for (int k = 0; k < outputs; k++)
                values[r * outputs + k] = Classify ? (float)samples[indices[r]].Targets[k] : Scalers[k].Normalise(samples[indices[r]].Targets[k]);
        var target = Tensor.FromArray(backend, values, indices.Count, outputs);
        if (!Classify) return (target, null);
        return (target, Tensor.FromArray(backend, values.Select(v => v >= 0.5f ? (float)PositiveWeight : 1f).ToArray(), indices.Count, 1));
    }

    /// <summary>The batch loss of <paramref name="prediction"/> [crystals, outputs] against <see cref="Upload"/>'s targets.</summary>
    public Tensor Loss(Tensor prediction, Tensor target, Tensor? weights, string loss) =>
        Classify ? Ops.BinaryCrossEntropyWithLogits(prediction, target, weights)
        : loss == "l1" ? Ops.L1Loss(prediction, target) : Ops.MseLoss(prediction, target);

    /// <summary>
    /// Output <paramref name="output"/>'s raw value in the user's terms: the target's units, or a probability. Weighting
    /// class 1 by w moves the logit the loss is minimised at by log w (it learns the odds of a balanced world), so the
    /// probability subtracts it again: P(class 1) at the training crystals' own prior, which is what p x value needs.
    /// </summary>
    public double Restore(int output, double value) => Classify ? Sigmoid(value - Math.Log(PositiveWeight)) : Scalers[output].Restore(value);

    private static double Sigmoid(double z) => 1 / (1 + Math.Exp(-z));

    /// <summary>A restored probability as the weighted loss sees it (the balanced world's), for the validation score.</summary>
    private double Balanced(double probability)
    {
        double p = Math.Clamp(probability, 1e-12, 1 - 1e-12);
        return Sigmoid(Math.Log(p / (1 - p)) + Math.Log(PositiveWeight));
    }

    /// <summary>
    /// What early stopping minimises on the validation crystals <paramref name="set"/>, from predictions [output][j] of the
    /// j-th of them in user terms: the MAE for one target; the mean of each target's MAE over its spread for several (no
    /// unit dominates); the class-balanced log-loss for a classifier (smooth, where ROC-AUC over a dozen positives moves in
    /// coarse steps).
    /// </summary>
    public double ValidationScore(IReadOnlyList<double[]> predicted, IReadOnlyList<CrystalSample> samples, IReadOnlyList<int> set)
    {
        double[] Actual(int k) => set.Select(i => samples[i].Targets[k]).ToArray();
        if (Classify) return ClassificationMetrics.BalancedLogLoss(Actual(0), predicted[0].Select(Balanced).ToArray());
        if (Outputs == 1) return RegressionMetrics.Compute(Actual(0), predicted[0]).Mae;
        return Enumerable.Range(0, Outputs).Average(k => RegressionMetrics.Compute(Actual(k), predicted[k]).Mae / Scalers[k].Std);
    }
}
