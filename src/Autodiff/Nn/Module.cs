using System.Text;

namespace SaGatSr.Autodiff;

/// <summary>A container of named parameters and child modules; disposing it frees every parameter.</summary>
public abstract class Module : IDisposable
{
    private const string FileMagic = "SAGATSR-PARAMETERS";
    private const int FileVersion = 1;

    private readonly List<(string Name, Tensor Parameter)> parameters = [];
    private readonly List<(string Name, Module Module)> modules = [];

    /// <summary>Every parameter with its hierarchical name, e.g. "layer1.weight", in registration order.</summary>
    public IEnumerable<(string Name, Tensor Parameter)> NamedParameters()
    {
        foreach (var entry in parameters) yield return entry;
        foreach (var (prefix, module) in modules)
        foreach (var (name, parameter) in module.NamedParameters())
            yield return ($"{prefix}.{name}", parameter);
    }

    public IEnumerable<Tensor> Parameters() => NamedParameters().Select(p => p.Parameter);

    /// <summary>Number of scalar parameters.</summary>
    public int ParameterCount => Parameters().Sum(p => p.Length);

    /// <summary>Writes every parameter by name and shape, in float64 so a reload is exact on any backend.</summary>
    public void SaveParameters(Stream stream)
    {
        using var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
        var named = NamedParameters().ToList();
        writer.Write(FileMagic);
        writer.Write(FileVersion);
        writer.Write(named.Count);
        foreach (var (name, parameter) in named)
        {
            writer.Write(name);
            writer.Write(parameter.Shape.Length);
            foreach (int dimension in parameter.Shape) writer.Write(dimension);
            foreach (double value in parameter.ToDoubleArray()) writer.Write(value);
        }
    }

    /// <summary>
    /// Reads what <see cref="SaveParameters"/> wrote. The names and shapes must match this module exactly; nothing is
    /// changed unless all of them do.
    /// </summary>
    public void LoadParameters(Stream stream)
    {
        var stored = new Dictionary<string, (int[] Shape, double[] Values)>();
        using (var reader = new BinaryReader(stream, Encoding.UTF8, leaveOpen: true))
        {
            try
            {
                if (reader.ReadString() != FileMagic) throw new InvalidDataException("Not a SaGatSr parameter file (wrong header).");
                int version = reader.ReadInt32();
                if (version != FileVersion) throw new InvalidDataException($"Parameter file version {version} is not supported (expected {FileVersion}).");
                int count = reader.ReadInt32();
                for (int i = 0; i < count; i++)
                {
                    string name = reader.ReadString();
                    int rank = reader.ReadInt32();
                    if (rank is < 1 or > 16) throw new InvalidDataException($"Parameter '{name}' has an invalid rank {rank}.");
                    var shape = new int[rank];
                    long length = 1;
                    for (int d = 0; d < rank; d++)
                    {
                        shape[d] = reader.ReadInt32();
                        if (shape[d] < 0) throw new InvalidDataException($"Parameter '{name}' has a negative dimension.");
                        length *= shape[d];
                    }

                    if (length > int.MaxValue) throw new InvalidDataException($"Parameter '{name}' is too large ({length} values).");
                    var values = new double[length];
                    for (int v = 0; v < values.Length; v++) values[v] = reader.ReadDouble();
                    if (!stored.TryAdd(name, (shape, values))) throw new InvalidDataException($"Parameter '{name}' appears twice in the file.");
                }
            }
            catch (EndOfStreamException e)
            {
                throw new InvalidDataException("The parameter file ends early (truncated?).", e);
            }
        }

        var named = NamedParameters().ToList();
        var missing = named.Where(p => !stored.ContainsKey(p.Name)).Select(p => p.Name).ToList();
        if (missing.Count > 0) throw new InvalidDataException($"The parameter file lacks: {string.Join(", ", missing)}.");
        var unexpected = stored.Keys.Except(named.Select(p => p.Name)).ToList();
        if (unexpected.Count > 0) throw new InvalidDataException($"The parameter file has parameters this model lacks: {string.Join(", ", unexpected)}.");
        foreach (var (name, parameter) in named)
        {
            var shape = stored[name].Shape;
            if (!shape.AsSpan().SequenceEqual(parameter.Shape))
                throw new InvalidDataException(
                    $"Parameter '{name}' has shape [{string.Join(", ", shape)}] in the file but [{string.Join(", ", parameter.Shape)}] in the model.");
        }

        foreach (var (name, parameter) in named) parameter.Upload(stored[name].Values);
    }

    /// <summary>Registers a parameter under <paramref name="name"/> (no dots; unique within this module).</summary>
    protected Tensor AddParameter(string name, Tensor parameter)
    {
        CheckName(name);
        if (!parameter.RequiresGrad || parameter.Creator is not null)
            throw new ArgumentException($"AddParameter('{name}'): the tensor must be a leaf created by Tensor.Parameter.", nameof(parameter));
        parameter.Name ??= name;
        parameters.Add((name, parameter));
        return parameter;
    }

    protected T AddModule<T>(string name, T module) where T : Module
    {
        CheckName(name);
        modules.Add((name, module));
        return module;
    }

    public virtual void Dispose()
    {
        foreach (var (_, parameter) in parameters) parameter.Dispose();
        foreach (var (_, module) in modules) module.Dispose();
        GC.SuppressFinalize(this);
    }

    private void CheckName(string name)
    {
        if (string.IsNullOrWhiteSpace(name) || name.Contains('.'))
            throw new ArgumentException($"Invalid name '{name}': names must be non-empty and contain no '.'.", nameof(name));
        if (parameters.Any(p => p.Name == name) || modules.Any(m => m.Name == name))
            throw new ArgumentException($"The name '{name}' is already used in {GetType().Name}.", nameof(name));
    }
}
