using System.Globalization;
using SaGatSr.Cli.Reports;
using SaGatSr.Gat;
using SaGatSr.Gat.Training;

namespace SaGatSr.Cli.Commands;

internal static class ImportanceCommand
{
    public static int Run(string modelPath, int top, bool csv, string? device)
    {
        using var predictor = SaGatPredictor.Load(modelPath, device);
        var ranking = predictor.Importance
                      ?? throw new InvalidDataException(predictor.Model.Network.HasImportance
                          ? $"{modelPath}: the model holds no importance ranking (it was saved before training finished)."
                          : $"{modelPath}: the model's encoder is '{predictor.Model.Config.Encoder}', which ranks no features; importance needs an SAE model.");
        var shown = top > 0 ? ranking.Take(top).ToArray() : ranking.ToArray();
        double uniform = 1.0 / ranking.Count;
        if (csv)
        {
            Console.WriteLine("rank,feature,mean,std,relative_to_uniform,description");
            for (int i = 0; i < shown.Length; i++)
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{i + 1},{shown[i].Name},{shown[i].Mean:G6},{shown[i].Std:G6},{shown[i].Mean / uniform:F3},\"{shown[i].Description}\""));
            return 0;
        }

        Console.WriteLine($"SAE importance of {ranking.Count} features ({predictor.TargetName}); uniform would be {uniform:G4}");
        Console.WriteLine($"{"rank",4}  {"feature",-28} {"mean",10} {"std",10} {"x uniform",9}  description");
        for (int i = 0; i < shown.Length; i++)
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{i + 1,4}  {shown[i].Name,-28} {shown[i].Mean,10:G4} {shown[i].Std,10:G3} {shown[i].Mean / uniform,9:F2}  {shown[i].Description}"));
        return 0;
    }

    public static void WriteChart(string path, IReadOnlyList<FeatureImportance> ranking, int top) =>
        Plots.Importance(path, $"SAE feature importance (top {Math.Min(top, ranking.Count)} of {ranking.Count})",
            ranking.Take(top).Select(f => (f.Name, f.Mean, f.Std)).ToArray(), 1.0 / ranking.Count);
}
