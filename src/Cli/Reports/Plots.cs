using ScottPlot;

namespace SaGatSr.Cli.Reports;

/// <summary>The report figures, as PNG files (ScottPlot renders headless, no display or browser needed).</summary>
public static class Plots
{
    private const int Width = 640, Height = 520;

    /// <summary>Predicted vs actual for each named set, with the y = x line.</summary>
    public static void Parity(string path, string title, string quantity,
        IReadOnlyList<(string Label, double[] Actual, double[] Predicted)> sets)
    {
        var plot = new Plot();
        double low = double.PositiveInfinity, high = double.NegativeInfinity;
        foreach (var (label, actual, predicted) in sets.Where(s => s.Actual.Length > 0))
        {
            var points = plot.Add.ScatterPoints(actual, predicted);
            points.LegendText = label;
            points.MarkerSize = 6;
            low = Math.Min(low, Math.Min(actual.Min(), predicted.Min()));
            high = Math.Max(high, Math.Max(actual.Max(), predicted.Max()));
        }

        if (double.IsFinite(low))
        {
            var diagonal = plot.Add.Line(low, low, high, high);
            diagonal.LineColor = Colors.Gray;
            diagonal.LinePattern = LinePattern.Dashed;
        }

        plot.Title(title);
        plot.XLabel($"actual {quantity}");
        plot.YLabel($"predicted {quantity}");
        plot.ShowLegend(Alignment.UpperLeft);
        plot.SavePng(path, Width, Height);
    }

    /// <summary>
    /// Several parity plots side by side on shared axes (one panel per model, as the paper's Fig. 3d-f), each with its
    /// label (e.g. the model and its test MAE) as the panel title.
    /// </summary>
    /// <summary>
    /// A reliability diagram: for each nominal probability, the share of crystals inside the central interval of that
    /// probability (calibrated: on the diagonal); beside it, |error| against the predicted std.
    /// </summary>
    public static void Calibration(string path, string title, IReadOnlyList<(string Label, (double Nominal, double Observed)[] Curve)> curves,
        double[] std, double[] absoluteError, string quantity)
    {
        var multiplot = new Multiplot();
        multiplot.AddPlots(2);
        multiplot.Layout = new ScottPlot.MultiplotLayouts.Columns();
        var reliability = multiplot.GetPlot(0);
        DiagonalAndCurves(reliability, curves.Select(c => (c.Label, c.Curve.Select(p => p.Nominal).ToArray(), c.Curve.Select(p => p.Observed).ToArray())), steps: false);

        reliability.Axes.SetLimits(0, 1, 0, 1);
        reliability.Title(title, size: 13);
        reliability.XLabel("nominal coverage of mean ± z·std");
        reliability.YLabel("observed coverage");
        reliability.ShowLegend(Alignment.UpperLeft);

        var spread = multiplot.GetPlot(1);
        var points = spread.Add.ScatterPoints(std, absoluteError);
        points.MarkerSize = 3;
        double high = std.Length > 0 ? std.Max() : 1;
        var bound = spread.Add.Line(0, 0, high, 1.6448536269514722 * high);
        bound.LineColor = Colors.Gray;
        bound.LinePattern = LinePattern.Dashed;
        bound.LegendText = "90% bound (1.645 std)";
        spread.Title("test crystals", size: 13);
        spread.XLabel($"predicted std of {quantity}");
        spread.YLabel($"|error| of {quantity}");
        spread.ShowLegend(Alignment.UpperLeft);
        multiplot.SavePng(path, 960, 480);
    }

    /// <summary>ROC curves of a classifier on each set, with the chosen threshold's operating point on the last.</summary>
    public static void Roc(string path, string title, IReadOnlyList<(string Label, (double FalsePositiveRate, double TruePositiveRate)[] Curve)> curves,
        (double FalsePositiveRate, double TruePositiveRate)? chosen)
    {
        var plot = new Plot();
        DiagonalAndCurves(plot, curves.Select(c => (c.Label, c.Curve.Select(p => p.FalsePositiveRate).ToArray(), c.Curve.Select(p => p.TruePositiveRate).ToArray())), steps: true);

        if (chosen is { } point)
        {
            var marker = plot.Add.Marker(point.FalsePositiveRate, point.TruePositiveRate);
            marker.LegendText = "chosen threshold (test)";
            marker.MarkerSize = 10;
        }

        plot.Axes.SetLimits(0, 1, 0, 1.02);
        plot.Title(title, size: 13);
        plot.XLabel("false-positive rate");
        plot.YLabel("true-positive rate (recall of class 1)");
        plot.ShowLegend(Alignment.LowerRight);
        plot.SavePng(path, 560, 520);
    }

    /// <summary>The dashed y = x of a unit square and a labelled curve per set: points (reliability) or steps (ROC).</summary>
    private static void DiagonalAndCurves(Plot plot, IEnumerable<(string Label, double[] X, double[] Y)> curves, bool steps)
    {
        var diagonal = plot.Add.Line(0, 0, 1, 1);
        diagonal.LineColor = Colors.Gray;
        diagonal.LinePattern = LinePattern.Dashed;
        foreach (var (label, x, y) in curves)
        {
            var line = plot.Add.Scatter(x, y);
            line.LegendText = label;
            line.MarkerSize = steps ? 0 : 5;
            if (steps) line.ConnectStyle = ConnectStyle.StepVertical;
        }
    }

    public static void ParityPanels(string path, string quantity, IReadOnlyList<(string Label, double[] Actual, double[] Predicted)> panels)
    {
        var all = panels.SelectMany(p => p.Actual.Concat(p.Predicted)).ToArray();
        double pad = 0.03 * (all.Max() - all.Min()), low = all.Min() - pad, high = all.Max() + pad;
        var multiplot = new Multiplot();
        multiplot.AddPlots(panels.Count);
        multiplot.Layout = new ScottPlot.MultiplotLayouts.Columns();
        for (int i = 0; i < panels.Count; i++)
        {
            var plot = multiplot.GetPlot(i);
            var points = plot.Add.ScatterPoints(panels[i].Actual, panels[i].Predicted);
            points.MarkerSize = 3;
            var diagonal = plot.Add.Line(low, low, high, high);
            diagonal.LineColor = Colors.Gray;
            diagonal.LinePattern = LinePattern.Dashed;
            plot.Axes.SetLimits(low, high, low, high);
            plot.Title(panels[i].Label, size: 13);
            plot.XLabel($"actual {quantity}");
            plot.YLabel($"predicted {quantity}");
        }

        multiplot.SavePng(path, 480 * panels.Count, 480);
    }

    /// <summary>Horizontal bars of the top features' importance (mean, with spread as error bars), most important on top.</summary>
    public static void Importance(string path, string title, IReadOnlyList<(string Name, double Mean, double Std)> features,
        double uniformLevel)
    {
        var plot = new Plot();
        var bars = new List<Bar>();
        var ticks = new ScottPlot.TickGenerators.NumericManual();
        for (int i = 0; i < features.Count; i++)
        {
            double position = features.Count - 1 - i;
            bars.Add(new Bar { Position = position, Value = features[i].Mean, Error = features[i].Std, FillColor = Colors.SteelBlue });
            ticks.AddMajor(position, features[i].Name);
        }

        var series = plot.Add.Bars(bars);
        series.Horizontal = true;
        var uniform = plot.Add.VerticalLine(uniformLevel);
        uniform.LinePattern = LinePattern.Dashed;
        uniform.LineColor = Colors.Gray;
        uniform.LegendText = "uniform 1/F";
        plot.Axes.Left.TickGenerator = ticks;
        plot.Axes.Margins(left: 0, bottom: 0.02);
        plot.Title(title);
        plot.XLabel("SAE importance coefficient (mean over crystals)");
        plot.ShowLegend(Alignment.LowerRight);
        plot.SavePng(path, Width + 160, Math.Max(Height, 26 * features.Count + 120));
    }

    /// <summary>The Pareto front: error against complexity, with the chosen formula marked.</summary>
    public static void Pareto(string path, string title, IReadOnlyList<(int Complexity, double Error)> front, int chosenIndex,
        string errorName)
    {
        var plot = new Plot();
        double[] xs = front.Select(p => (double)p.Complexity).ToArray(), ys = front.Select(p => p.Error).ToArray();
        var line = plot.Add.Scatter(xs, ys);
        line.LegendText = "Pareto front";
        line.MarkerSize = 7;
        line.ConnectStyle = ConnectStyle.StepHorizontal;
        if (chosenIndex >= 0 && chosenIndex < front.Count)
        {
            var chosen = plot.Add.ScatterPoints(new[] { xs[chosenIndex] }, new[] { ys[chosenIndex] });
            chosen.MarkerSize = 14;
            chosen.MarkerShape = MarkerShape.OpenCircle;
            chosen.LegendText = "chosen";
            chosen.Color = Colors.Red;
        }

        plot.Title(title);
        plot.XLabel("complexity (nodes)");
        plot.YLabel(errorName);
        plot.ShowLegend(Alignment.UpperRight);
        plot.SavePng(path, Width, Height);
    }

    /// <summary>
    /// A screening run: the ensemble's uncertainty against its prediction for a uniform sample of the candidates, the top
    /// ones marked. A single network has no uncertainty, so then the prediction is drawn against the tolerance factor.
    /// </summary>
    public static void Screening(string path, string target, IReadOnlyList<SaGatSr.Pipeline.ScreenedCandidate> sample,
        IReadOnlyList<SaGatSr.Pipeline.ScreenedCandidate> top, bool hasUncertainty)
    {
        var plot = new Plot();
        (double[] X, double[] Y) Coordinates(IReadOnlyList<SaGatSr.Pipeline.ScreenedCandidate> set) => hasUncertainty
            ? (set.Select(c => c.Prediction).ToArray(), set.Select(c => c.Std).ToArray())
            : (set.Select(c => c.ToleranceFactor).ToArray(), set.Select(c => c.Prediction).ToArray());
        var (sx, sy) = Coordinates(sample);
        var all = plot.Add.ScatterPoints(sx, sy);
        all.MarkerSize = 3;
        all.LegendText = $"candidates (uniform sample of {sample.Count:N0})";
        var (tx, ty) = Coordinates(top);
        var best = plot.Add.ScatterPoints(tx, ty);
        best.MarkerSize = 9;
        best.MarkerShape = MarkerShape.OpenCircle;
        best.Color = Colors.Red;
        best.LegendText = $"top {top.Count}";
        plot.Title(hasUncertainty ? $"Screening: {target} and its uncertainty" : $"Screening: {target} (single network, no uncertainty)");
        plot.XLabel(hasUncertainty ? $"predicted {target}" : "Goldschmidt tolerance factor t");
        plot.YLabel(hasUncertainty ? $"std of {target} (calibrated)" : $"predicted {target}");
        plot.ShowLegend(Alignment.UpperRight);
        plot.SavePng(path, Width, Height);
    }

    /// <summary>Training loss and validation MAE per epoch.</summary>
    public static void TrainingCurve(string path, IReadOnlyList<(int Epoch, double TrainLoss, double ValidationMae)> history,
        string quantity)
    {
        var plot = new Plot();
        double[] epochs = history.Select(h => (double)h.Epoch).ToArray();
        var validation = plot.Add.Scatter(epochs, history.Select(h => h.ValidationMae).ToArray());
        validation.LegendText = $"validation MAE ({quantity})";
        validation.MarkerSize = 0;
        var train = plot.Add.Scatter(epochs, history.Select(h => h.TrainLoss).ToArray());
        train.LegendText = "training loss (normalised)";
        train.MarkerSize = 0;
        train.Axes.YAxis = plot.Axes.Right;
        plot.Axes.Right.Label.Text = "training loss";
        plot.Title("Training");
        plot.XLabel("epoch");
        plot.YLabel("validation MAE");
        plot.ShowLegend(Alignment.UpperRight);
        plot.SavePng(path, Width, Height);
    }
}
