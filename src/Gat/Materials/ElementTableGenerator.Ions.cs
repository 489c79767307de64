using System.Globalization;
using System.Text;
using System.Text.Json;

namespace SaGatSr.Gat.Materials;

/// <summary>
/// The ion tables behind <see cref="IonTable"/>, derived from the same periodic_table.json as elements.csv:
/// Materials/Data/oxidation_states.csv and Materials/Data/shannon_radii.csv. Regenerate with the explicit test
/// IonTableTests.RegenerateShippedIonTables.
/// </summary>
public static partial class ElementTableGenerator
{
    /// <summary>
    /// "symbol,state,tier": every oxidation state the JSON lists for an element, with the tier of the most trusted list
    /// that has it: 1 = "Common oxidation states", 2 = "ICSD oxidation states" (seen in ICSD structures), 3 = the rest of
    /// "Oxidation states". Rows are ordered by Z, then state.
    /// </summary>
    public static string GenerateOxidationStates(string json)
    {
        using var document = JsonDocument.Parse(json);
        var builder = new StringBuilder("symbol,state,tier\n");
        for (int z = 1; z <= Elements.Count; z++)
        {
            string symbol = Elements.Symbol(z);
            if (!document.RootElement.TryGetProperty(symbol, out var element))
                continue;
            var tiers = new SortedDictionary<int, int>();
            string[] lists = ["Common oxidation states", "ICSD oxidation states", "Oxidation states"];
            for (int tier = 1; tier <= lists.Length; tier++)
                foreach (int state in Integers(element, lists[tier - 1]))
                    tiers.TryAdd(state, tier);
            foreach (var (state, tier) in tiers)
                builder.Append(CultureInfo.InvariantCulture, $"{symbol},{state},{tier}\n");
        }

        return builder.ToString();
    }

    /// <summary>
    /// "symbol,state,coordination,spin,ionic_radius,crystal_radius": Shannon's (1976) radii in Å as the JSON's "Shannon radii"
    /// lists them; coordination is Shannon's Roman numeral with its geometry suffix ("VI", "IVSQ", "IIIPY"), spin is
    /// "high", "low" or empty. Rows are ordered by Z, state, coordination number, then as listed.
    /// </summary>
    public static string GenerateShannonRadii(string json)
    {
        using var document = JsonDocument.Parse(json);
        var builder = new StringBuilder("symbol,state,coordination,spin,ionic_radius,crystal_radius\n");
        for (int z = 1; z <= Elements.Count; z++)
        {
            string symbol = Elements.Symbol(z);
            if (!document.RootElement.TryGetProperty(symbol, out var element) || !element.TryGetProperty("Shannon radii", out var radii)
                || radii.ValueKind != JsonValueKind.Object)
                continue;
            var rows = new List<(int State, int Coordination, string Text)>();
            foreach (var byState in radii.EnumerateObject())
            {
                int state = int.Parse(byState.Name, CultureInfo.InvariantCulture);
                foreach (var byCoordination in byState.Value.EnumerateObject())
                foreach (var bySpin in byCoordination.Value.EnumerateObject())
                {
                    string spin = bySpin.Name switch
                    {
                        "" => "",
                        "High Spin" => "high",
                        "Low Spin" => "low",
                        _ => throw new FormatException($"{symbol}{state:+0;-0}: unknown spin '{bySpin.Name}' in Shannon radii"),
                    };
                    double ionic = bySpin.Value.GetProperty("ionic_radius").GetDouble();
                    double crystal = bySpin.Value.GetProperty("crystal_radius").GetDouble();
                    int coordination = IonTable.ParseCoordination(byCoordination.Name).Number;
                    rows.Add((state, coordination, string.Create(CultureInfo.InvariantCulture,
                        $"{symbol},{state},{byCoordination.Name},{spin},{ionic:R},{crystal:R}\n")));
                }
            }

            foreach (var row in rows.OrderBy(r => r.State).ThenBy(r => r.Coordination)) // stable: keeps the JSON order within a group
                builder.Append(row.Text);
        }

        return builder.ToString();
    }

    private static IEnumerable<int> Integers(JsonElement e, string key)
    {
        if (!e.TryGetProperty(key, out var list) || list.ValueKind != JsonValueKind.Array)
            yield break;
        foreach (var value in list.EnumerateArray())
            if (value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out int state))
                yield return state;
    }
}
