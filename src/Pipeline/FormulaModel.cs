using System.Text.Json;
using System.Text.Json.Serialization;
using SaGatSr.Gat.Materials;
using SaGatSr.Gat.Training;
using SaGatSr.Symbolic;

namespace SaGatSr.Pipeline;

/// <summary>One descriptor a formula reads, with how to compute it from a structure.</summary>
public sealed record DescriptorDefinition(string Name, string Meaning, string? Role, string SaeFeature, double Importance);

/// <summary>
/// A formula as a model, as `explain` writes it to formula.json: the expression as a postfix program with full-precision
/// constants, the definitions of the descriptors it reads and the settings that compute them (role scheme, elemental
/// properties, neighbour graph). <see cref="Predict"/> computes those descriptors for new crystals and evaluates the formula,
/// as PySR's predict does.
/// </summary>
public sealed record FormulaModel
{
    public const string FileName = "formula.json";
    public const int CurrentFormat = 1;

    public int Format { get; init; } = CurrentFormat;
    public required string Target { get; init; }
    /// <summary>The formula as text with round-trip constants.</summary>
    public required string Formula { get; init; }
    public required IReadOnlyList<PostfixToken> Postfix { get; init; }
    public required IReadOnlyList<DescriptorDefinition> Descriptors { get; init; }
    [JsonConverter(typeof(JsonStringEnumConverter<RoleScheme>))]
    public required RoleScheme Scheme { get; init; }
    public required IReadOnlyList<string> Properties { get; init; }
    public required double Cutoff { get; init; }
    public required int MaxNeighbors { get; init; }
    /// <summary>True when the formula reads the network's prediction: predicting then needs the model it came with.</summary>
    public required bool UsesNetworkPrediction { get; init; }
    /// <summary>That model, relative to the formula file's folder (set when the formula reads its prediction).</summary>
    public string? Model { get; init; }
    public required int Complexity { get; init; }
    /// <summary>Errors on the crystals it was fitted on and on the network's validation and test crystals.</summary>
    public required SplitMetrics Metrics { get; init; }
    /// <summary>"sha256:..." of the file's content without this field: a formula that changed on disk is refused, not evaluated.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Integrity { get; init; }

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    internal static FormulaModel From(Formula formula, string target, IReadOnlyList<RankedDescriptor> kept, RoleScheme scheme,
        IReadOnlyList<string> properties, GraphOptions graph, bool withPrediction, SplitMetrics metrics)
    {
        var used = formula.UsedFeatures.ToHashSet();
        return new FormulaModel
        {
            Target = target, Formula = formula.ToPreciseText(), Postfix = formula.ToPostfix().ToArray(),
            Descriptors = kept.Where(d => used.Contains(d.Name))
                .Select(d => new DescriptorDefinition(d.Name, d.Description, d.Source.Role?.ToString(), d.Source.Feature, d.Importance)).ToArray(),
            Scheme = scheme, Properties = properties.ToArray(), Cutoff = graph.Cutoff, MaxNeighbors = graph.MaxNeighbors,
            UsesNetworkPrediction = withPrediction && used.Contains(Explainer.PredictionFeature), Complexity = formula.Complexity,
            Metrics = metrics,
        };
    }

    /// <summary>Writes the formula with its integrity checksum, to a temporary name renamed over the target (never torn).</summary>
    public void Save(string path)
    {
        var unsigned = this with { Integrity = null };
        var full = Path.GetFullPath(path);
        var temporary = Path.Combine(Path.GetDirectoryName(full)!, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write))
            {
                JsonSerializer.Serialize(stream, unsigned with { Integrity = Checksum(unsigned) }, Json);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temporary, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temporary)) File.Delete(temporary);
        }
    }

    /// <summary>Over the values as they serialize, so whitespace does not matter but any changed value does.</summary>
    private static string Checksum(FormulaModel unsigned) =>
        "sha256:" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(JsonSerializer.SerializeToUtf8Bytes(unsigned, Json)));

    public static FormulaModel Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: formula file not found.", path);
        FormulaModel? model;
        try
        {
            model = JsonSerializer.Deserialize<FormulaModel>(File.ReadAllText(path), Json);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}:{e.LineNumber + 1}: not a formula file written by explain ({e.Message})", e);
        }

        if (model is null) throw new InvalidDataException($"{path}: empty formula file.");
        if (model.Format > CurrentFormat)
            throw new InvalidDataException($"{path}: formula format {model.Format} is newer than this version reads ({CurrentFormat}).");
        // Files written before the checksum existed have none and load as they did.
        if (model.Integrity is { } recorded && recorded != Checksum(model with { Integrity = null }))
            throw new InvalidDataException($"{path}: content does not match its integrity checksum, file damaged; rerun explain to write it again");
        return model;
    }

    /// <summary>True when <paramref name="path"/> holds a formula model rather than a network.</summary>
    public static bool IsFormulaFile(string path) => path.EndsWith(".json", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// The descriptors of <paramref name="structures"/> the formula reads, as a table; crystals the role rule cannot assign
    /// fall back as in training (<see cref="RoleDescriptors"/>).
    /// </summary>
    public FeatureTable DescriptorTable(IReadOnlyList<Structure> structures, double[]? networkPredictions = null)
    {
        var table = new RoleDescriptors(Properties).Compute(structures, Scheme, new GraphOptions { Cutoff = Cutoff, MaxNeighbors = MaxNeighbors });
        var names = Descriptors.Select(d => d.Name).ToList();
        var columns = names.Select(table.Column).ToList();
        if (UsesNetworkPrediction)
        {
            names.Add(Explainer.PredictionFeature);
            columns.Add(networkPredictions ?? throw new ArgumentException(
                $"the formula reads the network's prediction ({Explainer.PredictionFeature}): give the predictions of its model"));
        }

        return new FeatureTable(names.ToArray(), columns.ToArray());
    }

    /// <summary>The formula's value for each structure; <paramref name="networkPredictions"/> only when <see cref="UsesNetworkPrediction"/>.</summary>
    public double[] Predict(IReadOnlyList<Structure> structures, double[]? networkPredictions = null)
    {
        var table = DescriptorTable(structures, networkPredictions);
        return PostfixFormula.Parse(Postfix).Evaluate(name => table.Names.Contains(name) ? table.Columns[table.IndexOf(name)] : null, structures.Count);
    }
}
