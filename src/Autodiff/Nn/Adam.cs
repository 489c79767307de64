using System.Text;
using SaGatSr.Kernels;

namespace SaGatSr.Autodiff;

/// <summary>Adam, or AdamW (decoupled weight decay) when weightDecay &gt; 0, over the backend's fused AdamStep kernel.</summary>
public sealed class Adam : IDisposable
{
    private const string StateMagic = "SAGATSR-ADAM";
    private const int StateVersion = 1;

    private readonly Tensor[] parameters;
    private readonly DeviceBuffer[] firstMoments;
    private readonly DeviceBuffer[] secondMoments;
    private readonly float beta1, beta2, epsilon, weightDecay;

    public Adam(IEnumerable<Tensor> parameters, float learningRate = 1e-3f, float beta1 = 0.9f, float beta2 = 0.999f,
        float epsilon = 1e-8f, float weightDecay = 0f)
    {
        this.parameters = parameters.ToArray();
        foreach (var parameter in this.parameters)
            if (!parameter.RequiresGrad)
                throw new ArgumentException($"Adam: {parameter.Describe()} does not require a gradient (use Tensor.Parameter).", nameof(parameters));
        if (this.parameters.Distinct(ReferenceEqualityComparer.Instance).Count() != this.parameters.Length)
            throw new ArgumentException("Adam: a parameter is listed twice.", nameof(parameters));
        if (learningRate < 0 || beta1 is < 0 or >= 1 || beta2 is < 0 or >= 1 || epsilon <= 0 || weightDecay < 0)
            throw new ArgumentOutOfRangeException(nameof(learningRate),
                $"Adam: need learningRate >= 0, 0 <= beta1, beta2 < 1, epsilon > 0, weightDecay >= 0 (got {learningRate}, {beta1}, {beta2}, {epsilon}, {weightDecay}).");
        LearningRate = learningRate;
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.epsilon = epsilon;
        this.weightDecay = weightDecay;
        firstMoments = this.parameters.Select(p => p.Backend.Allocate(p.Length)).ToArray();
        secondMoments = this.parameters.Select(p => p.Backend.Allocate(p.Length)).ToArray();
    }

    public float LearningRate { get; set; }

    public int StepCount { get; private set; }

    /// <summary>
    /// Scales all gradients together so their global L2 norm is at most <paramref name="maxNorm"/>. Returns the norm
    /// before clipping; a non-finite norm is returned without touching the gradients.
    /// </summary>
    public double ClipGradNorm(double maxNorm)
    {
        if (!(maxNorm > 0)) throw new ArgumentOutOfRangeException(nameof(maxNorm), $"ClipGradNorm needs maxNorm > 0, got {maxNorm}.");
        double squares = 0;
        foreach (var parameter in parameters)
            if (parameter.Grad is { } grad)
                squares += parameter.Backend.Dot(grad, grad);
        double norm = Math.Sqrt(squares);
        if (norm <= maxNorm || !double.IsFinite(norm)) return norm;
        float factor = (float)(maxNorm / norm);
        foreach (var parameter in parameters)
        {
            if (parameter.Grad is not { } grad) continue;
            using var scaled = parameter.Backend.Allocate(grad.Length);
            parameter.Backend.Axpby(factor, grad, 0f, scaled);
            parameter.Backend.Copy(scaled, grad);
        }

        return norm;
    }

    /// <summary>
    /// For data-parallel training: flattens every gradient times <paramref name="scale"/> (a parameter without one counts
    /// as zero) into one float64 vector with <paramref name="extra"/> appended, lets <paramref name="combine"/> reduce it
    /// across the replicas in place (e.g. an MPI sum), writes the gradients back and returns the combined extra value.
    /// </summary>
    public double CombineGradients(double scale, double extra, Action<double[]> combine)
    {
        var flat = new double[parameters.Sum(p => p.Length) + 1];
        int at = 0;
        foreach (var parameter in parameters)
        {
            var part = flat.AsSpan(at, parameter.Length);
            if (parameter.Grad is { } grad) parameter.Backend.Download(grad, part);
            foreach (ref double g in part) g *= scale;
            at += parameter.Length;
        }

        flat[^1] = extra;
        combine(flat);
        at = 0;
        foreach (var parameter in parameters)
        {
            parameter.Backend.Upload(parameter.GradBuffer(out _), flat.AsSpan(at, parameter.Length));
            at += parameter.Length;
        }

        return flat[^1];
    }

    /// <summary>One update of every parameter that has a gradient.</summary>
    public void Step()
    {
        StepCount++;
        for (int i = 0; i < parameters.Length; i++)
        {
            var parameter = parameters[i];
            if (parameter.Grad is not { } grad) continue;
            parameter.Backend.AdamStep(parameter.Data, grad, firstMoments[i], secondMoments[i], LearningRate, beta1, beta2,
                epsilon, weightDecay, StepCount);
        }
    }

    public void ZeroGrad()
    {
        foreach (var parameter in parameters) parameter.ZeroGrad();
    }

    /// <summary>Writes the step count and both moments (float64), for resuming training.</summary>
    public void SaveState(Stream stream)
    {
        using var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
        writer.Write(StateMagic);
        writer.Write(StateVersion);
        writer.Write(StepCount);
        writer.Write(parameters.Length);
        for (int i = 0; i < parameters.Length; i++)
        {
            writer.Write(parameters[i].Length);
            foreach (var moment in new[] { firstMoments[i], secondMoments[i] })
            {
                var values = new double[moment.Length];
                parameters[i].Backend.Download(moment, values);
                foreach (double value in values) writer.Write(value);
            }
        }
    }

    /// <summary>Reads what <see cref="SaveState"/> wrote, for the same parameters in the same order.</summary>
    public void LoadState(Stream stream)
    {
        using var reader = new BinaryReader(stream, Encoding.UTF8, leaveOpen: true);
        int stepCount;
        var moments = new double[parameters.Length][][];
        try
        {
            if (reader.ReadString() != StateMagic) throw new InvalidDataException("Not a SaGatSr Adam state (wrong header).");
            int version = reader.ReadInt32();
            if (version != StateVersion) throw new InvalidDataException($"Adam state version {version} is not supported (expected {StateVersion}).");
            stepCount = reader.ReadInt32();
            int count = reader.ReadInt32();
            if (count != parameters.Length)
                throw new InvalidDataException($"The Adam state is for {count} parameters, this optimizer has {parameters.Length}.");
            for (int i = 0; i < count; i++)
            {
                int length = reader.ReadInt32();
                if (length != parameters[i].Length)
                    throw new InvalidDataException($"Adam state parameter {i} has {length} values, {parameters[i].Describe()} has {parameters[i].Length}.");
                moments[i] = new double[2][];
                for (int m = 0; m < 2; m++)
                {
                    moments[i][m] = new double[length];
                    for (int v = 0; v < length; v++) moments[i][m][v] = reader.ReadDouble();
                }
            }
        }
        catch (EndOfStreamException e)
        {
            throw new InvalidDataException("The Adam state ends early (truncated?).", e);
        }

        StepCount = stepCount;
        for (int i = 0; i < parameters.Length; i++)
        {
            parameters[i].Backend.Upload(firstMoments[i], moments[i][0]);
            parameters[i].Backend.Upload(secondMoments[i], moments[i][1]);
        }
    }

    public void Dispose()
    {
        foreach (var moment in firstMoments) moment.Dispose();
        foreach (var moment in secondMoments) moment.Dispose();
    }
}
