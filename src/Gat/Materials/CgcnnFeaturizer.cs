using System.Text.Json;

namespace SaGatSr.Gat.Materials;

/// <summary>CGCNN's 92-dimensional one-hot style atom encoding read from its atom_init.json (a copy ships in the assembly).</summary>
public sealed class CgcnnFeaturizer : IAtomFeaturizer
{
    private const string ResourceName = "SaGatSr.Gat.Materials.Data.atom_init.json";
    private readonly Dictionary<int, float[]> _embedding;

    /// <summary>Uses the shipped copy of CGCNN's atom_init.json.</summary>
    public CgcnnFeaturizer() : this(ElementTable.ReadEmbeddedText(ResourceName), "atom_init.json (embedded)")
    {
    }

    /// <param name="atomInitJsonPath">an atom_init.json: {"Z": [v1, ..., vD], ...}</param>
    public CgcnnFeaturizer(string atomInitJsonPath) : this(ReadFile(atomInitJsonPath), atomInitJsonPath)
    {
    }

    private static string ReadFile(string path) =>
        File.Exists(path) ? File.ReadAllText(path) : throw new StructureFormatException(path, null, "atom_init.json file not found");

    private CgcnnFeaturizer(string json, string sourceName)
    {
        _embedding = new Dictionary<int, float[]>();
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json);
        }
        catch (JsonException ex)
        {
            throw new StructureFormatException(sourceName, (int?)ex.LineNumber + 1, $"not valid JSON: {ex.Message}");
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
                throw new StructureFormatException(sourceName, null, "expected an object mapping atomic numbers to vectors");
            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (!int.TryParse(property.Name, out int z) || z is < 1 or > Elements.Count)
                    throw new StructureFormatException(sourceName, null, $"key '{property.Name}' is not an atomic number 1..118");
                if (property.Value.ValueKind != JsonValueKind.Array || property.Value.EnumerateArray().Any(v => v.ValueKind != JsonValueKind.Number))
                    throw new StructureFormatException(sourceName, null, $"value of '{property.Name}' must be an array of numbers");
                _embedding[z] = property.Value.EnumerateArray().Select(v => v.GetSingle()).ToArray();
            }
        }

        if (_embedding.Count == 0)
            throw new StructureFormatException(sourceName, null, "no elements defined");
        int length = _embedding.Values.First().Length;
        if (_embedding.Values.Any(v => v.Length != length))
            throw new StructureFormatException(sourceName, null, "all vectors must have the same length");
        Features = new FeatureSet(Enumerable.Range(0, length)
            .Select(k => new FeatureInfo($"cgcnn_{k}", $"component {k} of CGCNN's atom_init.json encoding (binned elemental properties)", FeatureInfo.Elemental))
            .ToList());
    }

    public FeatureSet Features { get; }

    public float[] Featurize(Structure structure, CrystalGraph graph)
    {
        int f = Features.Count;
        var result = new float[(long)structure.AtomCount * f];
        for (int i = 0; i < structure.AtomCount; i++)
        {
            // a virtual-crystal site gets the occupancy-weighted mean of its species' encodings
            foreach (var (z, weight) in structure.SpeciesWeights(i))
            {
                if (!_embedding.TryGetValue(z, out var vector))
                    throw new StructureFormatException(structure.SourcePath ?? structure.Id, null,
                        $"element {Elements.Symbol(z)} (Z={z}) has no CGCNN atom_init encoding (it covers Z = {_embedding.Keys.Min()}..{_embedding.Keys.Max()})");
                for (int k = 0; k < f; k++)
                    result[(long)i * f + k] += (float)(weight * vector[k]);
            }
        }

        return result;
    }
}
