using System.Text;
using SaGatSr.Kernels;

namespace SaGatSr.Autodiff;

/// <summary>
/// An exponential moving average of parameters, kept on their device: avg = d avg + (1 - d) p after every optimiser step.
/// Evaluating with the average rather than the last step smooths out the noise of the final steps at the cost of one
/// axpby per parameter per step. The decay is warmed up as min(d, (1 + t) / (10 + t)), so early averages are not
/// dominated by the random initial weights.
/// </summary>
public sealed class ExponentialMovingAverage : IDisposable
{
    private const string StateMagic = "SAGATSR-EMA";
    private const int StateVersion = 1;

    private readonly Tensor[] parameters;
    private readonly DeviceBuffer[] averages;

    public ExponentialMovingAverage(IEnumerable<Tensor> parameters, float decay)
    {
        if (decay is <= 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(decay), $"EMA decay must be in (0, 1), got {decay}.");
        Decay = decay;
        this.parameters = parameters.ToArray();
        averages = this.parameters.Select(p =>
        {
            var buffer = p.Backend.Allocate(p.Length);
            p.Backend.Copy(p.Data, buffer);
            return buffer;
        }).ToArray();
    }

    public float Decay { get; }

    public int UpdateCount { get; private set; }

    public void Update()
    {
        UpdateCount++;
        float decay = Math.Min(Decay, (1f + UpdateCount) / (10f + UpdateCount));
        for (int i = 0; i < parameters.Length; i++)
            parameters[i].Backend.Axpby(1 - decay, parameters[i].Data, decay, averages[i]);
    }

    /// <summary>Exchanges the parameters with their averages; a second call swaps them back.</summary>
    public void Swap()
    {
        for (int i = 0; i < parameters.Length; i++)
        {
            var backend = parameters[i].Backend;
            using var current = backend.Allocate(parameters[i].Length);
            backend.Copy(parameters[i].Data, current);
            backend.Copy(averages[i], parameters[i].Data);
            backend.Copy(current, averages[i]);
        }
    }

    /// <summary>Writes the update count and the averages (float64), for resuming training.</summary>
    public void SaveState(Stream stream)
    {
        using var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
        writer.Write(StateMagic);
        writer.Write(StateVersion);
        writer.Write(UpdateCount);
        writer.Write(parameters.Length);
        for (int i = 0; i < parameters.Length; i++)
        {
            var values = new double[parameters[i].Length];
            parameters[i].Backend.Download(averages[i], values);
            writer.Write(values.Length);
            foreach (double value in values) writer.Write(value);
        }
    }

    /// <summary>Reads what <see cref="SaveState"/> wrote, for the same parameters in the same order.</summary>
    public void LoadState(Stream stream)
    {
        using var reader = new BinaryReader(stream, Encoding.UTF8, leaveOpen: true);
        var values = new double[parameters.Length][];
        int updates;
        try
        {
            if (reader.ReadString() != StateMagic) throw new InvalidDataException("Not a SaGatSr EMA state (wrong header).");
            int version = reader.ReadInt32();
            if (version != StateVersion) throw new InvalidDataException($"EMA state version {version} is not supported (expected {StateVersion}).");
            updates = reader.ReadInt32();
            int count = reader.ReadInt32();
            if (count != parameters.Length)
                throw new InvalidDataException($"The EMA state is for {count} parameters, this model has {parameters.Length}.");
            for (int i = 0; i < count; i++)
            {
                int length = reader.ReadInt32();
                if (length != parameters[i].Length)
                    throw new InvalidDataException($"EMA state parameter {i} has {length} values, {parameters[i].Describe()} has {parameters[i].Length}.");
                values[i] = new double[length];
                for (int v = 0; v < length; v++) values[i][v] = reader.ReadDouble();
            }
        }
        catch (EndOfStreamException e)
        {
            throw new InvalidDataException("The EMA state ends early (truncated?).", e);
        }

        UpdateCount = updates;
        for (int i = 0; i < parameters.Length; i++) parameters[i].Backend.Upload(averages[i], values[i]);
    }

    public void Dispose()
    {
        foreach (var average in averages) average.Dispose();
    }
}
