using SaGatSr.Kernels.Expressions;

namespace SaGatSr.Symbolic;

/// <summary>
/// A formula read back from its postfix program (<see cref="Formula.ToPostfix"/>): evaluates on any table that has the
/// features it names, with the same float64 semantics as when it was found.
/// </summary>
public sealed class PostfixFormula
{
    private readonly string[] features;

    private PostfixFormula(Expr expression, string[] features)
    {
        Expression = expression;
        this.features = features;
    }

    public Expr Expression { get; }

    /// <summary>The features the formula reads, in first-use order.</summary>
    public IReadOnlyList<string> Features => features;

    public static PostfixFormula Parse(IReadOnlyList<PostfixToken> program)
    {
        var names = new List<string>();
        var stack = new Stack<Expr>();
        for (int t = 0; t < program.Count; t++)
        {
            var token = program[t];
            if (token.Feature is { } feature)
            {
                int index = names.IndexOf(feature);
                if (index < 0)
                {
                    index = names.Count;
                    names.Add(feature);
                }

                stack.Push(Expr.Var(index));
            }
            else if (token.Constant is { } constant) stack.Push(Expr.Const(constant));
            else if (token.Operator is { } name)
            {
                ExprOpCode op;
                try
                {
                    op = Operators.Parse(name);
                }
                catch (ArgumentException)
                {
                    throw new FormatException($"token {t + 1}: unknown operator '{name}'");
                }

                int arity = ExprSemantics.Arity(op);
                if (stack.Count < arity) throw new FormatException($"token {t + 1}: '{name}' needs {arity} operands, the stack holds {stack.Count}");
                if (arity == 1) stack.Push(Expr.Unary(op, stack.Pop()));
                else
                {
                    var right = stack.Pop();
                    stack.Push(Expr.Binary(op, stack.Pop(), right));
                }
            }
            else throw new FormatException($"token {t + 1} is neither a feature, a constant nor an operator");
        }

        if (stack.Count != 1) throw new FormatException($"the program leaves {stack.Count} values, not one");
        return new PostfixFormula(stack.Pop(), names.ToArray());
    }

    /// <summary>The formula on every row of <paramref name="table"/>, whose columns are found by name.</summary>
    public double[] Evaluate(FeatureTable table) =>
        Evaluate(f => table.Names.Contains(f) ? table.Columns[table.IndexOf(f)] : null, table.SampleCount);

    /// <summary>The formula on <paramref name="samples"/> rows; <paramref name="column"/> gives each feature's values by name.</summary>
    public double[] Evaluate(Func<string, double[]?> column, int samples)
    {
        var columns = features.Select(f => column(f) ?? throw new ArgumentException($"the formula needs '{f}', which the table does not have")).ToArray();
        // A constant formula reads no column, so the row count must come from the caller.
        return Expression.Evaluate(columns, samples);
    }

    public string ToText() => ExprPrinter.Text(Expression, i => features[i]);
}
