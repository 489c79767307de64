using SaGatSr.Gat.Materials;

namespace SaGatSr.Tests.Materials;

public class DatasetTests
{
    [Test]
    public void JarvisFolderWithFileNameIdsLoadsAllFifty()
    {
        var progress = new List<(int, int)>();
        var dataset = Dataset.Load(MaterialsTestData.Jarvis, progress: new SynchronousProgress(progress));
        Assert.That(dataset.Entries, Has.Count.EqualTo(50));
        Assert.That(dataset.Skipped, Is.Empty);
        Assert.That(dataset.TargetNames, Is.EqualTo(new[] { "target" }));
        var vse2 = dataset.Entries.Single(e => e.Id == "POSCAR-JVASP-10.vasp");
        Assert.That(vse2.Targets, Is.EqualTo(new[] { 0.0 }));
        Assert.That(vse2.Structure.Formula, Is.EqualTo("VSe2"));
        Assert.That(dataset.Entries.Single(e => e.Id == "POSCAR-JVASP-98225.vasp").Targets, Is.EqualTo(new[] { 0.472 }));
        Assert.That(progress, Has.Count.EqualTo(50));
        Assert.That(progress.Max(p => p.Item1), Is.EqualTo(50));
    }

    [Test]
    public void CgcnnFolderWithBareIdsFindsTheCifFiles()
    {
        var dataset = Dataset.Load(MaterialsTestData.Cgcnn);
        Assert.That(dataset.Entries, Has.Count.EqualTo(10));
        Assert.That(dataset.Entries.Single(e => e.Id == "1000041").Structure.Formula, Is.EqualTo("NaCl"));
        Assert.That(dataset.Entries.Single(e => e.Id == "9012304").Targets, Is.EqualTo(new[] { 10.0 }));
        Assert.That(dataset.SkippedSummary(), Is.EqualTo("loaded 10 structures, skipped 0"));
    }

    [Test]
    public void BadRowsAndBrokenFilesAreSkippedWithReasonsAndTheRestLoads()
    {
        string folder = MaterialsTestData.NewTemporaryFolder();
        try
        {
            foreach (string id in new[] { "1000041", "1000050", "9011998" })
                File.Copy(Path.Combine(MaterialsTestData.Cgcnn, id + ".cif"), Path.Combine(folder, id + ".cif"));
            File.WriteAllText(Path.Combine(folder, "broken.cif"), "data_x\nloop_\n_atom_site_label\n_atom_site_fract_x\n_atom_site_fract_y\n_atom_site_fract_z\nNa 0 0 0\n");
            File.WriteAllText(Path.Combine(folder, "props.csv"), string.Join("\n",
                "id,band_gap,formation_energy",
                "1000041,1.5,-2.0",
                "1000050,2.5,-1.0",
                "missing,1,2",
                "9011998,nan,1",
                "9011998,,1",
                "9011998,abc,1",
                "9011998,1",
                "1000041,9,9",
                "broken,1,1",
                "9011998,0.5,-0.1",
                ""));
            var dataset = Dataset.Load(folder, "props.csv");
            Assert.That(dataset.TargetNames, Is.EqualTo(new[] { "band_gap", "formation_energy" }));
            Assert.That(dataset.Entries.Select(e => e.Id), Is.EquivalentTo(new[] { "1000041", "1000050", "9011998" }));
            Assert.That(dataset.Entries.Single(e => e.Id == "1000041").Targets, Is.EqualTo(new[] { 1.5, -2.0 }));
            Assert.That(dataset.Entries.Single(e => e.Id == "9011998").Targets, Is.EqualTo(new[] { 0.5, -0.1 }));

            var reasons = dataset.Skipped.Select(s => s.Reason).ToList();
            string table = Path.Combine(folder, "props.csv");
            Assert.That(reasons, Has.Count.EqualTo(7));
            Assert.That(reasons, Has.Some.StartsWith($"{table}:4: no structure file 'missing'"));
            Assert.That(reasons, Has.Some.EqualTo($"{table}:5: target 1 is 'nan', not a finite number"));
            Assert.That(reasons, Has.Some.EqualTo($"{table}:6: target 1 is empty"));
            Assert.That(reasons, Has.Some.EqualTo($"{table}:7: target 1 'abc' is not a number"));
            Assert.That(reasons, Has.Some.EqualTo($"{table}:8: 1 targets, expected 2"));
            Assert.That(reasons, Has.Some.EqualTo($"{table}:9: duplicate id (first occurrence kept)"));
            Assert.That(reasons, Has.Some.Contains("broken.cif").And.Contains("missing cell"));
            Assert.That(dataset.SkippedSummary(), Does.StartWith("loaded 3 structures, skipped 7\n"));
        }
        finally
        {
            MaterialsTestData.DeleteFolder(folder);
        }
    }

    [Test]
    public void SingleFileAndFolderWithoutTableLoadForPrediction()
    {
        var single = Dataset.Load(Path.Combine(MaterialsTestData.Cgcnn, "1000041.cif"));
        Assert.That(single.Entries, Has.Count.EqualTo(1));
        Assert.That(single.Entries[0].Targets, Is.Empty);
        Assert.That(single.TargetNames, Is.Empty);

        string folder = MaterialsTestData.NewTemporaryFolder();
        try
        {
            File.Copy(Path.Combine(MaterialsTestData.Jarvis, "POSCAR-JVASP-10.vasp"), Path.Combine(folder, "POSCAR-JVASP-10.vasp"));
            File.Copy(Path.Combine(MaterialsTestData.Cgcnn, "1000050.cif"), Path.Combine(folder, "kcl.cif"));
            File.WriteAllText(Path.Combine(folder, "notes.txt"), "not a structure");
            var dataset = Dataset.Load(folder);
            Assert.That(dataset.Entries.Select(e => e.Structure.Formula), Is.EqualTo(new[] { "VSe2", "KCl" }));
        }
        finally
        {
            MaterialsTestData.DeleteFolder(folder);
        }
    }

    [Test]
    public void MissingFolderOrTableGivesAClearError()
    {
        var ex = Assert.Throws<StructureFormatException>(() => Dataset.Load("/nonexistent/folder"))!;
        Assert.That(ex.Message, Does.Contain("not found"));
        var table = Assert.Throws<StructureFormatException>(() => Dataset.Load(MaterialsTestData.Cgcnn, "nope.csv"))!;
        Assert.That(table.Message, Does.Contain("nope.csv").And.Contain("not found"));
        var fileWithTable = Assert.Throws<StructureFormatException>(() => Dataset.Load(Path.Combine(MaterialsTestData.Cgcnn, "1000041.cif"), "id_prop.csv"))!;
        Assert.That(fileWithTable.Message, Does.Contain("needs a dataset folder"));
    }

    private sealed class SynchronousProgress(List<(int, int)> reports) : IProgress<(int done, int total)>
    {
        public void Report((int done, int total) value)
        {
            lock (reports)
                reports.Add(value);
        }
    }
}
