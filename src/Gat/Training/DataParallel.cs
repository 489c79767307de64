using SaGatSr.Autodiff;
using SaGatSr.Mpi;

namespace SaGatSr.Gat.Training;

/// <summary>
/// Data-parallel training across ranks: every rank holds the whole model and optimizer, computes the gradient of its
/// contiguous part of each global batch, and the parts are summed weighted by their share of the batch, so each step
/// equals a one-rank step on the whole batch up to rounding. The sum reaches every rank with the same bits, so the
/// replicas stay identical and take the same decisions (learning rate, early stopping) without further messages.
/// </summary>
internal static class DataParallel
{
    /// <summary>This rank's contiguous part of a batch (possibly empty when the batch has fewer crystals than ranks).</summary>
    public static int[] Slice(int[] batch, Communicator comm)
    {
        var (start, end) = comm.BlockRange(batch.Length);
        return batch[start..end];
    }

    /// <summary>
    /// Sums the ranks' gradients, each weighted by its share of the batch, and the equally weighted losses; returns the
    /// loss of the whole batch (not finite on every rank when it is not finite on one).
    /// </summary>
    public static double CombineGradients(Adam optimizer, double localLoss, int localCount, int batchCount, Communicator comm)
    {
        double weight = (double)localCount / batchCount;
        return optimizer.CombineGradients(weight, localCount == 0 ? 0 : weight * localLoss, flat => comm.AllReduce(flat, ReduceOp.Sum));
    }

    /// <summary>Predictions of the first output for the samples, each rank computing a block, gathered in order on every rank.</summary>
    public static double[] Predict(TrainedModel model, CrystalSample[] samples, Communicator comm) => PredictOutputs(model, samples, comm)[0];

    /// <summary>Every output's predictions [output][sample], each rank computing a block, gathered in order on every rank.</summary>
    public static double[][] PredictOutputs(TrainedModel model, CrystalSample[] samples, Communicator comm)
    {
        if (comm.Size == 1) return model.PredictOutputs(samples);
        var (start, end) = comm.BlockRange(samples.Length);
        var mine = end > start ? model.PredictOutputs(samples[start..end]) : Enumerable.Range(0, model.Config.Outputs).Select(_ => Array.Empty<double>()).ToArray();
        return mine.Select(output => comm.AllGather<double>(output)).ToArray();
    }
}
