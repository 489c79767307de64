using System.IO.Compression;
using System.Text.Json;

namespace SaGatSr.Gat.Materials;

/// <summary>
/// pymatgen's Structure as JSON (Structure.as_dict(), or Structure.to(fmt="json")): lattice.matrix rows are a, b, c in Å;
/// each site lists its species with occupancies and its fractional coordinates "abc" (else Cartesian "xyz").
/// </summary>
internal static class PymatgenJsonReader
{
    /// <summary>Reads a .json or .json.gz file into a document, with JSON syntax errors located by line.</summary>
    public static JsonDocument ReadDocument(string path)
    {
        try
        {
            using var file = File.OpenRead(path);
            using Stream stream = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? new GZipStream(file, CompressionMode.Decompress) : file;
            return JsonDocument.Parse(stream, new JsonDocumentOptions { AllowTrailingCommas = true });
        }
        catch (JsonException e)
        {
            throw new StructureFormatException(path, (int?)e.LineNumber + 1, $"not valid JSON: {e.Message}");
        }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
        {
            throw new StructureFormatException(path, null, $"cannot read the file: {e.Message}");
        }
    }

    /// <summary>True for an object that looks like a serialised pymatgen Structure.</summary>
    public static bool IsStructure(JsonElement element) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty("lattice", out _) && element.TryGetProperty("sites", out _);

    /// <param name="where">how messages name this structure, e.g. "file.json" or "file.json: row 3 (id 3961)"</param>
    public static Structure Parse(JsonElement structure, string where, string id, string? sourcePath, DisorderPolicy disorder)
    {
        StructureFormatException Error(string problem) => new(where, null, problem);
        if (!IsStructure(structure)) throw Error("not a pymatgen Structure (an object with \"lattice\" and \"sites\")");
        var matrix = structure.GetProperty("lattice") is { ValueKind: JsonValueKind.Object } lattice && lattice.TryGetProperty("matrix", out var m)
            ? m : throw Error("lattice has no \"matrix\"");
        var cell = new double[3, 3];
        var rows = Numbers(matrix, "lattice.matrix", Error);
        if (rows.Length != 9) throw Error($"lattice.matrix needs 3 rows of 3 numbers, found {rows.Length} numbers");
        for (int k = 0; k < 9; k++) cell[k / 3, k % 3] = rows[k];

        var sites = structure.GetProperty("sites");
        if (sites.ValueKind != JsonValueKind.Array) throw Error("\"sites\" is not a list");
        int count = sites.GetArrayLength();
        var atomicNumbers = new int[count];
        var coordinates = new double[count][];
        var mixtures = new SiteMixture?[count];
        bool fractional = true;
        int disordered = 0, index = 0;
        foreach (var site in sites.EnumerateArray())
        {
            string label = site.TryGetProperty("label", out var l) && l.ValueKind == JsonValueKind.String ? l.GetString()! : "";
            string what = $"site {index + 1}{(label.Length > 0 ? $" ('{label}')" : "")}";
            var species = new List<SiteSpecies>();
            if (!site.TryGetProperty("species", out var list) || list.ValueKind != JsonValueKind.Array || list.GetArrayLength() == 0)
                throw Error($"{what} has no species");
            foreach (var entry in list.EnumerateArray())
            {
                string symbol = entry.TryGetProperty("element", out var e) && e.ValueKind == JsonValueKind.String ? e.GetString()! : "";
                if (!Elements.TryParseSymbol(symbol, out int z)) throw Error($"{what}: unknown element '{symbol}'");
                double occupancy = entry.TryGetProperty("occu", out var o) && o.ValueKind == JsonValueKind.Number ? o.GetDouble() : 1.0;
                if (!(occupancy > 0 && occupancy <= 1 + SiteOccupancy.Tolerance))
                    throw Error($"{what}: occupancy {occupancy} of {symbol} is not in (0, 1]");
                species.Add(new SiteSpecies(z, Math.Min(occupancy, 1)));
            }

            (atomicNumbers[index], mixtures[index], bool partial) = SiteOccupancy.Resolve(species, disorder, what, Error);
            if (partial) disordered++;
            // pymatgen writes both; fractional "abc" is exact, Cartesian "xyz" the fallback (then every site must have it).
            bool hasAbc = site.TryGetProperty("abc", out var abc);
            if (index == 0) fractional = hasAbc;
            var position = fractional
                ? (hasAbc ? abc : throw Error($"{what} has no fractional coordinates \"abc\" while site 1 has"))
                : site.TryGetProperty("xyz", out var xyz) ? xyz : throw Error($"{what} has neither \"abc\" nor \"xyz\" coordinates");
            coordinates[index] = Numbers(position, $"{what} coordinates", Error);
            if (coordinates[index].Length != 3) throw Error($"{what}: coordinates need 3 numbers, found {coordinates[index].Length}");
            index++;
        }

        return Structure.Create(id, cell, atomicNumbers, coordinates, fractional, where, sourcePath, mixtures: mixtures, disorderedSites: disordered);
    }

    private static double[] Numbers(JsonElement element, string what, Func<string, StructureFormatException> error)
    {
        var values = new List<double>();
        void Collect(JsonElement e)
        {
            if (e.ValueKind == JsonValueKind.Array)
                foreach (var item in e.EnumerateArray()) Collect(item);
            else if (e.ValueKind == JsonValueKind.Number) values.Add(e.GetDouble());
            else throw error($"{what}: '{e}' is not a number");
        }

        Collect(element);
        return values.ToArray();
    }
}
