using System.IO.Compression;
using System.Text.Json;
using SaGatSr.Gat.Materials;
using SaGatSr.Gat.Model;
using SaGatSr.Kernels;

namespace SaGatSr.Gat.Training;

/// <summary>What a model file records besides the weights: how it was trained and how well it did.</summary>
public sealed record ModelMetadata
{
    public string TargetName { get; init; } = "target";
    public double TargetMean { get; init; }
    public double TargetStd { get; init; } = 1;

    /// <summary><see cref="TargetTask.Regression"/>, or <see cref="TargetTask.Classification"/> (outputs are probabilities).</summary>
    public string Task { get; init; } = TargetTask.Regression;

    /// <summary>Every output's name, mean and spread when the network learns several targets; null for one.</summary>
    public string[]? TargetNames { get; init; }
    public double[]? TargetMeans { get; init; }
    public double[]? TargetStds { get; init; }

    /// <summary>A classifier's probability from which a crystal is called positive, chosen on the validation crystals.</summary>
    public double DecisionThreshold { get; init; } = 0.5;

    /// <summary>The weight of class 1 in a classifier's loss, taken out of its logit again when it predicts a probability.</summary>
    public double PositiveWeight { get; init; } = 1;

    /// <summary>What class 1 means in the dataset's terms (e.g. "dir_gap > 0"); null when the column held 0/1 itself.</summary>
    public string? PositiveClass { get; init; }

    /// <summary>The filter the training rows passed (e.g. "dir_gap > 0"), so later runs on the dataset can apply it again.</summary>
    public string? Where { get; init; }
    public string Created { get; init; } = "";
    public string? Dataset { get; init; }
    public int BestEpoch { get; init; }
    public RegressionMetrics? Train { get; init; }
    public RegressionMetrics? Validation { get; init; }
    public RegressionMetrics? Test { get; init; }

    /// <summary>Ids of the crystals in each split, so later analyses (explain) test on crystals the model never saw.</summary>
    public string[]? TrainIds { get; init; }
    public string[]? ValidationIds { get; init; }
    public string[]? TestIds { get; init; }
}

/// <summary>
/// A trained model in one zip file: config.json, metadata.json, scaler.json, parameters.bin and importance.csv; a
/// training checkpoint adds optimizer.bin and progress.json; an ensemble holds ensemble.json and each member's files
/// under members/NAME/. Files are written to a temporary name and renamed over the target, so a crash mid-write leaves
/// the previous file intact, never a truncated one; every file carries a manifest of its entries' SHA-256s and is verified
/// before it is read (<see cref="FileIntegrity"/>).
/// </summary>
public static class ModelFile
{
    public static readonly JsonSerializerOptions Json = new() { WriteIndented = true, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };

    public static void WriteAtomically(string path, Action<ZipArchive> write)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(directory);
        var temporary = Path.Combine(directory, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write))
            using (var zip = new ZipArchive(stream, ZipArchiveMode.Create)) write(zip);
            FileIntegrity.AppendManifest(temporary);
            using (var stream = new FileStream(temporary, FileMode.Open, FileAccess.ReadWrite)) stream.Flush(flushToDisk: true);

            File.Move(temporary, path, overwrite: true);
        }
        catch (IOException e) when (e.GetType() == typeof(IOException))
        {
            throw new IOException($"{path}: could not be written ({e.Message}); " +
                                  (File.Exists(path) ? "the previous file is unchanged" : "no file was written"), e);
        }
        finally
        {
            if (File.Exists(temporary)) File.Delete(temporary);
        }
    }

    public static void WriteText(ZipArchive zip, string name, string text)
    {
        using var writer = new StreamWriter(zip.CreateEntry(name, CompressionLevel.Fastest).Open());
        writer.Write(text);
    }

    public static string ReadText(ZipArchive zip, string path, string name)
    {
        var entry = zip.GetEntry(name) ?? throw new InvalidDataException($"{path}: not a SaGatSr model file (no {name}).");
        using var reader = new StreamReader(entry.Open());
        return reader.ReadToEnd();
    }

    /// <param name="prefix">the folder inside the zip that holds this network: "" for a single network, members/NAME/ for an
    /// ensemble's member</param>
    public static void WriteModel(ZipArchive zip, TrainedModel model, string prefix = "")
    {
        WriteText(zip, prefix + "config.json", JsonSerializer.Serialize(model.Network.Config, Json));
        WriteText(zip, prefix + "metadata.json", JsonSerializer.Serialize(model.Metadata, Json));
        WriteText(zip, prefix + "scaler.json", model.FeatureScaler.ToJson());
        using (var stream = zip.CreateEntry(prefix + "parameters.bin", CompressionLevel.Fastest).Open())
            model.Network.SaveParameters(stream);
        if (model.Importance is { Count: > 0 } importance)
            WriteText(zip, prefix + "importance.csv", ImportanceCsv(importance));
    }

    public static void Save(string path, TrainedModel model) => WriteAtomically(path, zip => WriteModel(zip, model));

    /// <summary>A single network; an ensemble's file is refused here (<see cref="LoadEnsemble"/> reads both).</summary>
    public static TrainedModel Load(string path, IComputeBackend backend) => Open(path, zip =>
    {
        if (zip.GetEntry(EnsembleEntry) is not null)
            throw new InvalidDataException($"{path}: holds an ensemble of networks; load it with ModelFile.LoadEnsemble or SaGatPredictor.");
        return ReadModel(zip, path, backend);
    });

    /// <summary>An ensemble; a file with a single network (as written before ensembles) is an ensemble of one.</summary>
    public static EnsembleModel LoadEnsemble(string path, IComputeBackend backend) => Open(path, zip =>
    {
        if (zip.GetEntry(EnsembleEntry) is null)
        {
            var single = ReadModel(zip, path, backend);
            return new EnsembleModel([single], [EnsembleMember.Describe(single.Config, single.Config.Seed)], EnsembleMetadata.Of(single));
        }

        var metadata = JsonSerializer.Deserialize<EnsembleMetadata>(ReadText(zip, path, EnsembleEntry), Json)
                       ?? throw new InvalidDataException($"{path}: empty {EnsembleEntry}.");
        if (metadata.Members.Length == 0) throw new InvalidDataException($"{path}: {EnsembleEntry} lists no members.");
        var members = new List<TrainedModel>();
        try
        {
            foreach (var member in metadata.Members) members.Add(ReadModel(zip, path, backend, MemberPrefix(member.Name)));
        }
        catch
        {
            foreach (var member in members) member.Dispose();
            throw;
        }

        return new EnsembleModel(members, metadata.Members, metadata);
    });

    public const string EnsembleEntry = "ensemble.json";

    public static string MemberPrefix(string name) => $"members/{name}/";

    public static void SaveEnsemble(string path, EnsembleModel ensemble) => WriteAtomically(path, zip =>
    {
        WriteText(zip, EnsembleEntry, JsonSerializer.Serialize(ensemble.Metadata, Json));
        for (int m = 0; m < ensemble.Members.Count; m++) WriteModel(zip, ensemble.Members[m], MemberPrefix(ensemble.Metadata.Members[m].Name));
    });

    private static T Open<T>(string path, Func<ZipArchive, T> read)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: model file not found.", path);
        try
        {
            using var zip = FileIntegrity.OpenVerified(path);
            return read(zip);
        }
        catch (InvalidDataException e) when (!e.Message.StartsWith(path, StringComparison.Ordinal))
        {
            throw new InvalidDataException($"{path}: not a readable SaGatSr model file ({e.Message}).", e);
        }
    }

    public static TrainedModel ReadModel(ZipArchive zip, string path, IComputeBackend backend, string prefix = "")
    {
        var config = ReadConfig(ReadText(zip, path, prefix + "config.json")) ?? throw new InvalidDataException($"{path}: empty {prefix}config.json.");
        var metadata = JsonSerializer.Deserialize<ModelMetadata>(ReadText(zip, path, prefix + "metadata.json"), Json)
                       ?? throw new InvalidDataException($"{path}: empty {prefix}metadata.json.");
        var scaler = FeatureScaler.FromJson(ReadText(zip, path, prefix + "scaler.json"));
        var network = new SaGatModel(backend, config);
        var parameters = zip.GetEntry(prefix + "parameters.bin") ?? throw new InvalidDataException($"{path}: no {prefix}parameters.bin.");
        using (var stream = parameters.Open()) network.LoadParameters(stream);
        var importance = zip.GetEntry(prefix + "importance.csv") is null ? null : ParseImportance(ReadText(zip, path, prefix + "importance.csv"));
        return new TrainedModel(network, scaler, metadata, importance);
    }

    /// <summary>
    /// A stored architecture. Encoder settings added after a model was written take the values it was trained with
    /// (their defaults have changed since), so older files keep predicting as they did.
    /// </summary>
    internal static SaGatConfig? ReadConfig(string json)
    {
        if (System.Text.Json.Nodes.JsonNode.Parse(json) is not System.Text.Json.Nodes.JsonObject node) return null;
        node.TryAdd(nameof(SaGatConfig.SaeFeatureLogits), false);
        node.TryAdd(nameof(SaGatConfig.SaeTemperature), 1f);
        node.TryAdd(nameof(SaGatConfig.SaeHeads), 1);
        return node.Deserialize<SaGatConfig>(Json);
    }

    private static string ImportanceCsv(IReadOnlyList<FeatureImportance> importance)
    {
        var text = new System.Text.StringBuilder("rank,index,feature,mean,std,description\n");
        for (int rank = 0; rank < importance.Count; rank++)
        {
            var f = importance[rank];
            text.Append(System.FormattableString.Invariant(
                $"{rank + 1},{f.Index},{f.Name},{f.Mean:R},{f.Std:R},\"{f.Description.Replace("\"", "\"\"")}\"\n"));
        }

        return text.ToString();
    }

    private static IReadOnlyList<FeatureImportance> ParseImportance(string csv)
    {
        var rows = new List<FeatureImportance>();
        foreach (var line in csv.Split('\n').Skip(1).Where(l => l.Length > 0))
        {
            var parts = line.Split(',', 6);
            var inv = System.Globalization.CultureInfo.InvariantCulture;
            rows.Add(new FeatureImportance(int.Parse(parts[1], inv), parts[2], parts[5].Trim('"').Replace("\"\"", "\""),
                double.Parse(parts[3], inv), double.Parse(parts[4], inv)));
        }

        return rows;
    }
}
