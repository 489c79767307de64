using SaGatSr.Kernels;

namespace SaGatSr.Autodiff;

public static partial class Ops
{
    /// <summary>Joins tensors with equal Rows along the columns.</summary>
    public static Tensor Concat(params Tensor[] parts)
    {
        if (parts.Length == 0) throw new ArgumentException("Concat needs at least one tensor.", nameof(parts));
        var backend = SameBackend(nameof(Concat), parts[0], parts[1..]);
        int rows = parts[0].Rows, total = 0;
        foreach (var part in parts)
        {
            if (part.Rows != rows)
                throw new ArgumentException($"Concat: {part.Describe()} has {part.Rows} rows, {parts[0].Describe()} has {rows}.");
            total += part.Cols;
        }

        var y = Tensor.Create(backend, WithCols(parts[0], total));
        int offset = 0;
        var offsets = new int[parts.Length];
        for (int p = 0; p < parts.Length; p++)
        {
            offsets[p] = offset;
            backend.CopyColumns(parts[p].Data, parts[p].Cols, 0, y.Data, total, offset, rows, parts[p].Cols);
            offset += parts[p].Cols;
        }

        Autograd.Record(y, parts, dy =>
        {
            for (int p = 0; p < parts.Length; p++)
            {
                if (!parts[p].RequiresGrad) continue;
                var grad = parts[p].GradBuffer(out bool fresh);
                backend.CopyColumns(dy, total, offsets[p], grad, parts[p].Cols, 0, rows, parts[p].Cols, accumulate: !fresh);
            }
        });
        return y;
    }

    /// <summary>Columns [offset, offset + width) of x.</summary>
    public static Tensor SliceColumns(Tensor x, int offset, int width)
    {
        var backend = SameBackend(nameof(SliceColumns), x);
        if (offset < 0 || width < 0 || offset + width > x.Cols)
            throw new ArgumentOutOfRangeException(nameof(offset), $"SliceColumns: columns [{offset}, {offset + width}) are outside the {x.Cols} columns of {x.Describe()}.");
        var y = Tensor.Create(backend, WithCols(x, width));
        backend.CopyColumns(x.Data, x.Cols, offset, y.Data, width, 0, x.Rows, width);
        Autograd.Record(y, [x], dy =>
            backend.CopyColumns(dy, width, 0, x.GradBuffer(out _), x.Cols, offset, x.Rows, width, accumulate: true));
        return y;
    }

    /// <summary>Sum of all elements -> [1].</summary>
    public static Tensor Sum(Tensor x) => Total(nameof(Sum), x, 1.0);

    /// <summary>Mean of all elements -> [1].</summary>
    public static Tensor Mean(Tensor x) => Total(nameof(Mean), x, 1.0 / Math.Max(x.Length, 1));

    /// <summary>Sum over the columns of each row -> [Rows].</summary>
    public static Tensor SumRows(Tensor x)
    {
        var backend = SameBackend(nameof(SumRows), x);
        var y = Tensor.Create(backend, x.Rows);
        backend.SumRows(x.Data, y.Data, x.Rows, x.Cols);
        Autograd.Record(y, [x], dy =>
        {
            // dx = dy[Rows,1] x ones[1,Cols]: a broadcast that can accumulate.
            using var ones = Autograd.Constant(backend, x.Cols, 1);
            var grad = x.GradBuffer(out bool fresh);
            backend.MatMul(dy, ones, grad, x.Rows, x.Cols, 1, beta: fresh ? 0f : 1f);
        });
        return y;
    }

    /// <summary>Sum over the rows of each column -> [Cols].</summary>
    public static Tensor SumColumns(Tensor x) => ColumnTotal(nameof(SumColumns), x, 1.0);

    /// <summary>Mean over the rows of each column -> [Cols].</summary>
    public static Tensor MeanColumns(Tensor x) => ColumnTotal(nameof(MeanColumns), x, 1.0 / Math.Max(x.Rows, 1));

    /// <summary>(x - mean) / sqrt(var + eps) * gamma + beta, per row over the Cols (biased variance).</summary>
    public static Tensor LayerNorm(Tensor x, Tensor gamma, Tensor beta, float eps = 1e-5f)
    {
        var backend = SameBackend(nameof(LayerNorm), x, gamma, beta);
        int rows = x.Rows, cols = x.Cols;
        if (gamma.Length != cols || beta.Length != cols)
            throw new ArgumentException($"LayerNorm: gamma {gamma.Describe()} and beta {beta.Describe()} must have {cols} elements (the columns of {x.Describe()}).");
        if (cols == 0) throw new ArgumentException($"LayerNorm: {x.Describe()} has no columns to normalise over.");
        var normalized = backend.Allocate(x.Length);
        var inverseStd = backend.Allocate(rows);
        using (var rowStatistic = backend.Allocate(rows))
        using (var rowMean = backend.Allocate(rows))
        using (var centered = backend.Allocate(x.Length))
        using (var epsilon = Autograd.Constant(backend, rows, eps))
        using (var ones = Autograd.Constant(backend, rows, 1))
        {
            backend.SumRows(x.Data, rowStatistic, rows, cols);
            Autograd.MultiplyByConstant(backend, rowStatistic, 1.0 / cols, rowMean, rows);
            backend.BroadcastColumn(BinaryOp.Sub, x.Data, rowMean, centered, rows, cols);
            backend.Unary(UnaryOp.Square, centered, normalized);
            backend.SumRows(normalized, rowStatistic, rows, cols);
            Autograd.MultiplyByConstant(backend, rowStatistic, 1.0 / cols, rowMean, rows); // now the variance
            backend.Binary(BinaryOp.Add, rowMean, epsilon, rowMean);
            backend.Unary(UnaryOp.Sqrt, rowMean, rowStatistic);
            backend.Binary(BinaryOp.Div, ones, rowStatistic, inverseStd);
            backend.BroadcastColumn(BinaryOp.Mul, centered, inverseStd, normalized, rows, cols);
        }

        var y = Tensor.Create(backend, x.Shape);
        using (var scaled = backend.Allocate(x.Length))
        {
            backend.BroadcastRow(BinaryOp.Mul, normalized, gamma.Data, scaled, rows, cols);
            backend.BroadcastRow(BinaryOp.Add, scaled, beta.Data, y.Data, rows, cols);
        }

        Autograd.Record(y, [x, gamma, beta], dy =>
        {
            if (beta.RequiresGrad)
            {
                var grad = beta.GradBuffer(out bool fresh);
                backend.SumColumns(dy, grad, rows, cols, accumulate: !fresh);
            }

            using var work = backend.Allocate(x.Length);
            if (gamma.RequiresGrad)
            {
                backend.Binary(BinaryOp.Mul, dy, normalized, work);
                var grad = gamma.GradBuffer(out bool fresh);
                backend.SumColumns(work, grad, rows, cols, accumulate: !fresh);
            }

            if (!x.RequiresGrad) return;
            // dx = inverseStd * (g - mean(g) - xhat * mean(g * xhat)) with g = dy * gamma, means over each row.
            using var g = backend.Allocate(x.Length);
            using var rowSum = backend.Allocate(rows);
            using var meanG = backend.Allocate(rows);
            using var meanGx = backend.Allocate(rows);
            backend.BroadcastRow(BinaryOp.Mul, dy, gamma.Data, g, rows, cols);
            backend.SumRows(g, rowSum, rows, cols);
            Autograd.MultiplyByConstant(backend, rowSum, 1.0 / cols, meanG, rows);
            backend.Binary(BinaryOp.Mul, g, normalized, work);
            backend.SumRows(work, rowSum, rows, cols);
            Autograd.MultiplyByConstant(backend, rowSum, 1.0 / cols, meanGx, rows);
            backend.BroadcastColumn(BinaryOp.Mul, normalized, meanGx, work, rows, cols);
            backend.Binary(BinaryOp.Sub, g, work, work);
            backend.BroadcastColumn(BinaryOp.Sub, work, meanG, g, rows, cols);
            Autograd.AccumulateGrad(x, grad => backend.BroadcastColumn(BinaryOp.Mul, g, inverseStd, grad, rows, cols));
        }, normalized, inverseStd);
        return y;
    }

    /// <summary>Mean of (prediction - target)^2 over all elements -> [1].</summary>
    public static Tensor MseLoss(Tensor prediction, Tensor target)
    {
        var backend = SameBackend(nameof(MseLoss), prediction, target);
        CheckLossShapes(nameof(MseLoss), prediction, target);
        int n = prediction.Length;
        var difference = backend.Allocate(n);
        backend.Binary(BinaryOp.Sub, prediction.Data, target.Data, difference);
        var y = Tensor.Create(backend, 1);
        using (var squares = backend.Allocate(n))
        using (var total = backend.Allocate(1))
        {
            backend.Unary(UnaryOp.Square, difference, squares);
            backend.SumRows(squares, total, 1, n);
            Autograd.MultiplyByConstant(backend, total, 1.0 / n, y.Data, 1);
        }

        Autograd.Record(y, [prediction, target], dy =>
        {
            // d/dprediction = 2 (prediction - target) / n * dy
            using var factor = backend.Allocate(1);
            using var grad = backend.Allocate(n);
            Autograd.MultiplyByConstant(backend, dy, 2.0 / n, factor, 1);
            backend.MatMul(difference, factor, grad, n, 1, 1);
            if (prediction.RequiresGrad) Autograd.AccumulateGrad(prediction, grad);
            if (target.RequiresGrad) Autograd.AccumulateGrad(target, grad, -1f);
        }, difference);
        return y;
    }

    /// <summary>Mean of |prediction - target| over all elements -> [1].</summary>
    public static Tensor L1Loss(Tensor prediction, Tensor target)
    {
        var backend = SameBackend(nameof(L1Loss), prediction, target);
        CheckLossShapes(nameof(L1Loss), prediction, target);
        int n = prediction.Length;
        var difference = backend.Allocate(n);
        backend.Binary(BinaryOp.Sub, prediction.Data, target.Data, difference);
        var y = Tensor.Create(backend, 1);
        using (var magnitudes = backend.Allocate(n))
        using (var total = backend.Allocate(1))
        {
            backend.Unary(UnaryOp.Abs, difference, magnitudes);
            backend.SumRows(magnitudes, total, 1, n);
            Autograd.MultiplyByConstant(backend, total, 1.0 / n, y.Data, 1);
        }

        Autograd.Record(y, [prediction, target], dy =>
        {
            // d/dprediction = sign(prediction - target) / n * dy, via Abs's backward on the broadcast dy / n.
            using var share = backend.Allocate(n);
            using var ones = Autograd.Constant(backend, n, 1.0 / n);
            using var grad = backend.Allocate(n);
            backend.MatMul(ones, dy, share, n, 1, 1);
            backend.UnaryBackward(UnaryOp.Abs, difference, difference, share, grad);
            if (prediction.RequiresGrad) Autograd.AccumulateGrad(prediction, grad);
            if (target.RequiresGrad) Autograd.AccumulateGrad(target, grad, -1f);
        }, difference);
        return y;
    }

    private static Tensor Total(string operation, Tensor x, double factor)
    {
        var backend = SameBackend(operation, x);
        var y = Tensor.Create(backend, 1);
        if (factor == 1.0) backend.SumRows(x.Data, y.Data, 1, x.Length);
        else
        {
            using var total = backend.Allocate(1);
            backend.SumRows(x.Data, total, 1, x.Length);
            Autograd.MultiplyByConstant(backend, total, factor, y.Data, 1);
        }

        Autograd.Record(y, [x], dy =>
        {
            // dx = factors[Length,1] x dy[1,1]
            using var factors = Autograd.Constant(backend, x.Length, factor);
            var grad = x.GradBuffer(out bool fresh);
            backend.MatMul(factors, dy, grad, x.Length, 1, 1, beta: fresh ? 0f : 1f);
        });
        return y;
    }

    private static Tensor ColumnTotal(string operation, Tensor x, double factor)
    {
        var backend = SameBackend(operation, x);
        var y = Tensor.Create(backend, x.Cols);
        if (factor == 1.0) backend.SumColumns(x.Data, y.Data, x.Rows, x.Cols);
        else
        {
            using var totals = backend.Allocate(x.Cols);
            backend.SumColumns(x.Data, totals, x.Rows, x.Cols);
            Autograd.MultiplyByConstant(backend, totals, factor, y.Data, x.Cols);
        }

        Autograd.Record(y, [x], dy =>
        {
            // dx = factors[Rows,1] x dy[1,Cols]
            using var factors = Autograd.Constant(backend, x.Rows, factor);
            var grad = x.GradBuffer(out bool fresh);
            backend.MatMul(factors, dy, grad, x.Rows, x.Cols, 1, beta: fresh ? 0f : 1f);
        });
        return y;
    }

    private static void CheckLossShapes(string operation, Tensor prediction, Tensor target)
    {
        if (prediction.Length != target.Length)
            throw new ArgumentException($"{operation}: prediction {prediction.Describe()} and target {target.Describe()} differ in size.");
        if (prediction.Length == 0) throw new ArgumentException($"{operation}: empty prediction {prediction.Describe()}.");
    }
}
