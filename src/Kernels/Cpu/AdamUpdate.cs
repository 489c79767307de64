using System.Numerics;
using System.Runtime.CompilerServices;

namespace SaGatSr.Kernels.Cpu;

/// <summary>One AdamW step's constants (bias corrections folded in) and its vectorised update over a range.</summary>
internal readonly record struct AdamUpdate(float LearningRate, float Beta1, float Beta2, float Epsilon, float WeightDecay,
    float InverseCorrection1, float InverseCorrection2)
{
    public static AdamUpdate Create(float learningRate, float beta1, float beta2, float epsilon, float weightDecay, int step) =>
        new(learningRate, beta1, beta2, epsilon, weightDecay,
            (float)(1 / (1 - Math.Pow(beta1, step))), (float)(1 / (1 - Math.Pow(beta2, step))));

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Apply(float[] p, float[] g, float[] m, float[] v, int start, int end)
    {
        int w = Vector<float>.Count, i = start;
        var b1 = new Vector<float>(Beta1);
        var oneMinusB1 = new Vector<float>(1 - Beta1);
        var b2 = new Vector<float>(Beta2);
        var oneMinusB2 = new Vector<float>(1 - Beta2);
        var c1 = new Vector<float>(InverseCorrection1);
        var c2 = new Vector<float>(InverseCorrection2);
        var eps = new Vector<float>(Epsilon);
        var lr = new Vector<float>(LearningRate);
        var decay = new Vector<float>(WeightDecay);
        for (; i <= end - w; i += w)
        {
            var gv = new Vector<float>(g, i);
            var mv = b1 * new Vector<float>(m, i) + oneMinusB1 * gv;
            var vv = b2 * new Vector<float>(v, i) + oneMinusB2 * gv * gv;
            var pv = new Vector<float>(p, i);
            pv -= lr * (mv * c1 / (Vector.SquareRoot(vv * c2) + eps) + decay * pv);
            mv.CopyTo(m, i);
            vv.CopyTo(v, i);
            pv.CopyTo(p, i);
        }

        for (; i < end; i++)
        {
            m[i] = Beta1 * m[i] + (1 - Beta1) * g[i];
            v[i] = Beta2 * v[i] + (1 - Beta2) * g[i] * g[i];
            p[i] -= LearningRate * (m[i] * InverseCorrection1 / (MathF.Sqrt(v[i] * InverseCorrection2) + Epsilon) + WeightDecay * p[i]);
        }
    }
}
