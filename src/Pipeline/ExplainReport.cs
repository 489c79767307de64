using System.Globalization;
using System.Text;
using System.Text.Json;
using SaGatSr.Gat.Training;

namespace SaGatSr.Pipeline;

/// <summary>
/// The data files of an explain report: formula.json (the formula as a model), formula.txt and formula.tex,
/// descriptors.csv (every descriptor's importance and whether SR kept it), crystals.csv (per crystal: split, the kept
/// descriptors, the target and both predictions) and run.json (everything needed to reproduce and audit the run).
/// </summary>
public static class ExplainReport
{
    private static readonly JsonSerializerOptions Json = new(ModelFile.Json) { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    /// <param name="run">what the caller adds to run.json (command line, dataset, training settings, timings)</param>
    /// <param name="modelPath">the network's model file, named in formula.json when the formula reads its prediction</param>
    public static void Write(string folder, ExplainResult result, IReadOnlyDictionary<string, object?> run, string? modelPath = null)
    {
        Directory.CreateDirectory(folder);
        var data = result.Data;
        var formula = result.Formula.UsesNetworkPrediction && modelPath is not null
            ? result.Formula with { Model = Path.GetRelativePath(Path.GetFullPath(folder), Path.GetFullPath(modelPath)) }
            : result.Formula;
        formula.Save(Path.Combine(folder, FormulaModel.FileName));
        File.WriteAllText(Path.Combine(folder, "formula.txt"),
            $"{data.TargetName} = {result.Sr.Best.ToText()}\nexpanded: {data.TargetName} = {result.Sr.Best.ToSimplifiedText()}\n" +
            $"full precision: {data.TargetName} = {result.Formula.Formula}\n" +
            string.Concat(result.Formula.Descriptors.Select(d => $"  {d.Name}: {d.Meaning}\n")));
        File.WriteAllText(Path.Combine(folder, "formula.tex"),
            $"\\[ \\mathrm{{{data.TargetName.Replace("_", "\\_")}}} = {result.Sr.Best.ToLatex()} \\]\n");

        var kept = result.Kept.Select(d => d.Name).ToHashSet();
        var descriptors = new StringBuilder("rank,descriptor,importance,role,sae_feature,kept,meaning\n");
        for (int r = 0; r < result.Ranking.Count; r++)
        {
            var d = result.Ranking[r];
            descriptors.Append(CultureInfo.InvariantCulture,
                $"{r + 1},{d.Name},{d.Importance:R},{d.Source.Role?.ToString() ?? "all"},{d.Source.Feature},{(kept.Contains(d.Name) ? 1 : 0)},\"{d.Description.Replace("\"", "\"\"")}\"\n");
        }

        File.WriteAllText(Path.Combine(folder, "descriptors.csv"), descriptors.ToString());

        var setOf = new string[data.Ids.Count];
        foreach (var (name, rows) in new[] { ("train", result.Split.Train), ("val", result.Split.Validation), ("test", result.Split.Test) })
            foreach (int i in rows) setOf[i] = name;
        var csv = new StringBuilder("id,split," + string.Join(',', result.Table.Names) + $",{data.TargetName},sagat,formula\n");
        for (int i = 0; i < data.Ids.Count; i++)
        {
            csv.Append(data.Ids[i]).Append(',').Append(setOf[i] ?? "unused");
            foreach (var column in result.Table.Columns) csv.Append(',').Append(column[i].ToString("R", CultureInfo.InvariantCulture));
            csv.Append(CultureInfo.InvariantCulture, $",{data.Targets[i]:R},{result.NetworkPredictions[i]:R},{result.FormulaPredictions[i]:R}\n");
        }

        File.WriteAllText(Path.Combine(folder, "crystals.csv"), csv.ToString());

        var document = new Dictionary<string, object?>(run)
        {
            ["target"] = data.TargetName,
            ["crystals"] = data.Ids.Count,
            ["split"] = new
            {
                train = result.Split.Train.Select(i => data.Ids[i]), val = result.Split.Validation.Select(i => data.Ids[i]),
                test = result.Split.Test.Select(i => data.Ids[i]),
            },
            ["descriptors"] = new
            {
                scheme = result.Descriptors.Scheme.ToString(),
                count = result.Ranking.Count,
                fallback_crystals = result.Descriptors.FallbackCount,
                kept = result.Kept.Select(d => new { d.Name, d.Importance, role = d.Source.Role?.ToString() ?? "all", sae_feature = d.Source.Feature }),
            },
            ["screening"] = new { trials = result.Trials, chosen_k = result.Kept.Count },
            ["symbolic_regression"] = new
            {
                chosen = new { text = result.Sr.Best.ToText(), precise = result.Formula.Formula, latex = result.Sr.Best.ToLatex(), result.Sr.Best.Complexity },
                pareto_front = result.Sr.ParetoFront.Select(f => new { f.Complexity, f.Mae, f.Rmse, f.R2, text = f.ToText() }),
                evaluations = result.Sr.Evaluations,
                seconds = result.SrSeconds,
            },
            ["metrics"] = result.Metrics,
        };
        File.WriteAllText(Path.Combine(folder, "run.json"), JsonSerializer.Serialize(document, Json));
    }
}
