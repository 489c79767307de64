namespace SaGatSr.Tests.Cli;

/// <summary>The `sagatsr` commands as a user runs them, on a small copy of the shipped dataset.</summary>
[NonParallelizable]
public class CliTests
{
    private string dataset = "";
    private string work = "";

    [OneTimeSetUp]
    public void CopySmallDataset()
    {
        work = TestPaths.NewTemporaryFolder();
        dataset = Path.Combine(work, "gap");
        Directory.CreateDirectory(dataset);
        var lines = File.ReadAllLines(Path.Combine(TestPaths.ShippedDataset, "id_prop.csv")).Skip(1)
            .OrderBy(l => new FileInfo(Path.Combine(TestPaths.ShippedDataset, l.Split(',')[0])).Length).Take(14).ToArray();
        foreach (var line in lines)
        {
            var file = line.Split(',')[0];
            File.Copy(Path.Combine(TestPaths.ShippedDataset, file), Path.Combine(dataset, file));
        }

        File.WriteAllLines(Path.Combine(dataset, "id_prop.csv"), lines);
    }

    private static (int Exit, string Output, string Errors) Run(params string[] args) => CliHarness.Run(args);

    [Test, Order(1)]
    public void TrainWritesAModelAndItsReport()
    {
        var output = Path.Combine(work, "run");
        var (exit, stdout, stderr) = Run("train", dataset, "--out", output, "--epochs", "3", "--hidden", "16", "--layers", "1",
            "--device", "cpu");
        Assert.That(exit, Is.EqualTo(0), stderr);
        Assert.That(stderr, Does.Contain("device: "));
        Assert.That(stdout, Does.Contain("test").And.Contain("MAE"));
        // The default is an ensemble: each member keeps its checkpoint and history in members/NAME/.
        foreach (var file in new[] { "model.sagat", "metrics.json", "predictions.csv", "parity.png", "importance.png", "calibration.png" })
            Assert.That(File.Exists(Path.Combine(output, file)), file);
        foreach (var member in new[] { "sae", "fcn", "cgcnn" })
        foreach (var file in new[] { "checkpoint.sagat", "history.csv", "training_curve.png" })
            Assert.That(File.Exists(Path.Combine(output, "members", member, file)), $"{member}/{file}");
        var predictions = File.ReadAllLines(Path.Combine(output, "predictions.csv"));
        Assert.That(predictions, Has.Length.EqualTo(15));
        Assert.That(predictions[0], Is.EqualTo("id,split,actual,predicted,std,sae,fcn,cgcnn,fcn-2,cgcnn-2"), "the default five members");
        using var metrics = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "metrics.json")));
        Assert.That(metrics.RootElement.GetProperty("members").GetArrayLength(), Is.EqualTo(5));
        var coverage = metrics.RootElement.GetProperty("uncertainty").GetProperty("validation").GetProperty("Coverage90").GetDouble();
        Assert.That(coverage, Is.InRange(0.5, 1.0), "the spread is calibrated on the validation crystals");
        Assert.That(stdout, Does.Contain("member sae").And.Contain("member cgcnn").And.Contain("90% interval"));
    }

    [Test, Order(2)]
    public void PredictWritesOneCsvRowPerStructure()
    {
        var model = Path.Combine(work, "run", "model.sagat");
        var structures = Directory.GetFiles(dataset, "*.vasp").Take(3).ToArray();
        var (exit, stdout, stderr) = Run(["predict", model, .. structures, "--device", "cpu"]);
        Assert.That(exit, Is.EqualTo(0), stderr);
        var rows = stdout.Trim().Split('\n');
        Assert.That(rows[0], Does.StartWith("id,file,").And.EndWith("_std"), "an ensemble writes its spread beside its mean");
        Assert.That(rows, Has.Length.EqualTo(4));
        foreach (int column in new[] { 2, 3 })
            Assert.That(rows.Skip(1).Select(r => double.Parse(r.Split(',')[column], System.Globalization.CultureInfo.InvariantCulture)),
                Is.All.Matches<double>(v => double.IsFinite(v) && (column == 2 || v > 0)));
    }

    [Test, Order(3)]
    public void ImportanceRanksTheNamedFeatures()
    {
        var (exit, stdout, stderr) = Run("importance", Path.Combine(work, "run", "model.sagat"), "--top", "5", "--csv", "--device", "cpu");
        Assert.That(exit, Is.EqualTo(0), stderr);
        var rows = stdout.Trim().Split('\n');
        Assert.That(rows, Has.Length.EqualTo(6));
        var means = rows.Skip(1).Select(r => double.Parse(r.Split(',')[2], System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        Assert.That(means, Is.Ordered.Descending);
    }

    [Test]
    public void AMissingDatasetIsOneClearLineNotAStackTrace()
    {
        var missing = Path.Combine(work, "nowhere");
        var (exit, _, stderr) = Run("train", missing, "--device", "cpu");
        Assert.That(exit, Is.EqualTo(1));
        Assert.That(stderr.Split('\n').Where(l => l.StartsWith("error: ")).ToArray(), Has.One.Contains("nowhere"));
        Assert.That(stderr, Does.Not.Contain("   at "));
    }

    [Test]
    public void AnUnknownTargetColumnListsTheColumns()
    {
        var (exit, _, stderr) = Run("train", dataset, "--target", "formation_energy", "--device", "cpu", "--out", Path.Combine(work, "bad"));
        Assert.That(exit, Is.EqualTo(1));
        Assert.That(stderr, Does.Contain("formation_energy").And.Contain("1 ("));
    }

    [Test]
    public void SrFindsAPlantedFormulaFromACsvTable()
    {
        var table = Path.Combine(work, "table.csv");
        var rng = new Random(3);
        var lines = new List<string> { "a,b,noise,y" };
        for (int i = 0; i < 60; i++)
        {
            double a = 1 + 2 * rng.NextDouble(), b = 1 + 2 * rng.NextDouble(), noise = rng.NextDouble();
            lines.Add(FormattableString.Invariant($"{a},{b},{noise},{3 * a * b + 1}"));
        }

        File.WriteAllLines(table, lines);
        var output = Path.Combine(work, "sr");
        var (exit, stdout, stderr) = Run("sr", table, "--target", "y", "--out", output, "--time-limit", "30",
            "--operators", "+,-,*,/,^2", "--device", "cpu");
        Assert.That(exit, Is.EqualTo(0), stderr);
        foreach (var file in new[] { "formulas.txt", "formulas.tex", "best_formula.cs", "pareto.csv", "pareto.png" })
            Assert.That(File.Exists(Path.Combine(output, file)), file);
        var formulas = File.ReadAllText(Path.Combine(output, "formulas.txt"));
        Assert.That(formulas, Does.Contain("R2 1.0000"));
        var chosen = formulas.Split('\n').Single(l => l.EndsWith("<- chosen"));
        Assert.That(chosen, Does.Contain("y = 1 + 3 * (a * b)"), "the exact formula in its simplest form, with no noise feature");
        Assert.That(stdout, Does.Contain("a").And.Contain("b"));
    }

    [Test, Order(4)]
    public void ExplainScreensFeaturesAndDistilsAFormulaWithAFullReport()
    {
        var output = Path.Combine(work, "explain");
        var (exit, stdout, stderr) = Run("explain", dataset, "--out", output, "--model", Path.Combine(work, "run", "model.sagat"),
            "--top-k", "4", "--rungs", "1", "--max-terms", "2", "--time-limit", "30", "--device", "cpu");
        Assert.That(exit, Is.EqualTo(0), stderr);
        Assert.That(stdout, Does.Contain("kept 4 of").And.Contain("descriptors"));
        foreach (var file in new[] { "formula.txt", "formula.tex", "formula.json", "descriptors.csv", "importance.png", "parity_network.png",
                     "parity_formula.png", "pareto.png", "run.json", "crystals.csv", "sr/pareto.csv" })
            Assert.That(File.Exists(Path.Combine(output, file)), file);
        using var run = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "run.json")));
        Assert.That(run.RootElement.GetProperty("descriptors").GetProperty("kept").GetArrayLength(), Is.EqualTo(4));
        Assert.That(run.RootElement.GetProperty("descriptors").GetProperty("scheme").GetString(), Is.EqualTo("CationAnion"),
            "JARVIS crystals are not perovskites: cation/anion roles");
        Assert.That(run.RootElement.GetProperty("training").GetProperty("disorder").GetString(), Is.EqualTo("Virtual"), "the disorder policy is recorded by name");
        var networkTestIds = File.ReadAllLines(Path.Combine(work, "run", "predictions.csv")).Skip(1)
            .Select(l => l.Split(',')).Where(c => c[1] == "test").Select(c => c[0]).Order().ToArray();
        var formulaTestIds = run.RootElement.GetProperty("split").GetProperty("test").EnumerateArray().Select(e => e.GetString()).Order().ToArray();
        Assert.That(formulaTestIds, Is.EqualTo(networkTestIds), "the formula is tested on the crystals the network never saw");
        Assert.That(run.RootElement.GetProperty("metrics").GetProperty("formula").GetProperty("test").GetProperty("mae").GetDouble(),
            Is.GreaterThanOrEqualTo(0));

        // The formula is a model: predicting the crystals again with formula.json gives what crystals.csv reports.
        var (predictExit, predicted, predictErrors) = Run(["predict", Path.Combine(output, "formula.json"), .. Directory.GetFiles(dataset, "*.vasp").Order()]);
        Assert.That(predictExit, Is.EqualTo(0), predictErrors);
        var byId = predicted.Trim().Split('\n').Skip(1).Select(l => l.Split(',')).ToDictionary(c => c[0], c => double.Parse(c[2], System.Globalization.CultureInfo.InvariantCulture));
        var reported = File.ReadAllLines(Path.Combine(output, "crystals.csv")).Skip(1).Select(l => l.Split(','))
            .ToDictionary(c => Path.GetFileNameWithoutExtension(c[0]), c => double.Parse(c[^1], System.Globalization.CultureInfo.InvariantCulture));
        Assert.That(byId.Keys, Is.EquivalentTo(reported.Keys));
        foreach (var (id, value) in reported) Assert.That(byId[id], Is.EqualTo(value).Within(1e-5 * Math.Max(1, Math.Abs(value))), id);
    }

    [Test]
    public void BadRowsAndMissingFilesAreReportedAndSkipped()
    {
        var messy = Path.Combine(work, "messy");
        Directory.CreateDirectory(messy);
        foreach (var file in Directory.GetFiles(dataset)) File.Copy(file, Path.Combine(messy, Path.GetFileName(file)));
        var first = Directory.GetFiles(dataset, "*.vasp").Order().First();
        File.AppendAllLines(Path.Combine(messy, "id_prop.csv"),
            ["POSCAR-missing.vasp,1.0", $"{Path.GetFileName(first)},not-a-number", $"{Path.GetFileName(first)},nan"]);
        var (exit, _, stderr) = Run("train", messy, "--out", Path.Combine(work, "messy-run"), "--epochs", "1", "--hidden", "8",
            "--layers", "1", "--device", "cpu");
        Assert.That(exit, Is.EqualTo(0), stderr);
        Assert.That(stderr, Does.Contain("POSCAR-missing").And.Contain("not-a-number"));
    }

    [Test, Order(5)]
    public void RunningTrainAgainResumesFromItsCheckpoint()
    {
        var output = Path.Combine(work, "resume");
        string[] common = ["train", dataset, "--out", output, "--hidden", "8", "--layers", "1", "--device", "cpu"];
        Assert.That(Run([.. common, "--epochs", "2"]).Exit, Is.EqualTo(0));
        var (exit, _, stderr) = Run([.. common, "--epochs", "3"]);
        Assert.That(exit, Is.EqualTo(0), stderr);
        foreach (var member in new[] { "sae", "fcn", "cgcnn" })
        {
            Assert.That(stderr, Does.Contain($"resumed from {Path.Combine(output, "members", member, "checkpoint.sagat")} after epoch 2"));
            Assert.That(File.ReadAllLines(Path.Combine(output, "members", member, "history.csv")), Has.Length.EqualTo(4));
        }
    }

    [Test]
    public void DevicesListsWhatWasFoundAndWhatIsSelected()
    {
        var (exit, stdout, stderr) = Run("devices", "--device", "cpu");
        Assert.That(exit, Is.EqualTo(0), stderr);
        var lines = stdout.Split('\n');
        Assert.That(lines.Count(l => l.StartsWith("  cpu: SIMD") || l.StartsWith("  reference") || l.StartsWith("  ilgpu-cpu")), Is.EqualTo(3));
        Assert.That(stdout, Does.Contain("Selected (cpu): cpu: SIMD"));
    }

    [Test]
    public void UnknownOperatorsAreNamed()
    {
        var (exit, _, stderr) = Run("sr", Path.Combine(work, "nothing.csv"), "--target", "y", "--operators", "+,tanh");
        Assert.That(exit, Is.EqualTo(1));
        Assert.That(stderr, Does.Contain("tanh"));
    }

    [Test, Order(3)]
    public void TheLibraryApiPredictsStructuresHeldInMemory()
    {
        using var predictor = SaGatSr.Gat.SaGatPredictor.Load(Path.Combine(work, "run", "model.sagat"), "cpu");
        var rockSalt = SaGatSr.Gat.Materials.Structure.Create("NaCl", new double[,] { { 0, 2.82, 2.82 }, { 2.82, 0, 2.82 }, { 2.82, 2.82, 0 } },
            [11, 17], [[0, 0, 0], [0.5, 0.5, 0.5]], coordinatesAreFractional: true, sourceName: "in memory");
        var fromFile = SaGatSr.Gat.Materials.StructureReader.Read(Directory.GetFiles(dataset, "*.vasp").Order().First());
        var batch = predictor.Predict([rockSalt, fromFile]);
        Assert.That(batch, Has.Length.EqualTo(2).And.All.Matches<double>(double.IsFinite));
        Assert.That(predictor.Predict(fromFile), Is.EqualTo(batch[1]).Within(1e-9), "a batch predicts each crystal as alone");
    }

    [Test]
    public void UnitsAreParsedAndMistakesNamed()
    {
        Assert.That(SaGatSr.Cli.Commands.SrCommand.ParseUnits("a=m; b = s ;c=m s^-1"),
            Is.EqualTo(new Dictionary<string, string> { ["a"] = "m", ["b"] = "s", ["c"] = "m s^-1" }));
        var (exit, _, stderr) = Run("sr", Path.Combine(work, "nothing.csv"), "--target", "y", "--units", "a=m;b");
        Assert.That(exit, Is.EqualTo(1));
        Assert.That(stderr, Does.Contain("'b' is not feature=unit"));
    }

    private static string ReaderCorpus => Path.Combine(TestPaths.RepositoryRoot, "tests", "SaGatSr.Tests", "Data", "readers");

    [Test]
    public void InspectGivesOneCsvRowPerFileWithTheErrorColumnForRefusedOnes()
    {
        var (exit, stdout, stderr) = Run("inspect", ReaderCorpus, Path.Combine(ReaderCorpus, "vasp4_potcar", "POSCAR"), "--csv");
        Assert.That(exit, Is.EqualTo(3), "some corpus files must be refused");
        var rows = stdout.Trim().Split('\n');
        Assert.That(rows[0], Is.EqualTo("file,id,formula,sites,volume,a,b,c,alpha,beta,gamma,space_group,disordered_sites,error"));
        var files = Directory.GetFiles(ReaderCorpus).Where(f => !f.EndsWith(".csv") && !f.EndsWith(".md")).ToArray();
        Assert.That(rows, Has.Length.EqualTo(files.Length + 2));
        string[] Cells(string name) => rows.Single(r => r.Contains(name)).Split(',');
        var spinel = Cells("spinel_origin_unnamed");
        Assert.That(spinel[2..5], Is.EqualTo(new[] { "MgAl2O4", "56", "528.161" }));
        Assert.That(spinel[11], Is.EqualTo("F d -3 m :2 (227)"));
        Assert.That(Cells("disordered_perovskite")[12], Is.EqualTo("4"));
        Assert.That(Cells("vasp4_potcar")[2], Is.EqualTo("NiO"), "the POTCAR beside a VASP 4 file names its species");
        Assert.That(Cells("POSCAR_empty_comment")[11], Is.EqualTo("F m -3 m (225) detected"), "a POSCAR names no space group");
        Assert.That(rows.Single(r => r.Contains("ambiguous_label")),
            Does.EndWith(",,,,,,,,,,,,line 15: site label 'CA1' could be Ca or C and _chemical_formula_sum has both (add _atom_site_type_symbol)"));
        Assert.That(rows.Single(r => r.Contains("split_positions")), Does.EndWith(",\"line 18: partially occupied sites 'O1a' and 'O1b' are 0.24 Å apart: " +
            "split positions of one disordered atom, which a crystal graph cannot hold; keep one of the positions\""), "a cell with a comma is quoted");
        Assert.That(stderr, Does.Contain("refused").And.Contain("disorder: 6 partially occupied sites in 2 of"));
    }

    [Test]
    public void InspectPrintsAnAlignedTableByDefault()
    {
        var (exit, stdout, _) = Run("inspect", Path.Combine(ReaderCorpus, "icsd_dot_coordinates.cif"), Path.Combine(ReaderCorpus, "POSCAR_empty_comment"));
        Assert.That(exit, Is.EqualTo(0));
        var lines = stdout.Trim().Split('\n');
        Assert.That(lines, Has.Length.EqualTo(3));
        Assert.That(lines[0].IndexOf("formula"), Is.EqualTo(lines[1].IndexOf("TiO2")));
        Assert.That(lines[1], Does.Contain("P 42/m n m (136)"));
    }

    [Test, Order(3)]
    public void PredictAppliesTheDisorderPolicy()
    {
        var model = Path.Combine(work, "run", "model.sagat");
        var disordered = Path.Combine(ReaderCorpus, "disordered_perovskite.cif");
        var (exit, stdout, stderr) = Run("predict", model, disordered, "--device", "cpu");
        Assert.That(exit, Is.EqualTo(0), stderr);
        Assert.That(stdout.Trim().Split('\n'), Has.Length.EqualTo(2));
        Assert.That(stderr, Does.Contain("disorder: 4 partially occupied sites in 1 of 1 structures, read as virtual-crystal sites"));
        (exit, _, stderr) = Run("predict", model, disordered, Path.Combine(ReaderCorpus, "quoted_values.cif"), "--disorder", "error", "--device", "cpu");
        Assert.That(exit, Is.EqualTo(3));
        Assert.That(stderr, Does.Contain("site 'Ba1', 'Sr1' is partially occupied"));
        (exit, _, stderr) = Run("predict", model, disordered, "--disorder", "sometimes");
        Assert.That(exit, Is.Not.EqualTo(0));
        Assert.That(stderr, Does.Contain("sometimes"));
    }

    [Test, Order(5)]
    public void TrainReportsDisorderedSitesAndRecordsThePolicy()
    {
        var mixed = Path.Combine(work, "mixed");
        Directory.CreateDirectory(mixed);
        foreach (var file in Directory.GetFiles(dataset)) File.Copy(file, Path.Combine(mixed, Path.GetFileName(file)));
        File.Copy(Path.Combine(ReaderCorpus, "disordered_perovskite.cif"), Path.Combine(mixed, "bst.cif"));
        File.AppendAllLines(Path.Combine(mixed, "id_prop.csv"), ["bst.cif,1.5"]);
        var output = Path.Combine(work, "mixed-run");
        var (exit, _, stderr) = Run("train", mixed, "--out", output, "--epochs", "1", "--hidden", "8", "--layers", "1",
            "--disorder", "majority", "--device", "cpu");
        Assert.That(exit, Is.EqualTo(0), stderr);
        Assert.That(stderr, Does.Contain("disorder: 4 partially occupied sites in 1 of 15 structures, read as their majority species (--disorder majority)"));
        using var metrics = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "metrics.json")));
        var disorder = metrics.RootElement.GetProperty("disorder");
        Assert.That(disorder.GetProperty("policy").GetString(), Is.EqualTo("majority"));
        Assert.That(disorder.GetProperty("sites").GetInt32(), Is.EqualTo(4));
    }

    [Test, Order(6)]
    public void TrainsStraightFromACsvDatasetAndPredictsItUnderItsOwnIds()
    {
        var csv = Path.Combine(TestPaths.RepositoryRoot, "tests", "SaGatSr.Tests", "Data", "materials", "perovskites", "perovskites-head.csv");
        var output = Path.Combine(work, "csv-run");
        var (exit, stdout, stderr) = Run("train", csv, "--target", "heat_ref", "--out", output, "--epochs", "2", "--hidden", "16",
            "--layers", "1", "--device", "cpu", "--members", "1");
        Assert.That(exit, Is.EqualTo(0), stderr);
        Assert.That(stderr, Does.Contain("12 crystals").And.Contain("target 'heat_ref'"));

        var (predictExit, predicted, predictErrors) = Run("predict", Path.Combine(output, "model.sagat"), csv, "--device", "cpu");
        Assert.That(predictExit, Is.EqualTo(0), predictErrors);
        var rows = predicted.Trim().Split('\n');
        Assert.That(rows[0], Is.EqualTo("id,file,heat_ref"), "a single network has no spread to write");
        Assert.That(File.Exists(Path.Combine(output, "checkpoint.sagat")) && File.Exists(Path.Combine(output, "history.csv")),
            "a single network keeps its checkpoint and history in the run folder itself");
        Assert.That(rows.Skip(1).Select(r => r.Split(',')[0]).Take(3), Is.EqualTo(new[] { "3961", "11922", "6694" }));
        Assert.That(rows[1].Split(',')[1], Does.EndWith("perovskites-head.csv:2"));

        var (badTarget, _, error) = Run("train", csv, "--target", "band_gap", "--out", output, "--epochs", "1", "--device", "cpu");
        Assert.That(badTarget, Is.Not.Zero);
        Assert.That(error, Does.Contain("no target column 'band_gap'").And.Contain("heat_ref"));
    }
}
