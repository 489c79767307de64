namespace SaGatSr.Gat.Training;

/// <summary>
/// The last gate before the network: one NaN or infinity in a feature, a bond length or a target spreads through a whole
/// batch's gradients and the run diverges epochs later with no trace of the crystal that caused it.
/// </summary>
public static class InputCheck
{
    /// <summary>Throws <see cref="InvalidDataException"/> naming the crystal, the atom and the feature of the first bad value.</summary>
    public static void EnsureFinite(TrainingData data)
    {
        int featureCount = data.Features.Count;
        for (int i = 0; i < data.Inputs.Count; i++)
        {
            string id = data.Ids[i];
            if (!double.IsFinite(data.Targets[i]))
                throw new InvalidDataException($"crystal {id}: target '{data.TargetName}' is {data.Targets[i]}; it would reach the network as a non-finite number");
            var (graph, features) = data.Inputs[i];
            for (int k = 0; k < features.Length; k++)
                if (!float.IsFinite(features[k]))
                    throw new InvalidDataException(
                        $"crystal {id}: feature {data.Features.Features[k % featureCount].Name} of atom {k / featureCount + 1} is {features[k]}; " +
                        "it would reach the network as a non-finite number");
            for (int e = 0; e < graph.EdgeCount; e++)
                if (!float.IsFinite(graph.EdgeDistance[e]))
                    throw new InvalidDataException($"crystal {id}: bond {e + 1} has length {graph.EdgeDistance[e]}; it would reach the network as a non-finite number");
        }
    }
}
