using SaGatSr.Kernels.Expressions;

namespace SaGatSr.Symbolic;

/// <summary>
/// Final least-squares refit of every constant of a formula (Levenberg-Marquardt in float64, central-difference Jacobian),
/// as PySR does after its search: the search's perturbed constants (2.50005) become the least-squares values (2.5).
/// </summary>
internal static class ConstantFit
{
    private const int MaxIterations = 100;

    /// <summary>The formula with refitted constants, or the same formula when refitting does not lower the squared error.</summary>
    public static Expr Refine(Expr model, IReadOnlyList<double[]> columns, double[] y)
    {
        var constants = model.Nodes().Where(e => e.Op == ExprOpCode.Constant).Select(e => e.Value).ToArray();
        int p = constants.Length, n = y.Length;
        if (p == 0) return model;
        double[]? Residual(double[] c)
        {
            var f = WithConstants(model, c).Evaluate(columns, n);
            var r = new double[n];
            for (int i = 0; i < n; i++)
            {
                r[i] = y[i] - f[i];
                if (!double.IsFinite(r[i])) return null;
            }

            return r;
        }

        static double Sse(double[] r) => r.Sum(v => v * v);
        var current = (double[])constants.Clone();
        var residual = Residual(current);
        if (residual is null) return model;
        double sse = Sse(residual), lambda = 1e-3;
        for (int iteration = 0; iteration < MaxIterations && sse > 0; iteration++)
        {
            var jacobian = Jacobian(current, Residual, n);
            if (jacobian is null) break;
            // Normal equations of the step: (J^T J + lambda diag(J^T J)) delta = J^T r, with J = df/dc = -dr/dc.
            var jtj = new double[p, p];
            var jtr = new double[p];
            for (int a = 0; a < p; a++)
            {
                for (int b = 0; b <= a; b++)
                {
                    double s = 0;
                    for (int i = 0; i < n; i++) s += jacobian[a][i] * jacobian[b][i];
                    jtj[a, b] = jtj[b, a] = s;
                }

                double t = 0;
                for (int i = 0; i < n; i++) t += jacobian[a][i] * residual[i];
                jtr[a] = t;
            }

            bool improved = false;
            while (lambda < 1e12)
            {
                var damped = (double[,])jtj.Clone();
                for (int a = 0; a < p; a++) damped[a, a] += lambda * Math.Max(jtj[a, a], 1e-300);
                var step = LeastSquares.Solve(damped, jtr);
                if (step is null) { lambda *= 10; continue; }
                var trial = current.Select((c, a) => c + step[a]).ToArray();
                var trialResidual = Residual(trial);
                if (trialResidual is not null && Sse(trialResidual) < sse)
                {
                    double gain = sse - Sse(trialResidual);
                    (current, residual, sse) = (trial, trialResidual, Sse(trialResidual));
                    lambda = Math.Max(lambda / 3, 1e-12);
                    improved = gain > 1e-15 * sse;
                    break;
                }

                lambda *= 4;
            }

            if (!improved) break;
        }

        return WithConstants(model, current);
    }

    /// <summary>df/dc_a as rows, by central differences (the residual is y - f, so df/dc = -(dr/dc)).</summary>
    private static double[][]? Jacobian(double[] c, Func<double[], double[]?> residual, int n)
    {
        var rows = new double[c.Length][];
        for (int a = 0; a < c.Length; a++)
        {
            double h = 6e-6 * Math.Max(Math.Abs(c[a]), 1e-3);
            var up = (double[])c.Clone();
            var down = (double[])c.Clone();
            up[a] += h;
            down[a] -= h;
            var (ru, rd) = (residual(up), residual(down));
            if (ru is null || rd is null) return null;
            rows[a] = new double[n];
            for (int i = 0; i < n; i++) rows[a][i] = (rd[i] - ru[i]) / (2 * h);
        }

        return rows;
    }

    /// <summary>The same tree with its constants replaced, in <see cref="Expr.Nodes"/> order.</summary>
    public static Expr WithConstants(Expr e, double[] values)
    {
        int next = 0;
        Expr Rebuild(Expr x) => x.Op switch
        {
            ExprOpCode.Constant => Expr.Const(values[next++]),
            _ when x.IsLeaf => x,
            _ => x.WithChildren(Rebuild(x.Left!), x.Right is null ? null : Rebuild(x.Right)),
        };
        return Rebuild(e);
    }
}
