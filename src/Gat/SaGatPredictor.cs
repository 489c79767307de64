using SaGatSr.Gat.Materials;
using SaGatSr.Gat.Training;
using SaGatSr.Kernels;

namespace SaGatSr.Gat;

/// <summary>Predictions in the target's units and their calibrated standard deviations (NaN where none is known).</summary>
public sealed record UncertainPredictions(double[] Mean, double[] Std);

/// <summary>
/// The embedding API: load a trained model once, then predict for structures held in memory, in batches, on the chosen
/// device. No Python, no libtorch, no files besides the model.
/// <code>
/// using var predictor = SaGatPredictor.Load("runs/demo/model/model.sagat", device: "cpu");
/// double[] gaps = predictor.Predict(structures);
/// </code>
/// </summary>
public sealed class SaGatPredictor : IDisposable
{
    private readonly IComputeBackend backend;
    private readonly bool ownsBackend;

    private SaGatPredictor(EnsembleModel ensemble, IComputeBackend backend, bool ownsBackend)
    {
        Ensemble = ensemble;
        this.backend = backend;
        this.ownsBackend = ownsBackend;
    }

    /// <param name="device">auto, cuda, opencl, cpu, ilgpu-cpu or reference; null: $SAGATSR_DEVICE, else auto.</param>
    public static SaGatPredictor Load(string modelPath, string? device = null)
    {
        var backend = Devices.Create(device);
        try
        {
            return new SaGatPredictor(ModelFile.LoadEnsemble(modelPath, backend), backend, ownsBackend: true);
        }
        catch
        {
            backend.Dispose();
            throw;
        }
    }

    /// <summary>Loads onto a backend the caller keeps (and disposes) itself, e.g. one shared with other models.</summary>
    public static SaGatPredictor Load(string modelPath, IComputeBackend backend) =>
        new(ModelFile.LoadEnsemble(modelPath, backend), backend, ownsBackend: false);

    /// <summary>The networks of the model file: one, or an ensemble's members.</summary>
    public EnsembleModel Ensemble { get; }

    /// <summary>The network that ranks the features (an ensemble's SAE member), else the first.</summary>
    public TrainedModel Model => Ensemble.RankingMember ?? Ensemble.Members[0];

    public string TargetName => Ensemble.Metadata.TargetName;

    public string DeviceName => backend.Name;

    /// <summary>Features ranked by SAE importance, most important first (null for a model saved without it).</summary>
    public IReadOnlyList<FeatureImportance>? Importance => Model.Importance;

    /// <summary>The prediction of every structure: an ensemble's mean.</summary>
    public double[] Predict(IReadOnlyList<Structure> structures, int batchSize = 64) => PredictWithUncertainty(structures, batchSize).Mean;

    public double Predict(Structure structure) => Predict([structure])[0];

    /// <summary>Whether <see cref="PredictWithUncertainty"/> gives a spread: the model is an ensemble of several networks.</summary>
    public bool HasUncertainty => Ensemble.HasSpread;

    /// <summary>
    /// The prediction of every structure with its uncertainty: the ensemble's mean and its members' spread, scaled on the
    /// validation crystals so that mean ± 1.645 std covers 90% of them. A single network has no spread (NaN).
    /// </summary>
    public UncertainPredictions PredictWithUncertainty(IReadOnlyList<Structure> structures, int batchSize = 64) =>
        Ensemble.Predict(structures, batchSize);

    /// <summary>What the model predicts: its target, or each of several (<see cref="PredictOutputs"/>).</summary>
    public IReadOnlyList<string> OutputNames => Ensemble.OutputNames;

    /// <summary>Whether the predictions are probabilities of class 1 (a classifier trained with --task classify).</summary>
    public bool IsClassifier => Ensemble.IsClassifier;

    /// <summary>A classifier's probability from which a crystal is called class 1, chosen on its validation crystals.</summary>
    public double DecisionThreshold => Ensemble.Metadata.DecisionThreshold;

    /// <summary>Every output's predictions with their uncertainty, in the order of <see cref="OutputNames"/>.</summary>
    public UncertainPredictions[] PredictOutputs(IReadOnlyList<Structure> structures, int batchSize = 64) =>
        Ensemble.PredictOutputs(structures, batchSize);

    public void Dispose()
    {
        Ensemble.Dispose();
        if (ownsBackend) backend.Dispose();
    }
}
