namespace SaGatSr.Autodiff;

/// <summary>Initial values for parameters, drawn from a caller-seeded generator so runs are reproducible.</summary>
public static class Init
{
    /// <summary>U(-a, a) with a = sqrt(6 / (fanIn + fanOut)): keeps activation variance steady for tanh-like layers.</summary>
    public static float[] GlorotUniform(Random rng, int fanIn, int fanOut, int count) =>
        Uniform(rng, Math.Sqrt(6.0 / Math.Max(1, fanIn + fanOut)), count);

    /// <summary>U(-a, a) with a = sqrt(6 / fanIn): the ReLU-family counterpart of Glorot.</summary>
    public static float[] HeUniform(Random rng, int fanIn, int count) => Uniform(rng, Math.Sqrt(6.0 / Math.Max(1, fanIn)), count);

    public static float[] Uniform(Random rng, double limit, int count)
    {
        var values = new float[count];
        for (int i = 0; i < count; i++) values[i] = (float)((rng.NextDouble() * 2 - 1) * limit);
        return values;
    }

    /// <summary>N(0, std^2) by Box-Muller.</summary>
    public static float[] Normal(Random rng, double std, int count)
    {
        var values = new float[count];
        for (int i = 0; i < count; i++)
        {
            double u = 1 - rng.NextDouble(), v = rng.NextDouble();
            values[i] = (float)(std * Math.Sqrt(-2 * Math.Log(u)) * Math.Cos(2 * Math.PI * v));
        }

        return values;
    }

    public static float[] Constant(float value, int count)
    {
        var values = new float[count];
        Array.Fill(values, value);
        return values;
    }
}
