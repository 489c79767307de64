using System.Reflection;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using SaGatSr.Gat.Materials;
using SaGatSr.Gat.Model;
using SaGatSr.Gat.Training;
using SaGatSr.Kernels;
using SaGatSr.Pipeline;
using SaGatSr.Symbolic;
using SaGatSr.Tests.Materials;
using SaGatSr.Tests.Symbolic;

namespace SaGatSr.Tests.Pipeline;

public class PipelineTests
{
    private static readonly string[] Sae = new SaeFeaturizer().Features.Features.Select(f => f.Name).ToArray();

    [TestCase("B_IE1", SiteRole.B, "IE1")]
    [TestCase("A_r_ion", SiteRole.A, "r_ion")]
    [TestCase("X_EA_mean", SiteRole.X, "EA")]
    [TestCase("X_ir_range", SiteRole.X, "site_ir")]
    [TestCase("B_ir", SiteRole.B, "site_ir")]
    [TestCase("X_charge", SiteRole.X, "site_charge")]
    [TestCase("anion_X_max", SiteRole.Anion, "X")]
    [TestCase("cation_val_total_mean", SiteRole.Cation, "val_total")]
    [TestCase("G_t", null, "G_t")]
    [TestCase("G_vpa", null, "vol_per_atom")]
    public void EachDescriptorNamesTheSaeFeatureAndSitesItIsMadeOf(string descriptor, SiteRole? role, string feature) =>
        Assert.That(DescriptorSource.Of(descriptor, Sae), Is.EqualTo(new DescriptorSource(descriptor, role, feature)));

    [TestCase("roles_fallback")]
    [TestCase("B_unknown_property")]
    [TestCase("G_not_a_descriptor")]
    public void ColumnsWithoutAnSaeFeatureHaveNoSource(string descriptor) => Assert.That(DescriptorSource.Of(descriptor, Sae), Is.Null);

    [Test]
    public void RoleImportanceAveragesOverTheRolesAtomsThenOverCrystals()
    {
        var structures = new[]
        {
            CrystalWithCubicPerovskite("SrTiO3", [38, 22, 8, 8, 8]),
            CrystalWithCubicPerovskite("BaZrO3", [56, 40, 8, 8, 8]),
        };
        var roles = structures.Select(s => SiteRoles.Assign(s)).ToArray();
        Assert.That(roles.All(r => r.IsAbx3));
        string[] features = ["f0", "f1"];
        // atom-major [atoms * 2]: crystal 1 then crystal 2, each A, B, X, X, X
        float[] coefficients = [0.9f, 0.1f, 0.2f, 0.8f, 0.5f, 0.5f, 0.4f, 0.6f, 0.3f, 0.7f,
                                0.7f, 0.3f, 0.6f, 0.4f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f];
        var accumulator = new RoleImportance.Accumulator(features);
        accumulator.Add(coefficients, [0, 5, 10], roles);
        var importance = accumulator.Result();
        Assert.That(importance.Of(SiteRole.A, "f0"), Is.EqualTo((0.9 + 0.7) / 2).Within(1e-6));
        Assert.That(importance.Of(SiteRole.B, "f1"), Is.EqualTo((0.8 + 0.4) / 2).Within(1e-6));
        Assert.That(importance.Of(SiteRole.X, "f0"), Is.EqualTo(((0.5 + 0.4 + 0.3) / 3 + 0.5) / 2).Within(1e-6));
        Assert.That(importance.Of(null, "f0"), Is.EqualTo(((0.9 + 0.2 + 0.5 + 0.4 + 0.3) / 5 + (0.7 + 0.6 + 1.5) / 5) / 2).Within(1e-6));
        Assert.That(importance.Of(SiteRole.Cation, "f0"), Is.EqualTo(((0.9 + 0.2) / 2 + (0.7 + 0.6) / 2) / 2).Within(1e-6));
        Assert.That(double.IsNaN(new RoleImportance.Accumulator(features).Result().Of(SiteRole.A, "f0")), "no atoms of the role: no importance");
    }

    private static Structure CrystalWithCubicPerovskite(string id, int[] atomicNumbers) => Structure.Create(id,
        new double[,] { { 4, 0, 0 }, { 0, 4, 0 }, { 0, 0, 4 } }, atomicNumbers,
        [[0, 0, 0], [0.5, 0.5, 0.5], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]], true, id);

    [Test]
    public void TheFormulaAsTextPostfixAndGeneratedCSharpComputeTheSameNumbers()
    {
        var (table, y) = SissoRecoveryTests.Synthetic(3, 80, [("a", 0.5, 3), ("b", 0.5, 3), ("c", -2, 2)], 4,
            r => 2.5 * r["a"] / r["b"] - 1.2 * r["c"] * r["c"] + 0.3);
        var formula = SymbolicRegressor.Fit(table, y, new SrOptions { Rungs = 1, MaxTerms = 2, Operators = ["+", "-", "*", "/", "^2"] }).Best;
        var expected = formula.Evaluate(table);

        var postfix = PostfixFormula.Parse(formula.ToPostfix().ToArray());
        Assert.That(postfix.Evaluate(table), Is.EqualTo(expected), "postfix round trip");

        var compiled = CompileStatic(formula.ToCSharp("Predict"));
        for (int i = 0; i < table.SampleCount; i++)
        {
            var arguments = formula.UsedFeatures.Select(f => (object)table.Columns[table.IndexOf(f)][i]).ToArray();
            Assert.That((double)compiled.Invoke(null, arguments)!, Is.EqualTo(expected[i]).Within(1e-12 * Math.Max(1, Math.Abs(expected[i]))), $"sample {i}");
        }
    }

    /// <summary>Compiles a static method into a throwaway class and returns it.</summary>
    private static MethodInfo CompileStatic(string method)
    {
        var tree = CSharpSyntaxTree.ParseText($"public static class Generated {{\n{method}\n}}");
        var references = AppDomain.CurrentDomain.GetAssemblies().Where(a => !a.IsDynamic && a.Location.Length > 0)
            .Select(a => MetadataReference.CreateFromFile(a.Location));
        var compilation = CSharpCompilation.Create("GeneratedFormula", [tree], references,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, optimizationLevel: OptimizationLevel.Release));
        using var image = new MemoryStream();
        var emitted = compilation.Emit(image);
        Assert.That(emitted.Success, string.Join("\n", emitted.Diagnostics));
        return Assembly.Load(image.ToArray()).GetType("Generated")!.GetMethods(BindingFlags.Public | BindingFlags.Static).Single();
    }

    [Test]
    public void ExplainWritesAFormulaModelThatPredictsNewStructuresAsItDidInTraining()
    {
        var dataset = Dataset.Load(Path.Combine(MaterialsTestData.Folder, "perovskites", "perovskites-head.csv"));
        int column = dataset.TargetNames.ToList().IndexOf("heat_ref");
        var structures = dataset.Entries.Select(e => e.Structure).ToArray();
        var featurizer = new SaeFeaturizer();
        var graph = new GraphOptions();
        var data = new TrainingData(dataset.Entries.Select(e => e.Id).ToArray(), SamplePreparer.Featurize(structures, featurizer, graph),
            dataset.Entries.Select(e => e.Targets[column]).ToArray(), "heat_ref", featurizer.Features, "sae", graph);
        using var backend = Devices.Create("cpu");
        var training = Trainer.Train(backend, data, new SaGatConfig { Hidden = 8, Heads = 2, Layers = 1, Seed = 1 },
            new TrainingOptions { Epochs = 2, BatchSize = 4, TrainRatio = 0.6, ValidationRatio = 0.2, Seed = 1 });
        using var model = training.Model;
        var options = new ExplainOptions
        {
            Screening = new ScreeningOptions { Candidates = [2, 3] },
            SymbolicRegression = new SrOptions { Rungs = 1, MaxTerms = 1, Operators = ["+", "*", "/"] },
        };
        var result = Explainer.Run(model, data, structures, training.Split, options);

        Assert.That(result.Descriptors.Scheme, Is.EqualTo(RoleScheme.Abx3));
        Assert.That(result.Trials.Select(t => t.K), Is.EqualTo(new[] { 2, 3 }));
        Assert.That(result.Kept.Select(d => d.Name), Is.EqualTo(result.Ranking.Take(result.Kept.Count).Select(d => d.Name)));
        // Ranked by property: the descriptors of one property come together, by their own sites' importance within it.
        var blocks = result.Ranking.Select(d => d.Source.Feature).Aggregate(new List<string>(), (seen, f) =>
        {
            if (seen.Count == 0 || seen[^1] != f) seen.Add(f);
            return seen;
        });
        Assert.That(blocks, Is.Unique, "one block per property");
        foreach (var group in result.Ranking.GroupBy(d => d.Source.Feature))
            Assert.That(group.Select(d => d.Importance), Is.Ordered.Descending, group.Key);
        Assert.That(result.Ranking.Select(d => d.Name), Has.None.EqualTo("roles_fallback"));

        string folder = TestPaths.NewTemporaryFolder();
        ExplainReport.Write(folder, result, new Dictionary<string, object?>());
        foreach (var file in new[] { "formula.json", "formula.txt", "formula.tex", "descriptors.csv", "crystals.csv", "run.json" })
            Assert.That(File.Exists(Path.Combine(folder, file)), file);
        var loaded = FormulaModel.Load(Path.Combine(folder, FormulaModel.FileName));
        Assert.That(loaded.Descriptors.Select(d => d.Name), Is.EquivalentTo(result.Sr.Best.UsedFeatures));
        // New structures: the same crystals read again, so the formula must give what it gave in training.
        var again = Dataset.Load(Path.Combine(MaterialsTestData.Folder, "perovskites", "perovskites-head.csv")).Entries.Select(e => e.Structure).ToArray();
        Assert.That(loaded.Predict(again), Is.EqualTo(result.FormulaPredictions).Within(1e-12));

        // A changed value is refused; a file from before the checksum (none recorded) loads as it did.
        string path = Path.Combine(folder, FormulaModel.FileName), text = File.ReadAllText(path);
        Assert.That(text, Does.Contain("\"integrity\": \"sha256:"));
        File.WriteAllText(path, text.Replace($"\"complexity\": {loaded.Complexity}", $"\"complexity\": {loaded.Complexity + 1}"));
        Assert.That(Assert.Throws<InvalidDataException>(() => FormulaModel.Load(path))!.Message,
            Is.EqualTo($"{path}: content does not match its integrity checksum, file damaged; rerun explain to write it again"));
        File.WriteAllText(path, System.Text.RegularExpressions.Regex.Replace(text, @",\s*""integrity"": ""[^""]*""", ""));
        Assert.That(FormulaModel.Load(path).Predict(again), Is.EqualTo(result.FormulaPredictions).Within(1e-12));
    }
}
