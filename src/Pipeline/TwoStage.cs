namespace SaGatSr.Pipeline;

/// <summary>
/// How a two-stage predictor joins a classifier's probability p that a value is non-zero (a crystal has a gap) with a
/// regressor trained only where it is (the gap of the non-metals): <see cref="Expected"/> predicts p x value, the
/// expectation, which trades a little error on clear cases for less on doubtful ones; <see cref="Gate"/> predicts the value
/// where p passes the classifier's threshold and 0 elsewhere, which is exact on confident metals but pays the whole gap for
/// each misclassified crystal. On the perovskites' validation crystals the expectation wins on every split (bench/RESULTS.md).
/// </summary>
public enum TwoStageRule
{
    Expected,
    Gate,
}

public static class TwoStage
{
    public static TwoStageRule ParseRule(string text) => text.ToLowerInvariant() switch
    {
        "expected" => TwoStageRule.Expected,
        "gate" => TwoStageRule.Gate,
        _ => throw new ArgumentException($"--combine must be expected (probability x value) or gate (value where the class is 1, else 0), not '{text}'."),
    };

    /// <param name="probability">the classifier's probability that the value is non-zero</param>
    /// <param name="conditional">the regressor's value, trained on the non-zero crystals</param>
    /// <param name="threshold">the classifier's decision threshold (the gate)</param>
    public static double[] Combine(IReadOnlyList<double> probability, IReadOnlyList<double> conditional, double threshold, TwoStageRule rule)
    {
        if (probability.Count != conditional.Count)
            throw new ArgumentException($"{probability.Count} probabilities for {conditional.Count} values.");
        return Enumerable.Range(0, probability.Count).Select(i => rule == TwoStageRule.Expected
            ? probability[i] * Math.Max(0, conditional[i])
            : probability[i] >= threshold ? Math.Max(0, conditional[i]) : 0).ToArray();
    }
}
