using SaGatSr.Gat.Materials;

namespace SaGatSr.Tests.Materials;

public class FeaturizerTests
{
    private static readonly SaeFeaturizer Sae = new();

    [Test]
    public void SaeFeaturesAreAbout195NamedAndDescribed()
    {
        var features = Sae.Features;
        Assert.That(features.Count, Is.EqualTo(195));
        Assert.That(features.Features.Select(f => f.Name).Distinct().Count(), Is.EqualTo(195));
        foreach (var f in features.Features)
        {
            Assert.That(f.Name, Does.Match("^[A-Za-z][A-Za-z0-9_]*$"), "names are identifiers so formulas can print them");
            Assert.That(f.Description, Is.Not.Empty);
            Assert.That(f.Kind, Is.AnyOf(FeatureInfo.Elemental, FeatureInfo.Structural, FeatureInfo.Site, FeatureInfo.Crystal));
        }

        Assert.That(features.Features.Count(f => f.Kind == FeatureInfo.Elemental), Is.EqualTo(ElementTable.Default.Properties.Count));
        Assert.That(features[features.IndexOf("X")].Description, Does.Contain("imputed with the median"), "X is missing for noble gases");
    }

    private static string FeatureDocument => Path.Combine(MaterialsTestData.RepositoryRoot, "src", "Gat", "Materials", "FEATURES.md");

    [Test]
    public void ShippedFeatureDocumentIsCurrent() =>
        Assert.That(File.ReadAllText(FeatureDocument).Replace("\r\n", "\n"), Is.EqualTo(Sae.FeatureTableMarkdown()),
            "run the explicit test RegenerateFeatureDocument");

    [Test, Explicit("writes src/Gat/Materials/FEATURES.md")]
    public void RegenerateFeatureDocument() => File.WriteAllText(FeatureDocument, Sae.FeatureTableMarkdown());

    [Test]
    public void EveryShippedStructureGivesFiniteFeatures()
    {
        var files = Directory.GetFiles(MaterialsTestData.Jarvis, "*.vasp").Concat(Directory.GetFiles(MaterialsTestData.Cgcnn, "*.cif"));
        foreach (string file in files)
        {
            var s = StructureReader.Read(file);
            var m = Sae.Featurize(s, CrystalGraph.Build(s));
            Assert.That(m, Has.Length.EqualTo(s.AtomCount * Sae.Features.Count));
            Assert.That(m.All(float.IsFinite), Path.GetFileName(file));
        }
    }

    [Test]
    public void SiteAndCrystalFeaturesCarryTheRolesAndTheCrystalDescriptors()
    {
        var s = SiteRolesTests.CubicPerovskite("Sr", "Ti", ["O", "O", "O"], 3.905);
        var graph = CrystalGraph.Build(s);
        var m = Sae.Featurize(s, graph);
        var descriptors = CrystalDescriptors.Compute(s, graph, SiteRoles.Assign(s, graph));
        int f = Sae.Features.Count;
        float Feature(int atom, string name) => m[atom * f + Sae.Features.IndexOf(name)];
        Assert.Multiple(() =>
        {
            Assert.That(Feature(1, "site_charge"), Is.EqualTo(4));
            Assert.That(Feature(1, "site_B"), Is.EqualTo(1));
            Assert.That(Feature(1, "site_A"), Is.EqualTo(0));
            Assert.That(Feature(1, "site_ir"), Is.EqualTo(0.605f));
            Assert.That(Feature(2, "site_charge"), Is.EqualTo(-2));
            Assert.That(Feature(2, "site_X"), Is.EqualTo(1));
            Assert.That(Feature(0, "site_bvs"), Is.GreaterThan(1.5).And.LessThan(2.5), "Sr2+");
            for (int atom = 0; atom < 5; atom++)
            {
                Assert.That(Feature(atom, "G_t"), Is.EqualTo((float)descriptors.ToleranceFactor), "every atom carries the crystal's value");
                Assert.That(Feature(atom, "G_gii"), Is.EqualTo((float)descriptors.GlobalInstabilityIndex));
                Assert.That(Feature(atom, "G_abx3"), Is.EqualTo(1));
            }
        });

        var salt = StructureReader.Read(Path.Combine(MaterialsTestData.Cgcnn, "1000041.cif"));
        var saltFeatures = Sae.Featurize(salt, CrystalGraph.Build(salt));
        Assert.That(saltFeatures[Sae.Features.IndexOf("G_abx3")], Is.Zero);
        Assert.That(saltFeatures[Sae.Features.IndexOf("G_t")], Is.Zero, "not ABX3: the neutral value");
        Assert.That(saltFeatures[Sae.Features.IndexOf("G_assigned")], Is.EqualTo(1));
        Assert.That(Sae.Features.IndexOf("G_vpa"), Is.EqualTo(-1), "already the per-atom vol_per_atom");
    }

    [Test]
    public void AtomsWithoutNeighboursStillGetFiniteFeatures()
    {
        var lattice = new double[,] { { 30, 0, 0 }, { 0, 30, 0 }, { 0, 0, 30 } };
        var s = Structure.Create("sparse", lattice, [26, 8, 2], [[0, 0, 0], [10, 10, 10], [20, 5, 15]], false, "sparse");
        var graph = CrystalGraph.Build(s, new GraphOptions { Cutoff = 4, KeepNearestBeyondCutoff = false });
        Assert.That(graph.EdgeCount, Is.Zero);
        var m = Sae.Featurize(s, graph);
        Assert.That(m.All(float.IsFinite));
        int nbMeanX = Sae.Features.IndexOf("nb_mean_X"), x = Sae.Features.IndexOf("X");
        Assert.That(m[nbMeanX], Is.EqualTo(m[x]), "no neighbours: the neighbour mean falls back to the atom's own value");
    }

    [Test]
    public void RockSaltSodiumHasOctahedralChlorineShell()
    {
        var s = StructureReader.Read(Path.Combine(MaterialsTestData.Cgcnn, "1000041.cif"));
        // 12 neighbours: the chlorine shell and 6 of the 12 equidistant sodium atoms behind it.
        var m = Sae.Featurize(s, CrystalGraph.Build(s, new GraphOptions { MaxNeighbors = 12 }));
        var table = ElementTable.Default;
        int sodium = Array.IndexOf(s.AtomicNumbers, 11);
        float Feature(string name) => m[sodium * Sae.Features.Count + Sae.Features.IndexOf(name)];
        Assert.Multiple(() =>
        {
            Assert.That(Feature("X"), Is.EqualTo(0.93).Within(1e-6));
            Assert.That(Feature("d_min"), Is.EqualTo(2.81).Within(1e-5));
            // 6 Cl at a/2 weigh 1; second-shell Na at a/√2 weigh exp(1 - 8) each
            Assert.That(Feature("cn_eff"), Is.EqualTo(6 + 6 * Math.Exp(-7)).Within(1e-4));
            Assert.That(Feature("n_species_nb"), Is.EqualTo(1));
            Assert.That(Feature("nb_min_X"), Is.EqualTo(3.16).Within(1e-6));
            Assert.That(Feature("nb_max_X"), Is.EqualTo(3.16).Within(1e-6));
            double w2 = Math.Exp(-7);
            double expectedMeanX = (6 * 3.16 + 6 * w2 * 0.93) / (6 + 6 * w2);
            Assert.That(Feature("nb_mean_X"), Is.EqualTo(expectedMeanX).Within(1e-5));
            Assert.That(Feature("nb_diff_X"), Is.EqualTo(0.93 - expectedMeanX).Within(1e-5));
            Assert.That(Feature("frac_same"), Is.EqualTo(6 * w2 / (6 + 6 * w2)).Within(1e-6));
            Assert.That(Feature("vol_per_atom"), Is.EqualTo(Math.Pow(5.62, 3) / 8).Within(1e-3));
            Assert.That(Feature("cell_density"), Is.EqualTo(4 * (22.98976928 + 35.453) * 1.66053906660 / Math.Pow(5.62, 3)).Within(1e-3));
            double ri = table.RawValue(11, table.IndexOf("r_atom"))!.Value, rj = table.RawValue(17, table.IndexOf("r_atom"))!.Value;
            Assert.That(Feature("d_min_rel"), Is.EqualTo(2.81 / (ri + rj)).Within(1e-5));
        });
    }

    [Test]
    public void CgcnnFeaturizerReproducesAtomInitRows()
    {
        var s = StructureReader.Read(Path.Combine(MaterialsTestData.Cgcnn, "1000041.cif"));
        var fromFile = new CgcnnFeaturizer(MaterialsTestData.ShippedAtomInit);
        var embedded = new CgcnnFeaturizer();
        Assert.That(embedded.Features.Count, Is.EqualTo(92));
        var m = embedded.Featurize(s, CrystalGraph.Build(s));
        Assert.That(m, Is.EqualTo(fromFile.Featurize(s, CrystalGraph.Build(s))));
        // atom_init.json row for Na (Z = 11), read independently
        using var json = System.Text.Json.JsonDocument.Parse(File.ReadAllText(MaterialsTestData.ShippedAtomInit));
        var sodiumRow = json.RootElement.GetProperty("11").EnumerateArray().Select(v => v.GetSingle()).ToArray();
        int sodium = Array.IndexOf(s.AtomicNumbers, 11);
        Assert.That(m[(sodium * 92)..((sodium + 1) * 92)], Is.EqualTo(sodiumRow));
    }

    [Test]
    public void CgcnnFeaturizerRefusesElementsItDoesNotCover()
    {
        var s = Structure.Create("og", new double[,] { { 5, 0, 0 }, { 0, 5, 0 }, { 0, 0, 5 } }, [118], [[0, 0, 0]], true, "og.vasp", "og.vasp");
        var ex = Assert.Throws<StructureFormatException>(() => new CgcnnFeaturizer().Featurize(s, CrystalGraph.Build(s)))!;
        Assert.That(ex.Message, Does.Contain("Og").And.Contain("no CGCNN atom_init encoding"));
    }

    private static Structure Perovskite(int[] aSite, double[] occupancies)
    {
        var lattice = new double[,] { { 3.9455, 0, 0 }, { 0, 3.9455, 0 }, { 0, 0, 3.9455 } };
        double[][] positions = [[0, 0, 0], [0.5, 0.5, 0.5], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]];
        var mixture = aSite.Length > 1 ? new SiteMixture(aSite.Zip(occupancies, (z, o) => new SiteSpecies(z, o))) : null;
        return Structure.Create("abo3", lattice, [mixture?.MajoritySpecies ?? aSite[0], 22, 8, 8, 8], positions, true, "abo3",
            mixtures: [mixture, null, null, null, null], disorderedSites: mixture is null ? 0 : 1);
    }

    [Test]
    public void VirtualCrystalSiteFeaturesAreOccupancyWeightedMeans()
    {
        // (Ba0.25 Sr0.75)TiO3 against BaTiO3 and SrTiO3 of the same geometry
        var mixed = Perovskite([56, 38], [0.25, 0.75]);
        var barium = Perovskite([56], [1]);
        var strontium = Perovskite([38], [1]);
        Assert.That(mixed.AtomicNumbers[0], Is.EqualTo(38), "the majority species represents the site");
        float[] Featurize(Structure s) => Sae.Featurize(s, CrystalGraph.Build(s));
        var (m, b, r) = (Featurize(mixed), Featurize(barium), Featurize(strontium));
        int elemental = ElementTable.Default.Properties.Count;
        for (int p = 0; p < elemental; p++)
            Assert.That(m[p], Is.EqualTo(0.25 * b[p] + 0.75 * r[p]).Within(1e-4 * (1 + Math.Abs(b[p]))), Sae.Features[p].Name);
        // a neighbour mean is linear in the neighbours' values: the oxygen's view of the mixed A site is the mean too
        int oxygen = 2 * 180, nbMeanMass = Sae.Features.IndexOf("nb_mean_mass");
        Assert.That(m[oxygen + nbMeanMass], Is.EqualTo(0.25 * b[oxygen + nbMeanMass] + 0.75 * r[oxygen + nbMeanMass]).Within(1e-3));
        Assert.That(m.All(float.IsFinite));

        var cgcnn = new CgcnnFeaturizer();
        float[] Cgcnn(Structure s) => cgcnn.Featurize(s, CrystalGraph.Build(s));
        var (cm, cb, cr) = (Cgcnn(mixed), Cgcnn(barium), Cgcnn(strontium));
        for (int k = 0; k < 92; k++)
            Assert.That(cm[k], Is.EqualTo(0.25 * cb[k] + 0.75 * cr[k]).Within(1e-6));
        Assert.That(cm[92..], Is.EqualTo(cb[92..]), "ordered sites are untouched");
    }
}
