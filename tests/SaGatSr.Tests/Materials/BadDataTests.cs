using System.Globalization;
using SaGatSr.Gat.Materials;
using SaGatSr.Gat.Training;
using SaGatSr.Tests.Mpi;

namespace SaGatSr.Tests.Materials;

/// <summary>A dataset with every kind of bad entry mixed in: each is named with file and row, the rest trains, finite.</summary>
public class BadDataTests
{
    private static string Cif(string cation, string anion, double a, string? second = null, double b = double.NaN) => string.Create(
        CultureInfo.InvariantCulture, $"""
        data_{cation}{anion}
        _cell_length_a {a}
        _cell_length_b {(double.IsNaN(b) ? a : b)}
        _cell_length_c {a}
        _cell_angle_alpha 90
        _cell_angle_beta 90
        _cell_angle_gamma 90
        loop_
        _atom_site_type_symbol
        _atom_site_fract_x
        _atom_site_fract_y
        _atom_site_fract_z
        {cation} 0 0 0
        {anion} {second ?? "0.5 0.5 0.5"}
        """);

    private static string Quote(string text) => "\"" + text.Replace("\"", "\"\"") + "\"";

    private static readonly string[] Cations = ["Li", "Na", "K", "Rb", "Cs", "Mg", "Ca", "Sr"];
    private static readonly string[] Anions = ["F", "Cl", "Br"];

    [Test]
    public void EveryBadRowIsNamedAndTheRestTrainsWithAFiniteLoss()
    {
        var rows = new List<(string Id, string Cif, string Target, string Fault)>();
        for (int i = 0; i < 24; i++)
            rows.Add(($"good{i}", Cif(Cations[i % 8], Anions[i / 8], 4.5 + 0.1 * i), (-1 - 0.1 * i).ToString(CultureInfo.InvariantCulture), ""));
        rows.Add(("nan", Cif("Li", "I", 5), "nan", "heat is 'nan', not a finite number"));
        rows.Add(("inf", Cif("Na", "I", 5), "-Infinity", "heat is '-Infinity', not a finite number"));
        rows.Add(("huge", Cif("K", "I", 5), "1e30", "heat is 1e30, beyond ±1000000"));
        rows.Add(("good0", Cif("Cs", "I", 5), "-1", "duplicate id 'good0'"));
        rows.Add(("copy", Cif(Cations[1], Anions[0], 4.6), "-1.1", "the same structure as good1"));
        rows.Add(("empty", "", "-1", "cif is empty"));
        rows.Add(("overlap", Cif("Li", "Br", 5, second: "0.01 0 0"), "-1", "are 0.050 Å apart"));
        rows.Add(("flat", Cif("Na", "Br", 5, b: 0), "-1", "_cell_length_b must be positive, got 0"));
        rows.Add(("vast", Cif("K", "Br", 1e4), "-1", "lattice vector a is 1E+04 Å long"));
        rows.Add(("oganesson", Cif("Og", "Cl", 5.2), "-1.3", "Og has no tabulated value for 41 of 50 elemental properties"));
        string folder = TestPaths.NewTemporaryFolder(), path = Path.Combine(folder, "bad.csv");
        var text = new System.Text.StringBuilder("material_id,cif,heat\n");
        var lineOf = new Dictionary<string, int>();
        foreach (var row in rows)
        {
            lineOf.TryAdd(row.Id + row.Fault, text.ToString().Count(c => c == '\n') + 1);
            text.Append(CultureInfo.InvariantCulture, $"{row.Id},{Quote(row.Cif)},{row.Target}\n");
        }

        File.WriteAllText(path, text.ToString());
        var dataset = Dataset.Load(path);
        var messages = dataset.Skipped.Select(s => s.Reason).Concat(dataset.TargetGaps.Select(g => g.Reason))
            .Concat(dataset.Warnings.Select(w => w.Message)).ToList();
        for (int r = 0; r < rows.Count; r++)
        {
            var (id, _, _, fault) = rows[r];
            if (fault.Length == 0) continue;
            // Named by the row and the line it starts on, or by the line inside its CIF where the fault is.
            string where = $"{path}:{lineOf[id + fault]}";
            Assert.That(messages.Where(m => (m.StartsWith(where + ":", StringComparison.Ordinal) || m.StartsWith(path + ":") && m.Contains($": row {r + 1} "))
                                            && m.Contains(fault)), Is.Not.Empty,
                $"{id} ({fault}) named at {where}; got:\n{string.Join("\n", messages)}");
        }

        var result = MpiRun.Dotnet(0, "sagatsr.dll", ["train", path, "--target", "heat", "--out", Path.Combine(folder, "run"), "--epochs", "4",
            "--hidden", "8", "--heads", "1", "--layers", "1", "--batch-size", "4", "--device", "cpu", "--members", "1"]);
        Assert.That(result.Exit, Is.EqualTo(0), result.ToString());
        Assert.That(result.Errors, Does.Contain("dataset: 26 crystals"), "24 good, the copy and oganesson (its missing properties imputed)");
        var losses = File.ReadLines(Path.Combine(folder, "run", "history.csv")).Skip(1)
            .Select(l => double.Parse(l.Split(',')[1], CultureInfo.InvariantCulture)).ToArray();
        Assert.That(losses, Has.Length.EqualTo(4).And.All.Matches<double>(double.IsFinite));

        // The default ensemble's cgcnn member has no encoding past Z = 100: oganesson leaves every member, named.
        var ensemble = MpiRun.Dotnet(0, "sagatsr.dll", ["train", path, "--target", "heat", "--out", Path.Combine(folder, "ensemble"), "--epochs", "2",
            "--hidden", "8", "--heads", "1", "--layers", "1", "--batch-size", "4", "--device", "cpu"]);
        Assert.That(ensemble.Exit, Is.EqualTo(0), ensemble.ToString());
        Assert.That(ensemble.Errors, Does.Contain("skipped 1 crystals that not every member can encode").And.Contain("oganesson")
            .And.Contain("cgcnn member cannot read it"));
        Assert.That(File.ReadAllLines(Path.Combine(folder, "ensemble", "predictions.csv")), Has.Length.EqualTo(26), "25 crystals and the header");
    }

    [Test]
    public void ABrokenQuoteInRow3000IsNamedAndTheRowsAfterItAreRead()
    {
        string path = Path.Combine(TestPaths.NewTemporaryFolder(), "big.csv");
        var text = new System.Text.StringBuilder("material_id,cif,energy\n");
        int brokenLine = 0;
        for (int row = 1; row <= 3100; row++)
        {
            string quoted = Quote(Cif("Na", "Cl", 5 + row * 1e-3));
            if (row == 3000)
            {
                brokenLine = text.ToString().Count(c => c == '\n') + 1;
                quoted = quoted[..^1];  // the closing quote is lost
            }

            text.Append(CultureInfo.InvariantCulture, $"r{row},{quoted},{-row * 1e-3}\n");
        }

        File.WriteAllText(path, text.ToString());
        var dataset = Dataset.Load(path);
        var skipped = dataset.Skipped.Single();
        Assert.That(skipped.Reason, Does.StartWith($"{path}:{brokenLine}: row 3000: text after the closing quote of a field"));
        Assert.That(skipped.Reason, Does.Contain($"the quote opened on line {brokenLine} is not closed where it should be"));
        Assert.That(dataset.Entries, Has.Count.EqualTo(3099));
        Assert.That(dataset.Entries[^1].Id, Is.EqualTo("r3100"));
        Assert.That(dataset.Entries.Select(e => e.Id), Does.Contain("r3001"));
    }

    [Test]
    public void NonFiniteInputsAreStoppedBeforeTheNetworkWithTheCrystalNamed()
    {
        var data = SaGatSr.Tests.Gat.GatTestData.Data(3);
        var features = (float[])data.Inputs[1].Features.Clone();
        features[data.Features.Count + 2] = float.NaN;
        var inputs = data.Inputs.ToArray();
        inputs[1] = (inputs[1].Graph, features);
        var error = Assert.Throws<InvalidDataException>(() => InputCheck.EnsureFinite(data with { Inputs = inputs }));
        Assert.That(error!.Message, Is.EqualTo(
            $"crystal {data.Ids[1]}: feature {data.Features.Features[2].Name} of atom 2 is NaN; it would reach the network as a non-finite number"));
        var targets = data.Targets.ToArray();
        targets[2] = double.PositiveInfinity;
        Assert.That(Assert.Throws<InvalidDataException>(() => InputCheck.EnsureFinite(data with { Targets = targets }))!.Message,
            Does.StartWith($"crystal {data.Ids[2]}: target 'band_gap' is Infinity"));
    }

    [Test]
    public void ADatasetTooBigForTheMemoryIsRefusedUpFrontWithTheNumbers()
    {
        var structures = SaGatSr.Tests.Gat.GatTestData.Dataset.Entries.Select(e => e.Structure).ToArray();
        long atoms = structures.Sum(s => (long)s.AtomCount);
        var fits = MemoryEstimate.ForTraining(structures, 195, new GraphOptions());
        Assert.That(fits.Fits, fits.ToString());
        Assert.That(fits.Edges, Is.EqualTo(atoms * 20));
        var tight = MemoryEstimate.ForTraining(structures, 195, new GraphOptions(), availableBytes: 100L << 20);
        var error = Assert.Throws<InvalidOperationException>(tight.EnsureFits);
        Assert.That(error!.Message, Does.StartWith($"training this dataset needs about {tight.Bytes / (double)(1L << 20):F0} MiB of memory ({atoms:N0} atoms x 195 features"));
        Assert.That(error.Message, Does.Contain("but 100 MiB is available"));
    }

    [Test]
    public void StreamingACsvGivesTheEntriesAndReasonsOfLoadingItWhole()
    {
        string path = Path.Combine(TestPaths.NewTemporaryFolder(), "mixed.csv");
        var text = new System.Text.StringBuilder("material_id,cif,energy\n");
        for (int row = 1; row <= 40; row++)
        {
            string cif = row switch { 7 => "", 13 => Cif("Na", "Cl", 5, second: "0.01 0 0"), _ => Cif("Na", "Cl", 5 + row * 1e-2) };
            string id = row == 21 ? "r3" : $"r{row}";
            string quoted = row == 30 ? Quote(cif)[..^1] : Quote(cif);
            text.Append(CultureInfo.InvariantCulture, $"{id},{quoted},{-row}\n");
        }

        File.WriteAllText(path, text.ToString());
        var whole = Dataset.Load(path);
        using var reader = new StreamReader(path);
        var streamed = Dataset.StreamCsv(reader, path, blockSize: 6).ToList();
        Assert.That(streamed.Where(r => r.Entry is not null).Select(r => (r.Entry!.Id, r.Entry.Location, r.Entry.Structure.Volume)),
            Is.EqualTo(whole.Entries.Select(e => (e.Id, e.Location, e.Structure.Volume))));
        Assert.That(streamed.Where(r => r.Skipped is not null).Select(r => r.Skipped), Is.EquivalentTo(whole.Skipped));
        Assert.That(whole.Skipped, Has.Count.EqualTo(4), "empty, overlapping, duplicate id, broken quote");
    }
}
