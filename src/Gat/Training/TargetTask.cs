namespace SaGatSr.Gat.Training;

/// <summary>What a network's outputs are: regression targets in their own units, or the probability of a binary class.</summary>
public static class TargetTask
{
    public const string Regression = "regression";

    /// <summary>One logit trained with class-weighted cross-entropy; predictions are probabilities of the positive class.</summary>
    public const string Classification = "classification";

    public static string Parse(string text) => text.ToLowerInvariant() switch
    {
        "regress" or "regression" => Regression,
        "classify" or "classification" => Classification,
        _ => throw new ArgumentException($"--task must be regress or classify, not '{text}'."),
    };
}
