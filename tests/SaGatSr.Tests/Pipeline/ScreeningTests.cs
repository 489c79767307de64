using SaGatSr.Cli;
using SaGatSr.Gat;
using SaGatSr.Gat.Materials;
using SaGatSr.Pipeline;

namespace SaGatSr.Tests.Pipeline;

/// <summary>`sagatsr screen` and the Screening library: enumeration, charge balance, ideal cells, streaming, bad input.</summary>
[NonParallelizable]
public class ScreeningTests
{
    private string work = "";
    private string model = "";

    [OneTimeSetUp]
    public void TrainTinyModel()
    {
        work = TestPaths.NewTemporaryFolder();
        var records = CsvRecords.Read(Path.Combine(TestPaths.RepositoryRoot, "data", "perovskites", "perovskites.csv")).Take(13).ToArray();
        File.WriteAllLines(Path.Combine(work, "small.csv"),
            records.Select(r => string.Join(',', r.Fields.Select(f => "\"" + f.Replace("\"", "\"\"") + "\""))));
        int exit = Program.Run(["train", Path.Combine(work, "small.csv"), "--target", "heat_ref", "--out", Path.Combine(work, "model"),
            "--epochs", "2", "--hidden", "8", "--layers", "1", "--device", "cpu", "--members", "1"]);
        Assert.That(exit, Is.EqualTo(0));
        model = Path.Combine(work, "model", "model.sagat");
    }

    [Test]
    public void ListsEnumerateEveryCombinationAndBalanceWithCommonStates()
    {
        var source = CandidateSource.FromLists(["Ca", "Sr", "La"], ["Ti", "Al", "Ta"], ["O3", "O2N"]);
        Assert.That(source.Count, Is.EqualTo(18));
        var balanced = source.Read(0, source.Count).Where(c => IdealPerovskite.TryBalance(c, out _, out _)).Select(c => c.Formula).ToArray();
        // Ca/Sr +2 need B +4 (Ti) for O3 and +5 (Ta) for O2N; La +3 needs Al +3 for O3 and Ti +4 for O2N.
        Assert.That(balanced, Is.EquivalentTo(new[] { "CaTiO3", "CaTaO2N", "SrTiO3", "SrTaO2N", "LaAlO3", "LaTiO2N" }));
        Assert.That(source.Read(4, 6).Select(c => c.Index), Is.EqualTo(new long[] { 4, 5 }));
    }

    [Test]
    public void NoBalanceIsADropReasonNamingTheStates()
    {
        var candidate = PerovskiteCandidate.Parse("CaAlO3");
        Assert.That(IdealPerovskite.TryBalance(candidate, out _, out string reason), Is.False);
        Assert.That(reason, Does.Contain("Ca +2").And.Contain("Al +3").And.Contain("needs +6"));
    }

    [Test]
    public void IdealCellFollowsTheBondValenceRuleAndPlacesMixedAnionsAsShipped()
    {
        var candidate = PerovskiteCandidate.Parse("BaTaO2N");
        Assert.That(IdealPerovskite.TryBalance(candidate, out var states, out _), Is.True);
        Assert.That(states, Is.EqualTo((2, 5)));
        double a = IdealPerovskite.LatticeParameter(candidate, states.B);
        var ions = IonTable.Default;
        int ta = 73, o = 8, n = 7;
        double b = IonTable.BondValenceSoftness;
        // B's bond-valence sum over its six X at a/2 equals its charge.
        double bvs = 2 * (2 * Math.Exp((ions.BondValenceR0(ta, o) - a / 2) / b) + Math.Exp((ions.BondValenceR0(ta, n) - a / 2) / b));
        Assert.That(bvs, Is.EqualTo(5).Within(1e-9));
        var cell = IdealPerovskite.Build(candidate, a);
        Assert.That(cell.AtomCount, Is.EqualTo(5));
        Assert.That(cell.AtomicNumbers, Is.EqualTo(new[] { 56, 73, n, o, o }));
        Assert.That(cell.FractionalCoordinates[2], Is.EqualTo(new[] { 0.5, 0, 0.5 }), "N bonded to B along b, as in the shipped cells");
        var bx = cell.CartesianCoordinates[1].Zip(cell.CartesianCoordinates[2], (p, q) => (p - q) * (p - q)).Sum();
        Assert.That(Math.Sqrt(bx), Is.EqualTo(a / 2).Within(1e-12));
        Assert.That(IdealPerovskite.LatticeParameter(PerovskiteCandidate.Parse("SrTiO3"), 4), Is.EqualTo(3.905).Within(0.05), "SrTiO3 is 3.905 Å");
    }

    [Test]
    public void ToleranceFactorIsCrystalDescriptors()
    {
        using var predictor = SaGatPredictor.Load(model, "cpu");
        var candidates = CandidateSource.FromFormulas(["SrTiO3", "KNbO3", "CaAlO3"]);
        var (kept, dropped) = Screening.Evaluate(predictor, null, candidates.Read(0, 3).ToList());
        Assert.That(kept.Select(k => k.Formula), Is.EqualTo(new[] { "SrTiO3", "KNbO3" }));
        Assert.That(dropped.Single().Kind, Is.EqualTo(DropKinds.ChargeBalance));
        var cell = IdealPerovskite.Build(PerovskiteCandidate.Parse("SrTiO3"), kept[0].LatticeParameter);
        var descriptors = CrystalDescriptors.Compute(cell, CrystalGraph.Build(cell), SiteRoles.Assign(cell));
        Assert.That(kept[0].ToleranceFactor, Is.EqualTo(descriptors.ToleranceFactor).Within(1e-12));
        Assert.That(kept[0].ToleranceFactor, Is.EqualTo((1.44 + 1.40) / (Math.Sqrt(2) * (0.605 + 1.40))).Within(1e-3));
        Assert.That(double.IsNaN(kept[0].Std), Is.True, "a single network has no spread");
    }

    [Test]
    public void StreamingInSmallChunksGivesTheOneChunkResult()
    {
        using var predictor = SaGatPredictor.Load(model, "cpu");
        var source = CandidateSource.FromLists(["Ca", "Sr", "Ba", "La", "K"], ["Ti", "Zr", "Ta", "Nb", "Al"], ["O3", "O2N", "O2F"]);
        string Screen(int chunk, int rows, string name)
        {
            Screening.Run(predictor, null, source, Path.Combine(work, name + ".csv"), Path.Combine(work, name + "-dropped.csv"),
                new CandidateScreeningOptions { ChunkSize = chunk, RowsInMemory = rows, TemporaryFolder = work });
            return File.ReadAllText(Path.Combine(work, name + ".csv")) + File.ReadAllText(Path.Combine(work, name + "-dropped.csv"));
        }

        string whole = Screen(1000, 1000, "whole");
        Assert.That(Screen(7, 5, "streamed"), Is.EqualTo(whole), "7-candidate chunks and 5-row sorted runs");
        Assert.That(whole.Split('\n').Count(l => l.Contains("no charge balance")), Is.GreaterThan(0));
        Assert.That(Directory.GetFiles(work, "*.run"), Is.Empty, "temporary runs are deleted");
    }

    [Test]
    public void BadInputIsAClearError()
    {
        Assert.That(() => CandidateSource.FromLists(["Ca", "Qq"], ["Ti"], ["O3"]), Throws.TypeOf<FormatException>().With.Message.Contains("unknown element 'Qq' in the A list"));
        Assert.That(() => CandidateSource.FromLists([], ["Ti"], ["O3"]), Throws.TypeOf<ArgumentException>().With.Message.Contains("A list is empty"));
        Assert.That(() => CandidateSource.FromLists(["Ca"], ["Ti"], ["O2Fe"]), Throws.TypeOf<FormatException>().With.Message.Contains("not an anion"));
        Assert.That(() => CandidateSource.FromLists(["Ca"], ["Ti"], ["O2"]), Throws.TypeOf<FormatException>().With.Message.Contains("2 anions"));
        string file = Path.Combine(work, "bad.csv");
        File.WriteAllText(file, "id,formula\n1,SrTiO3\n2,SrTiQ3\n");
        Assert.That(() => CandidateSource.FromFile(file), Throws.TypeOf<FormatException>().With.Message.Contains("bad.csv:3").And.Message.Contains("'Q"));
        File.WriteAllText(file, "id,formula\n");
        Assert.That(() => CandidateSource.FromFile(file), Throws.TypeOf<ArgumentException>().With.Message.Contains("no candidates"));
    }

    [Test]
    public void AFormulaFromExplainPredictsEachIdealCellBesideTheNetwork()
    {
        string explained = Path.Combine(work, "explain");
        Assert.That(Program.Run(["explain", Path.Combine(work, "small.csv"), "--target", "heat_ref", "--model", model, "--out", explained,
            "--top-k", "3", "--rungs", "1", "--max-terms", "1", "--time-limit", "20", "--device", "cpu"]), Is.EqualTo(0));
        string formulaPath = Path.Combine(explained, "formula.json");
        string output = Path.Combine(work, "with-formula");
        Assert.That(Program.Run(["screen", model, "--a", "Ca,Sr,Ba", "--b", "Ti,Zr", "--x", "O3", "--formula", formulaPath, "--out", output,
            "--device", "cpu"]), Is.EqualTo(0));
        var lines = File.ReadAllLines(Path.Combine(output, "ranked.csv"));
        var header = lines[0].Split(',');
        int formulaColumn = Array.IndexOf(header, "heat_ref_formula");
        Assert.That(formulaColumn, Is.GreaterThan(0), lines[0]);
        // The same ideal cells, built here and given to the formula directly, give the column's values.
        var formula = FormulaModel.Load(formulaPath);
        foreach (var line in lines.Skip(1))
        {
            var fields = line.Split(',');
            var candidate = PerovskiteCandidate.Parse(fields[2]);
            Assert.That(IdealPerovskite.TryBalance(candidate, out var states, out _), Is.True);
            var cell = IdealPerovskite.Build(candidate, IdealPerovskite.LatticeParameter(candidate, states.B));
            double expected = formula.Predict([cell])[0];
            Assert.That(double.Parse(fields[formulaColumn], System.Globalization.CultureInfo.InvariantCulture),
                Is.EqualTo(expected).Within(1e-4 * Math.Max(1, Math.Abs(expected))), fields[2]);
        }
    }

    [Test]
    public void CliWritesTheRankedCsvAndRefusesLcbForASingleNetwork()
    {
        string output = Path.Combine(work, "cli");
        int exit = Program.Run(["screen", model, "--a", "Ca,Sr,Ba", "--b", "Ti,Zr,Ta", "--x", "O3,O2N", "--goal", "min", "--out", output, "--device", "cpu"]);
        Assert.That(exit, Is.EqualTo(0));
        var lines = File.ReadAllLines(Path.Combine(output, "ranked.csv"));
        Assert.That(lines[0], Does.StartWith("rank,id,formula,A,B,X,A_state,B_state,a,t,mu,heat_ref,heat_ref_std"));
        Assert.That(lines.Length - 1, Is.EqualTo(9), "Ca/Sr/Ba with Ti, Zr (O3) and Ta (O2N)");
        var predictions = lines.Skip(1).Select(l => double.Parse(l.Split(',')[11], System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        Assert.That(predictions, Is.Ordered.Ascending);
        Assert.That(lines.Skip(1).All(l => l.Split(',')[12] == ""), "no std from a single network");
        Assert.That(File.ReadAllLines(Path.Combine(output, "dropped.csv")).Length - 1, Is.EqualTo(9));
        Assert.That(File.Exists(Path.Combine(output, "prediction_uncertainty.png")));
        Assert.That(Program.Run(["screen", model, "--a", "Ca", "--b", "Ti", "--x", "O3", "--rank", "lcb", "--out", output, "--device", "cpu"]), Is.EqualTo(1));
    }
}
