namespace SaGatSr.Gat.Training;

public sealed record TrainingOptions
{
    public int Epochs { get; init; } = 220;
    public int BatchSize { get; init; } = 32;
    public float LearningRate { get; init; } = 3e-3f;
    /// <summary>Decoupled (AdamW) weight decay.</summary>
    public float WeightDecay { get; init; } = 5e-2f;
    /// <summary>Global gradient-norm clip; 0 disables.</summary>
    public double ClipNorm { get; init; } = 5.0;
    /// <summary>"mse" or "l1" on normalised targets.</summary>
    public string Loss { get; init; } = "l1";
    /// <summary>
    /// Stop after this many epochs without a better validation MAE; under the cosine schedule, not before half of
    /// <see cref="Epochs"/> have run.
    /// </summary>
    public int Patience { get; init; } = 40;
    /// <summary>
    /// "plateau": multiply the rate by <see cref="LearningRateFactor"/> after <see cref="LearningRatePatience"/> epochs
    /// without improvement (ReduceLROnPlateau). "cosine": per step, from the rate down to <see cref="MinLearningRate"/> over
    /// <see cref="Epochs"/> along half a cosine, after <see cref="WarmupEpochs"/> of linear warm-up.
    /// </summary>
    public string Schedule { get; init; } = "cosine";
    /// <summary>Epochs of linear learning-rate warm-up from near zero (cosine schedule only); null: <see cref="Warmup"/>'s default.</summary>
    public double? WarmupEpochs { get; init; }
    /// <summary>The warm-up in effect: <see cref="WarmupEpochs"/>, or by default 5 epochs, a tenth of the run when that is shorter.</summary>
    public double Warmup => WarmupEpochs ?? Math.Min(5, Epochs / 10.0);
    /// <summary>Decay of an exponential moving average of the weights used for validation and the saved model; 0: off.</summary>
    public float EmaDecay { get; init; }
    /// <summary>Halve the learning rate after this many epochs without improvement (ReduceLROnPlateau).</summary>
    public int LearningRatePatience { get; init; } = 12;
    public float LearningRateFactor { get; init; } = 0.5f;
    public float MinLearningRate { get; init; } = 1e-5f;
    /// <summary>A classifier's weight of class 1 in the loss; null: negatives/positives of the training crystals (balanced).</summary>
    public double? PositiveWeight { get; init; }

    public double TrainRatio { get; init; } = 0.8;
    public double ValidationRatio { get; init; } = 0.1;
    /// <summary>CSV "id,split" overriding the ratios.</summary>
    public string? SplitFile { get; init; }
    /// <summary>The split itself, overriding <see cref="SplitFile"/> and the ratios: every member of an ensemble trains on one split
    /// while its own <see cref="Seed"/> shuffles its batches.</summary>
    public DataSplit? Split { get; init; }
    public int Seed { get; init; } = 42;
    /// <summary>Where checkpoint.sagat is written each epoch; null: no checkpoints.</summary>
    public string? CheckpointDirectory { get; init; }
    /// <summary>Continue from CheckpointDirectory's checkpoint when one exists.</summary>
    public bool Resume { get; init; } = true;
    /// <summary>Ranks that split every batch (see <see cref="DataParallel"/>); null: this process alone. Rank 0 writes the checkpoints.</summary>
    public SaGatSr.Mpi.Communicator? DataParallel { get; init; }

    public void Validate()
    {
        if (Epochs <= 0) throw new ArgumentException("--epochs must be positive.");
        if (BatchSize <= 0) throw new ArgumentException("--batch-size must be positive.");
        if (Patience <= 0) throw new ArgumentException($"--patience must be at least 1, not {Patience}.");
        if (!(LearningRate > 0)) throw new ArgumentException("--lr must be positive.");
        if (Loss is not ("mse" or "l1")) throw new ArgumentException($"--loss must be mse or l1, not '{Loss}'.");
        if (Schedule is not ("plateau" or "cosine")) throw new ArgumentException($"--schedule must be plateau or cosine, not '{Schedule}'.");
        if (WarmupEpochs is { } warmup && (!(warmup >= 0) || warmup >= Epochs))
            throw new ArgumentException($"--warmup must be at least 0 and below --epochs ({Epochs}), not {WarmupEpochs}.");
        if (EmaDecay is < 0 or >= 1) throw new ArgumentException($"--ema must be 0 (off) or in (0, 1), not {EmaDecay}.");
        if (PositiveWeight is { } weight && !(weight > 0 && double.IsFinite(weight)))
            throw new ArgumentException($"--class-weight must be balanced, none or a positive number, not {weight}.");
        if (WeightDecay < 0) throw new ArgumentException($"--weight-decay must be at least 0, not {WeightDecay}.");
    }
}

/// <summary>Reported after every batch (Batch &gt; 0) and at the end of every epoch (Batch == 0, ValidationMae set: the score
/// early stopping watches, see <see cref="EpochRecord"/>).</summary>
public sealed record TrainingProgress(int Epoch, int Epochs, int Batch, int Batches, double TrainLoss, double ValidationMae,
    double BestValidationMae, float LearningRate, string? Message = null);

/// <summary>Training stopped because the loss stopped being a finite number; the last good checkpoint is kept.</summary>
public sealed class TrainingDivergedException(string message) : Exception(message);
