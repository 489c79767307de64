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

    private SaGatPredictor(TrainedModel model, IComputeBackend backend, bool ownsBackend)
    {
        Model = model;
        this.backend = backend;
        this.ownsBackend = ownsBackend;
    }

    /// <param name="device">auto, cuda, opencl, cpu, ilgpu-cpu or reference; null: $SAGATSR_DEVICE, else auto.</param>
    public static SaGatPredictor Load(string modelPath, string? device = null)
    {
        var backend = Devices.Create(device);
        try
        {
            return new SaGatPredictor(ModelFile.Load(modelPath, backend), backend, ownsBackend: true);
        }
        catch
        {
            backend.Dispose();
            throw;
        }
    }

    /// <summary>Loads onto a backend the caller keeps (and disposes) itself, e.g. one shared with other models.</summary>
    public static SaGatPredictor Load(string modelPath, IComputeBackend backend) =>
        new(ModelFile.Load(modelPath, backend), backend, ownsBackend: false);

    public TrainedModel Model { get; }

    public string TargetName => Model.Metadata.TargetName;

    public string DeviceName => backend.Name;

    /// <summary>Features ranked by SAE importance, most important first (null for a model saved without it).</summary>
    public IReadOnlyList<FeatureImportance>? Importance => Model.Importance;

    public double[] Predict(IReadOnlyList<Structure> structures, int batchSize = 64) =>
        Model.Predict(Model.Prepare(structures), batchSize);

    public double Predict(Structure structure) => Predict([structure])[0];

    /// <summary>Whether <see cref="PredictWithUncertainty"/> gives a spread: the model is an ensemble of several networks.</summary>
    public bool HasUncertainty => false;

    /// <summary>
    /// The prediction of every structure with its uncertainty: the ensemble's mean and its members' spread, scaled on the
    /// validation crystals so that mean ± 1.645 std covers 90% of them. A single network has no spread (NaN).
    /// </summary>
    public UncertainPredictions PredictWithUncertainty(IReadOnlyList<Structure> structures, int batchSize = 64)
    {
        var mean = Predict(structures, batchSize);
        return new UncertainPredictions(mean, mean.Select(_ => double.NaN).ToArray());
    }

    public void Dispose()
    {
        Model.Dispose();
        if (ownsBackend) backend.Dispose();
    }
}
