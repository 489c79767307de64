using SaGatSr.Kernels;

namespace SaGatSr.Autodiff;

public static partial class Ops
{
    public static Tensor Add(Tensor a, Tensor b)
    {
        var (backend, y) = BinaryForward(nameof(Add), BinaryOp.Add, a, b);
        Autograd.Record(y, [a, b], dy =>
        {
            if (a.RequiresGrad) Autograd.AccumulateGrad(a, dy);
            if (b.RequiresGrad) Autograd.AccumulateGrad(b, dy);
        });
        return y;
    }

    public static Tensor Sub(Tensor a, Tensor b)
    {
        var (backend, y) = BinaryForward(nameof(Sub), BinaryOp.Sub, a, b);
        Autograd.Record(y, [a, b], dy =>
        {
            if (a.RequiresGrad) Autograd.AccumulateGrad(a, dy);
            if (b.RequiresGrad) Autograd.AccumulateGrad(b, dy, -1f);
        });
        return y;
    }

    public static Tensor Mul(Tensor a, Tensor b)
    {
        var (backend, y) = BinaryForward(nameof(Mul), BinaryOp.Mul, a, b);
        Autograd.Record(y, [a, b], dy =>
        {
            if (a.RequiresGrad) Autograd.AccumulateGrad(a, g => backend.Binary(BinaryOp.Mul, dy, b.Data, g));
            if (b.RequiresGrad) Autograd.AccumulateGrad(b, g => backend.Binary(BinaryOp.Mul, dy, a.Data, g));
        });
        return y;
    }

    public static Tensor Div(Tensor a, Tensor b)
    {
        var (backend, y) = BinaryForward(nameof(Div), BinaryOp.Div, a, b);
        Autograd.Record(y, [a, b], dy =>
        {
            if (a.RequiresGrad) Autograd.AccumulateGrad(a, g => backend.Binary(BinaryOp.Div, dy, b.Data, g));
            if (b.RequiresGrad)
            {
                // d(a/b)/db = -y/b
                using var temporary = backend.Allocate(y.Length);
                backend.Binary(BinaryOp.Mul, dy, y.Data, temporary);
                backend.Binary(BinaryOp.Div, temporary, b.Data, temporary);
                Autograd.AccumulateGrad(b, temporary, -1f);
            }
        });
        return y;
    }

    /// <summary>x + row, with row ([Cols]) broadcast down the rows (e.g. a bias).</summary>
    public static Tensor AddRow(Tensor x, Tensor row)
    {
        var (backend, y) = RowForward(nameof(AddRow), BinaryOp.Add, x, row);
        Autograd.Record(y, [x, row], dy =>
        {
            if (x.RequiresGrad) Autograd.AccumulateGrad(x, dy);
            if (row.RequiresGrad)
            {
                var grad = row.GradBuffer(out bool fresh);
                backend.SumColumns(dy, grad, x.Rows, x.Cols, accumulate: !fresh);
            }
        });
        return y;
    }

    /// <summary>x * row, with row ([Cols]) broadcast down the rows.</summary>
    public static Tensor MulRow(Tensor x, Tensor row)
    {
        var (backend, y) = RowForward(nameof(MulRow), BinaryOp.Mul, x, row);
        Autograd.Record(y, [x, row], dy =>
        {
            if (x.RequiresGrad) Autograd.AccumulateGrad(x, g => backend.BroadcastRow(BinaryOp.Mul, dy, row.Data, g, x.Rows, x.Cols));
            if (row.RequiresGrad)
            {
                using var product = backend.Allocate(x.Length);
                backend.Binary(BinaryOp.Mul, dy, x.Data, product);
                var grad = row.GradBuffer(out bool fresh);
                backend.SumColumns(product, grad, x.Rows, x.Cols, accumulate: !fresh);
            }
        });
        return y;
    }

    /// <summary>x * column, with column ([Rows]) broadcast across the columns.</summary>
    public static Tensor MulColumn(Tensor x, Tensor column)
    {
        var (backend, y) = ColumnForward(nameof(MulColumn), BinaryOp.Mul, x, column);
        Autograd.Record(y, [x, column], dy =>
        {
            if (x.RequiresGrad) Autograd.AccumulateGrad(x, g => backend.BroadcastColumn(BinaryOp.Mul, dy, column.Data, g, x.Rows, x.Cols));
            if (column.RequiresGrad)
            {
                using var product = backend.Allocate(x.Length);
                backend.Binary(BinaryOp.Mul, dy, x.Data, product);
                var grad = column.GradBuffer(out bool fresh);
                backend.SumRows(product, grad, x.Rows, x.Cols, accumulate: !fresh);
            }
        });
        return y;
    }

    /// <summary>x / column, with column ([Rows]) broadcast across the columns.</summary>
    public static Tensor DivColumn(Tensor x, Tensor column)
    {
        var (backend, y) = ColumnForward(nameof(DivColumn), BinaryOp.Div, x, column);
        Autograd.Record(y, [x, column], dy =>
        {
            if (x.RequiresGrad) Autograd.AccumulateGrad(x, g => backend.BroadcastColumn(BinaryOp.Div, dy, column.Data, g, x.Rows, x.Cols));
            if (column.RequiresGrad)
            {
                // d(x/c)/dc = -y/c, summed over each row.
                using var product = backend.Allocate(x.Length);
                using var rowSums = backend.Allocate(x.Rows);
                backend.Binary(BinaryOp.Mul, dy, y.Data, product);
                backend.SumRows(product, rowSums, x.Rows, x.Cols);
                backend.Binary(BinaryOp.Div, rowSums, column.Data, rowSums);
                Autograd.AccumulateGrad(column, rowSums, -1f);
            }
        });
        return y;
    }

    public static Tensor Scale(Tensor x, float alpha)
    {
        var backend = SameBackend(nameof(Scale), x);
        var y = Tensor.Create(backend, x.Shape);
        backend.Unary(UnaryOp.Scale, x.Data, y.Data, alpha);
        Autograd.Record(y, [x], dy => Autograd.AccumulateGrad(x, dy, alpha));
        return y;
    }

    public static Tensor AddScalar(Tensor x, float c)
    {
        var backend = SameBackend(nameof(AddScalar), x);
        var y = Tensor.Create(backend, x.Shape);
        backend.Fill(y.Data, c);
        backend.Axpby(1f, x.Data, 1f, y.Data);
        Autograd.Record(y, [x], dy => Autograd.AccumulateGrad(x, dy));
        return y;
    }

    public static Tensor Relu(Tensor x) => Unary(UnaryOp.Relu, x);

    /// <summary>x for x &gt; 0, slope * x otherwise.</summary>
    public static Tensor LeakyRelu(Tensor x, float slope = 0.2f) => Unary(UnaryOp.LeakyRelu, x, slope);

    public static Tensor Sigmoid(Tensor x) => Unary(UnaryOp.Sigmoid, x);

    public static Tensor Tanh(Tensor x) => Unary(UnaryOp.Tanh, x);

    public static Tensor Silu(Tensor x) => Unary(UnaryOp.Silu, x);

    public static Tensor Softplus(Tensor x) => Unary(UnaryOp.Softplus, x);

    public static Tensor Exp(Tensor x) => Unary(UnaryOp.Exp, x);

    public static Tensor Log(Tensor x) => Unary(UnaryOp.Log, x);

    public static Tensor Square(Tensor x) => Unary(UnaryOp.Square, x);

    public static Tensor Sqrt(Tensor x) => Unary(UnaryOp.Sqrt, x);

    public static Tensor Abs(Tensor x) => Unary(UnaryOp.Abs, x);

    public static Tensor Neg(Tensor x) => Unary(UnaryOp.Neg, x);

    /// <summary>Any elementwise function the backend provides, differentiated by its UnaryBackward kernel.</summary>
    public static Tensor Unary(UnaryOp op, Tensor x, float alpha = 0f)
    {
        var backend = SameBackend(op.ToString(), x);
        var y = Tensor.Create(backend, x.Shape);
        backend.Unary(op, x.Data, y.Data, alpha);
        Autograd.Record(y, [x], dy =>
        {
            var grad = x.GradBuffer(out bool fresh);
            backend.UnaryBackward(op, x.Data, y.Data, dy, grad, alpha, accumulate: !fresh);
        });
        return y;
    }

    private static (IComputeBackend Backend, Tensor Result) BinaryForward(string operation, BinaryOp op, Tensor a, Tensor b)
    {
        var backend = SameBackend(operation, a, b);
        SameShape(operation, a, b);
        var y = Tensor.Create(backend, a.Shape);
        backend.Binary(op, a.Data, b.Data, y.Data);
        return (backend, y);
    }

    private static (IComputeBackend Backend, Tensor Result) RowForward(string operation, BinaryOp op, Tensor x, Tensor row)
    {
        var backend = SameBackend(operation, x, row);
        if (row.Length != x.Cols)
            throw new ArgumentException($"{operation}: the row {row.Describe()} must have {x.Cols} elements, one per column of {x.Describe()}.");
        var y = Tensor.Create(backend, x.Shape);
        backend.BroadcastRow(op, x.Data, row.Data, y.Data, x.Rows, x.Cols);
        return (backend, y);
    }

    private static (IComputeBackend Backend, Tensor Result) ColumnForward(string operation, BinaryOp op, Tensor x, Tensor column)
    {
        var backend = SameBackend(operation, x, column);
        if (column.Length != x.Rows)
            throw new ArgumentException($"{operation}: the column {column.Describe()} must have {x.Rows} elements, one per row of {x.Describe()}.");
        var y = Tensor.Create(backend, x.Shape);
        backend.BroadcastColumn(op, x.Data, column.Data, y.Data, x.Rows, x.Cols);
        return (backend, y);
    }
}
