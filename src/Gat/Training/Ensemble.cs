using SaGatSr.Gat.Materials;
using SaGatSr.Gat.Model;

namespace SaGatSr.Gat.Training;

/// <summary>
/// One network of an ensemble: how its atoms are encoded and its seed (weights and batch order). The kinds differ in how
/// an atom becomes its first hidden vector, which is where their errors differ most (bench/RESULTS.md, ensembles).
/// </summary>
/// <param name="Kind">sae (the SAE over the site-aware descriptors), fcn (one dense layer over them) or cgcnn (CGCNN's one-hot
/// atoms through a dense layer)</param>
public sealed record EnsembleMember(string Name, string Kind, string Encoder, string Featurizer, int Seed)
{
    public int BestEpoch { get; init; }
    public double ValidationMae { get; init; } = double.NaN;
    public double TestMae { get; init; } = double.NaN;

    public static readonly IReadOnlyList<string> Kinds = ["sae", "fcn", "cgcnn"];

    /// <summary>Members of `train`'s ensemble by default: five beat three on the validation crystals of every split and target
    /// (bench/RESULTS.md, ensembles).</summary>
    public const int DefaultCount = 5;

    public static EnsembleMember Create(string kind, int seed, string? name = null) => kind switch
    {
        "sae" => new(name ?? kind, kind, "sae", "sae", seed),
        "fcn" => new(name ?? kind, kind, "fcn", "sae", seed),
        "cgcnn" => new(name ?? kind, kind, "fcn", "cgcnn", seed),
        _ => throw new ArgumentException($"unknown ensemble member '{kind}': use {string.Join(", ", Kinds)}."),
    };

    /// <summary>A network trained on its own, described as a member.</summary>
    public static EnsembleMember Describe(SaGatConfig config, int seed)
    {
        string kind = config.Featurizer == "cgcnn" ? "cgcnn" : config.Encoder;
        return new EnsembleMember(kind, kind, config.Encoder, config.Featurizer, seed);
    }

    /// <summary>
    /// The members of an ensemble of <paramref name="count"/> given by kinds in turn, each name unique (sae, fcn, cgcnn,
    /// sae-2, ...) and each seed its own; the first is seeded with <paramref name="seed"/> itself, so an ensemble of one is
    /// the network a single training run gives.
    /// </summary>
    public static EnsembleMember[] Recipe(IReadOnlyList<string> kinds, int seed)
    {
        if (kinds.Count == 0) throw new ArgumentException("an ensemble needs at least one member.");
        var members = new EnsembleMember[kinds.Count];
        for (int i = 0; i < kinds.Count; i++)
        {
            int repeat = kinds.Take(i).Count(k => k == kinds[i]);
            members[i] = Create(kinds[i], seed + i, repeat == 0 ? kinds[i] : $"{kinds[i]}-{repeat + 1}");
        }

        return members;
    }

    /// <summary>
    /// The default kinds of an ensemble of <paramref name="count"/>: one sae (it ranks the descriptors), then fcn and cgcnn
    /// in turn. The SAE costs about 2.5x an FCN epoch, so on two cores the cheap members train beside it on the other core.
    /// </summary>
    public static string[] DefaultKinds(int count) =>
        Enumerable.Range(0, count).Select(i => i == 0 ? "sae" : i % 2 == 1 ? "fcn" : "cgcnn").ToArray();
}

/// <summary>What an ensemble's file records besides its members' own metadata.</summary>
public sealed record EnsembleMetadata
{
    public string TargetName { get; init; } = "target";
    public string Created { get; init; } = "";
    public string? Dataset { get; init; }
    public EnsembleMember[] Members { get; init; } = [];

    /// <summary>Calibrated std = this x the members' sample standard deviation (NaN for one member: no spread). A classifier's
    /// spread is the members' raw spread of probability (1).</summary>
    public double SpreadScale { get; init; } = double.NaN;

    /// <summary>Each output's spread scale when the members learn several targets (the first is <see cref="SpreadScale"/>).</summary>
    public double[]? OutputSpreadScales { get; init; }

    /// <summary>A classifier's probability from which a crystal is called positive, chosen on the validation crystals.</summary>
    public double DecisionThreshold { get; init; } = 0.5;

    public ClassificationMetrics? ValidationClassification { get; init; }
    public ClassificationMetrics? TestClassification { get; init; }

    public RegressionMetrics? Train { get; init; }
    public RegressionMetrics? Validation { get; init; }
    public RegressionMetrics? Test { get; init; }
    public UncertaintyMetrics? ValidationUncertainty { get; init; }
    public UncertaintyMetrics? TestUncertainty { get; init; }
    public string[]? TrainIds { get; init; }
    public string[]? ValidationIds { get; init; }
    public string[]? TestIds { get; init; }

    public static EnsembleMetadata Of(TrainedModel single) => new()
    {
        TargetName = single.Metadata.TargetName, Created = single.Metadata.Created, Dataset = single.Metadata.Dataset,
        Members = [EnsembleMember.Describe(single.Config, single.Config.Seed)], Train = single.Metadata.Train,
        Validation = single.Metadata.Validation, Test = single.Metadata.Test, TrainIds = single.Metadata.TrainIds,
        ValidationIds = single.Metadata.ValidationIds, TestIds = single.Metadata.TestIds,
        DecisionThreshold = single.Metadata.DecisionThreshold,
    };
}

/// <summary>
/// Networks trained on one split whose mean is the prediction and whose spread, scaled on the validation crystals, its
/// uncertainty. The SAE member(s) rank the descriptors; an ensemble of one is a plain network.
/// </summary>
public sealed class EnsembleModel : IDisposable
{
    private readonly IReadOnlyList<IDisposable> ownedBackends;

    /// <param name="ownedBackends">backends the members were trained on, disposed with the ensemble</param>
    public EnsembleModel(IReadOnlyList<TrainedModel> members, IReadOnlyList<EnsembleMember> descriptions, EnsembleMetadata metadata,
        IReadOnlyList<IDisposable>? ownedBackends = null)
    {
        if (members.Count == 0 || members.Count != descriptions.Count)
            throw new ArgumentException($"an ensemble needs members, each described ({members.Count} members, {descriptions.Count} descriptions).");
        if (members.Select(m => m.Metadata.TargetName).Distinct().Count() > 1)
            throw new InvalidDataException("the members of an ensemble predict different targets: " +
                                           string.Join(", ", members.Select(m => m.Metadata.TargetName).Distinct()));
        if (members.Any(m => !m.OutputNames.SequenceEqual(members[0].OutputNames) || m.IsClassifier != members[0].IsClassifier))
            throw new InvalidDataException("the members of an ensemble differ in their outputs or task.");
        Members = members;
        Metadata = metadata with { Members = descriptions.ToArray() };
        this.ownedBackends = ownedBackends ?? [];
    }

    public IReadOnlyList<TrainedModel> Members { get; }

    public EnsembleMetadata Metadata { get; internal set; }

    public bool HasSpread => Members.Count > 1 && double.IsFinite(Metadata.SpreadScale);

    /// <summary>What the outputs predict: the target, or each of several (<see cref="PredictOutputs"/>).</summary>
    public IReadOnlyList<string> OutputNames => Members[0].OutputNames;

    /// <summary>Whether the predictions are probabilities of a class (the members' mean probability).</summary>
    public bool IsClassifier => Members[0].IsClassifier;

    public double SpreadScaleOf(int output) => Metadata.OutputSpreadScales?[output] ?? Metadata.SpreadScale;

    /// <summary>The member whose SAE ranks the features: the first SAE member; null when none has an SAE.</summary>
    public TrainedModel? RankingMember => Members.FirstOrDefault(m => m.Network.HasImportance);

    /// <summary>Each member's predictions of the first output, [member][structure]; members sharing a featurizer featurise once.</summary>
    public double[][] MemberPredictions(IReadOnlyList<Structure> structures, int batchSize = 64) =>
        MemberOutputs(structures, batchSize).Select(outputs => outputs[0]).ToArray();

    /// <summary>Each member's predictions of every output, [member][output][structure].</summary>
    public double[][][] MemberOutputs(IReadOnlyList<Structure> structures, int batchSize = 64)
    {
        var featurized = new Dictionary<string, (CrystalGraph, float[])[]>();
        var predictions = new double[Members.Count][][];
        for (int m = 0; m < Members.Count; m++)
        {
            var member = Members[m];
            string key = $"{member.Config.Featurizer}|{member.Config.Cutoff}|{member.Config.MaxNeighbors}|{member.Config.GaussianCount}";
            if (!featurized.TryGetValue(key, out var inputs))
            {
                inputs = SamplePreparer.Featurize(structures, member.CreateFeaturizer(), member.GraphOptions);
                featurized[key] = inputs;
            }

            predictions[m] = member.PredictOutputs(member.Standardise(structures, inputs), batchSize);
        }

        return predictions;
    }

    public UncertainPredictions Predict(IReadOnlyList<Structure> structures, int batchSize = 64) =>
        Combine(MemberPredictions(structures, batchSize), Metadata.SpreadScale);

    /// <summary>Every output's mean and calibrated spread, in the order of <see cref="OutputNames"/>.</summary>
    public UncertainPredictions[] PredictOutputs(IReadOnlyList<Structure> structures, int batchSize = 64)
    {
        var outputs = MemberOutputs(structures, batchSize);
        return Enumerable.Range(0, OutputNames.Count)
            .Select(k => Combine(outputs.Select(member => member[k]).ToArray(), SpreadScaleOf(k))).ToArray();
    }

    /// <summary>The mean of the members and their sample standard deviation times <paramref name="spreadScale"/> (NaN for one member).</summary>
    public static UncertainPredictions Combine(IReadOnlyList<double[]> memberPredictions, double spreadScale)
    {
        int members = memberPredictions.Count, count = memberPredictions[0].Length;
        var mean = new double[count];
        var std = new double[count];
        for (int i = 0; i < count; i++)
        {
            double sum = 0;
            for (int m = 0; m < members; m++) sum += memberPredictions[m][i];
            mean[i] = sum / members;
            double squares = 0;
            for (int m = 0; m < members; m++) squares += (memberPredictions[m][i] - mean[i]) * (memberPredictions[m][i] - mean[i]);
            std[i] = members > 1 ? spreadScale * Math.Sqrt(squares / (members - 1)) : double.NaN;
        }

        return new UncertainPredictions(mean, std);
    }

    public void Dispose()
    {
        foreach (var member in Members) member.Dispose();
        foreach (var backend in ownedBackends) backend.Dispose();
    }
}
