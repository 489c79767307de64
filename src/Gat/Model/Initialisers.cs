namespace SaGatSr.Gat.Model;

internal static class Initialisers
{
    /// <summary>Gaussian samples (Box-Muller) from the seeded generator, so a seed fixes the initial model bit for bit.</summary>
    public static float[] Normal(Random rng, int count, double std)
    {
        var values = new float[count];
        for (int i = 0; i < count; i++)
        {
            double u1 = 1.0 - rng.NextDouble(), u2 = rng.NextDouble();
            values[i] = (float)(std * Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2));
        }

        return values;
    }

    /// <summary>Glorot/Xavier uniform for a [fanIn, fanOut] weight.</summary>
    public static float[] Glorot(Random rng, int fanIn, int fanOut)
    {
        double limit = Math.Sqrt(6.0 / (fanIn + fanOut));
        var values = new float[fanIn * fanOut];
        for (int i = 0; i < values.Length; i++) values[i] = (float)((2 * rng.NextDouble() - 1) * limit);
        return values;
    }
}
