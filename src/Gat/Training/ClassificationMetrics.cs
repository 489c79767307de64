namespace SaGatSr.Gat.Training;

/// <summary>
/// A binary classifier's quality in numbers that survive a rare positive class: ROC-AUC (threshold-free), and at the
/// chosen probability threshold the balanced accuracy and the recall and precision of the positive class. Plain accuracy
/// is kept for reference only: predicting the common class everywhere already scores 1 - (positive share).
/// </summary>
/// <param name="LogLoss">mean negative log-likelihood, each class weighted to half of the total (what validation minimises)</param>
public sealed record ClassificationMetrics(int Count, int Positives, double Threshold, double RocAuc, double BalancedAccuracy,
    double Recall, double Precision, double Accuracy, double LogLoss)
{
    public static ClassificationMetrics Compute(IReadOnlyList<double> actual, IReadOnlyList<double> probability, double threshold)
    {
        int n = actual.Count, positives = actual.Count(IsPositive);
        int truePositives = 0, trueNegatives = 0, predictedPositives = 0;
        for (int i = 0; i < n; i++)
        {
            bool predicted = probability[i] >= threshold;
            if (predicted) predictedPositives++;
            if (predicted && IsPositive(actual[i])) truePositives++;
            if (!predicted && !IsPositive(actual[i])) trueNegatives++;
        }

        int negatives = n - positives;
        double recall = positives > 0 ? truePositives / (double)positives : double.NaN;
        double specificity = negatives > 0 ? trueNegatives / (double)negatives : double.NaN;
        return new ClassificationMetrics(n, positives, threshold, AreaUnderRoc(actual, probability), (recall + specificity) / 2, recall,
            predictedPositives > 0 ? truePositives / (double)predictedPositives : double.NaN,
            n > 0 ? (truePositives + trueNegatives) / (double)n : double.NaN, BalancedLogLoss(actual, probability));
    }

    public static bool IsPositive(double label) => label >= 0.5;

    /// <summary>
    /// The area under the ROC curve: the probability that a random positive scores above a random negative, ties counted
    /// half (Mann-Whitney U over ranks). NaN when a class is absent.
    /// </summary>
    public static double AreaUnderRoc(IReadOnlyList<double> actual, IReadOnlyList<double> score)
    {
        int n = actual.Count, positives = actual.Count(IsPositive), negatives = n - positives;
        if (positives == 0 || negatives == 0) return double.NaN;
        var order = Enumerable.Range(0, n).OrderBy(i => score[i]).ToArray();
        double positiveRankSum = 0;
        for (int start = 0; start < n;)
        {
            int end = start;
            while (end + 1 < n && score[order[end + 1]] == score[order[start]]) end++;
            double rank = (start + end) / 2.0 + 1;
            for (int k = start; k <= end; k++)
                if (IsPositive(actual[order[k]])) positiveRankSum += rank;
            start = end + 1;
        }

        return (positiveRankSum - positives * (positives + 1) / 2.0) / ((double)positives * negatives);
    }

    /// <summary>Points (false-positive rate, true-positive rate) of the ROC curve, from (0,0) to (1,1).</summary>
    public static (double FalsePositiveRate, double TruePositiveRate)[] RocCurve(IReadOnlyList<double> actual, IReadOnlyList<double> score)
    {
        int n = actual.Count, positives = actual.Count(IsPositive), negatives = n - positives;
        var curve = new List<(double, double)> { (0, 0) };
        if (positives == 0 || negatives == 0) return [(0, 0), (1, 1)];
        var order = Enumerable.Range(0, n).OrderByDescending(i => score[i]).ToArray();
        int truePositives = 0, falsePositives = 0;
        for (int k = 0; k < n; k++)
        {
            if (IsPositive(actual[order[k]])) truePositives++;
            else falsePositives++;
            if (k + 1 == n || score[order[k + 1]] != score[order[k]])
                curve.Add((falsePositives / (double)negatives, truePositives / (double)positives));
        }

        return curve.ToArray();
    }

    /// <summary>
    /// The threshold with the best balanced accuracy (Youden's J) on the given crystals, the validation set: with a rare
    /// class, 0.5 on a class-weighted network is a guess; the held-out crystals say where the classes part. Ties go to the
    /// threshold in the middle of the best run of scores, so a gap between classes is split rather than hugged.
    /// </summary>
    public static double ChooseThreshold(IReadOnlyList<double> actual, IReadOnlyList<double> probability)
    {
        int positives = actual.Count(IsPositive), negatives = actual.Count - positives;
        if (positives == 0 || negatives == 0) return 0.5;
        var candidates = probability.Distinct().Order().ToArray();
        double best = double.NegativeInfinity;
        var bestThresholds = new List<double>();
        foreach (double threshold in candidates)
        {
            int truePositives = 0, trueNegatives = 0;
            for (int i = 0; i < actual.Count; i++)
            {
                bool predicted = probability[i] >= threshold;
                if (predicted && IsPositive(actual[i])) truePositives++;
                if (!predicted && !IsPositive(actual[i])) trueNegatives++;
            }

            double balanced = (truePositives / (double)positives + trueNegatives / (double)negatives) / 2;
            if (balanced > best + 1e-12)
            {
                best = balanced;
                bestThresholds.Clear();
            }

            if (balanced >= best - 1e-12) bestThresholds.Add(threshold);
        }

        // A threshold equal to the lowest best score keeps that crystal positive; halfway to the next score below it
        // keeps the same split on these crystals and leaves room on both sides for new ones.
        double chosen = bestThresholds[0];
        double below = candidates.Where(c => c < chosen).DefaultIfEmpty(0).Max();
        return (chosen + below) / 2;
    }

    /// <summary>Log-loss with both classes weighted equally: a rare class counts as much as the common one.</summary>
    public static double BalancedLogLoss(IReadOnlyList<double> actual, IReadOnlyList<double> probability)
    {
        double positiveLoss = 0, negativeLoss = 0;
        int positives = 0, negatives = 0;
        for (int i = 0; i < actual.Count; i++)
        {
            double p = Math.Clamp(probability[i], 1e-12, 1 - 1e-12);
            if (IsPositive(actual[i]))
            {
                positiveLoss -= Math.Log(p);
                positives++;
            }
            else
            {
                negativeLoss -= Math.Log(1 - p);
                negatives++;
            }
        }

        if (positives == 0) return negatives == 0 ? double.NaN : negativeLoss / negatives;
        if (negatives == 0) return positiveLoss / positives;
        return (positiveLoss / positives + negativeLoss / negatives) / 2;
    }

    public override string ToString() =>
        $"ROC-AUC {RocAuc:F3}  balanced accuracy {BalancedAccuracy:F3}  recall {Recall:F3}  precision {Precision:F3}  " +
        $"(threshold {Threshold:G3}; {Positives} positive of {Count})";
}
