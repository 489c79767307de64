using System.Buffers.Binary;
using System.IO.Compression;
using SaGatSr.Gat.Model;
using SaGatSr.Gat.Training;
using SaGatSr.Kernels;

namespace SaGatSr.Tests.Gat;

public class FileIntegrityTests
{
    private static readonly SaGatConfig Small = new() { Hidden = 8, Heads = 2, Layers = 1, Seed = 3 };

    private static TrainingOptions Options(int epochs, string? checkpoints = null) => new()
    {
        Epochs = epochs, BatchSize = 4, LearningRate = 3e-3f, Seed = 5, CheckpointDirectory = checkpoints, Patience = 1000,
    };

    private static readonly Lazy<(byte[] File, IReadOnlyList<CrystalSample> Samples, double[] Predictions)> Saved = new(() =>
    {
        using var backend = Devices.Create("cpu");
        var result = Trainer.Train(backend, GatTestData.Data(6), Small, Options(1));
        using var model = result.Model;
        var path = Path.Combine(TestPaths.NewTemporaryFolder(), "model.sagat");
        ModelFile.Save(path, model);
        var samples = model.Prepare(GatTestData.Dataset.Entries.Take(4).Select(e => e.Structure).ToArray());
        return (File.ReadAllBytes(path), samples, model.Predict(samples));
    });

    /// <summary>A byte range of the zip and what it is: a local header, an entry's data, the central directory or its end.</summary>
    private sealed record Region(string Name, int Start, int Length);

    private static List<Region> Regions(byte[] zip)
    {
        int end = zip.Length - 22;
        while (BinaryPrimitives.ReadUInt32LittleEndian(zip.AsSpan(end)) != 0x06054b50) end--;
        int count = BinaryPrimitives.ReadUInt16LittleEndian(zip.AsSpan(end + 10));
        int directory = (int)BinaryPrimitives.ReadUInt32LittleEndian(zip.AsSpan(end + 16));
        var regions = new List<Region> { new("central directory", directory, end - directory), new("end of central directory", end, zip.Length - end) };
        for (int k = 0, at = directory; k < count; k++)
        {
            int compressed = (int)BinaryPrimitives.ReadUInt32LittleEndian(zip.AsSpan(at + 20));
            int nameLength = BinaryPrimitives.ReadUInt16LittleEndian(zip.AsSpan(at + 28));
            int extra = BinaryPrimitives.ReadUInt16LittleEndian(zip.AsSpan(at + 30));
            int comment = BinaryPrimitives.ReadUInt16LittleEndian(zip.AsSpan(at + 32));
            int local = (int)BinaryPrimitives.ReadUInt32LittleEndian(zip.AsSpan(at + 42));
            string name = System.Text.Encoding.UTF8.GetString(zip, at + 46, nameLength);
            int header = 30 + BinaryPrimitives.ReadUInt16LittleEndian(zip.AsSpan(local + 26)) + BinaryPrimitives.ReadUInt16LittleEndian(zip.AsSpan(local + 28));
            regions.Add(new($"{name} header", local, header));
            regions.Add(new($"{name} data", local + header, compressed));
            at += 46 + nameLength + extra + comment;
        }

        return regions;
    }

    [Test]
    public void EveryFlippedBitIsRefusedOrChangesNothing()
    {
        var (original, samples, expected) = Saved.Value;
        var regions = Regions(original);
        Assert.That(regions.Select(r => r.Name), Does.Contain("parameters.bin data").And.Contain(FileIntegrity.ManifestEntry + " data"));
        string path = Path.Combine(TestPaths.NewTemporaryFolder(), "model.sagat");
        using var backend = Devices.Create("cpu");
        var random = new Random(21);
        int tried = 0, silent = 0, refusedTotal = 0;
        foreach (var region in regions)
        {
            // Every byte of headers and directories; a sample of each entry's data (its every byte is covered by the SHA-256).
            var positions = region.Name.EndsWith(" data", StringComparison.Ordinal) && region.Length > 64
                ? Enumerable.Range(0, 64).Select(_ => region.Start + random.Next(region.Length))
                : Enumerable.Range(region.Start, region.Length);
            int refused = 0;
            foreach (int position in positions)
            {
                var damaged = (byte[])original.Clone();
                damaged[position] ^= (byte)(1 << random.Next(8));
                File.WriteAllBytes(path, damaged);
                tried++;
                try
                {
                    using var loaded = ModelFile.Load(path, backend);
                    if (!loaded.Predict(samples).SequenceEqual(expected)) silent++;
                }
                catch (InvalidDataException e)
                {
                    Assert.That(e.Message, Does.StartWith(path + ": "));
                    refused++;
                }
            }

            refusedTotal += refused;
            if (region.Name.EndsWith(" data", StringComparison.Ordinal))
                Assert.That(refused, Is.GreaterThan(0), $"a flip in {region.Name} is always damage");
        }

        TestContext.Out.WriteLine($"{tried} single-bit flips over {regions.Count} regions: {refusedTotal} refused, {tried - refusedTotal - silent} identical, {silent} silent");
        Assert.That(silent, Is.Zero, $"{silent} of {tried} damaged files loaded and predicted differently");
    }

    [Test]
    public void AFlipInTheParametersNamesTheEntry()
    {
        var (original, _, _) = Saved.Value;
        var data = Regions(original).Single(r => r.Name == "parameters.bin data");
        var damaged = (byte[])original.Clone();
        damaged[data.Start + data.Length / 2] ^= 0x10;
        string path = Path.Combine(TestPaths.NewTemporaryFolder(), "model.sagat");
        File.WriteAllBytes(path, damaged);
        using var backend = Devices.Create("cpu");
        var error = Assert.Throws<InvalidDataException>(() => ModelFile.Load(path, backend).Dispose());
        Assert.That(error!.Message, Is.EqualTo($"{path}: parameters.bin checksum mismatch, file damaged"));
    }

    [Test]
    public void EveryTruncationIsRefused()
    {
        var (original, _, _) = Saved.Value;
        string path = Path.Combine(TestPaths.NewTemporaryFolder(), "model.sagat");
        using var backend = Devices.Create("cpu");
        var random = new Random(7);
        foreach (int length in Enumerable.Range(0, 40).Select(_ => random.Next(original.Length)).Append(0).Append(original.Length - 1))
        {
            File.WriteAllBytes(path, original[..length]);
            var error = Assert.Throws<InvalidDataException>(() => ModelFile.Load(path, backend).Dispose(), $"truncated to {length} bytes");
            Assert.That(error!.Message, Does.StartWith(path + ": "));
        }
    }

    [Test]
    public void MissingAddedAndNewerEntriesAreRefused()
    {
        var (original, _, _) = Saved.Value;
        string path = Path.Combine(TestPaths.NewTemporaryFolder(), "model.sagat");
        using var backend = Devices.Create("cpu");
        void Edit(Action<ZipArchive> change)
        {
            File.WriteAllBytes(path, original);
            using var zip = ZipFile.Open(path, ZipArchiveMode.Update);
            change(zip);
        }

        Edit(zip => zip.GetEntry("importance.csv")!.Delete());
        Assert.That(Assert.Throws<InvalidDataException>(() => ModelFile.Load(path, backend).Dispose())!.Message,
            Is.EqualTo($"{path}: importance.csv is missing, file damaged"));
        Edit(zip => zip.CreateEntry("extra.bin"));
        Assert.That(Assert.Throws<InvalidDataException>(() => ModelFile.Load(path, backend).Dispose())!.Message,
            Is.EqualTo($"{path}: entry extra.bin is not in the manifest, file damaged"));
        Edit(zip =>
        {
            zip.GetEntry(FileIntegrity.ManifestEntry)!.Delete();
            using var writer = new StreamWriter(zip.CreateEntry(FileIntegrity.ManifestEntry).Open());
            writer.Write("""{"Format": 99, "Entries": []}""");
        });
        Assert.That(Assert.Throws<InvalidDataException>(() => ModelFile.Load(path, backend).Dispose())!.Message,
            Does.StartWith($"{path}: written by a newer version of SaGatSr (integrity format 99"));
    }

    [Test]
    public void AFileWrittenBeforeManifestsLoadsAndItsZipChecksumsAreStillChecked()
    {
        var (original, samples, expected) = Saved.Value;
        string path = Path.Combine(TestPaths.NewTemporaryFolder(), "model.sagat");
        File.WriteAllBytes(path, original);
        using (var zip = ZipFile.Open(path, ZipArchiveMode.Update)) zip.GetEntry(FileIntegrity.ManifestEntry)!.Delete();
        using var backend = Devices.Create("cpu");
        using (var loaded = ModelFile.Load(path, backend))
            Assert.That(loaded.Predict(samples), Is.EqualTo(expected));

        var legacy = File.ReadAllBytes(path);
        var data = Regions(legacy).Single(r => r.Name == "parameters.bin data");
        legacy[data.Start + data.Length / 2] ^= 0x10;
        File.WriteAllBytes(path, legacy);
        Assert.That(Assert.Throws<InvalidDataException>(() => ModelFile.Load(path, backend).Dispose())!.Message,
            Is.EqualTo($"{path}: parameters.bin checksum mismatch, file damaged"));
    }

    [Test]
    public void ADamagedCheckpointIsRefusedWithTheRestartHint()
    {
        var folder = TestPaths.NewTemporaryFolder();
        using var backend = Devices.Create("cpu");
        var data = GatTestData.Data(6);
        Trainer.Train(backend, data, Small, Options(1, folder)).Model.Dispose();
        string path = Path.Combine(folder, Trainer.CheckpointFileName);
        var bytes = File.ReadAllBytes(path);
        var optimizer = Regions(bytes).Single(r => r.Name == "optimizer.bin data");
        bytes[optimizer.Start + 3] ^= 0x01;
        File.WriteAllBytes(path, bytes);
        var error = Assert.Throws<InvalidDataException>(() => Trainer.Train(backend, data, Small, Options(2, folder)).Model.Dispose());
        Assert.That(error!.Message, Is.EqualTo(
            $"{path}: optimizer.bin checksum mismatch, file damaged; delete it or run with --restart to start afresh"));
        Assert.That(Directory.GetFiles(folder).Select(Path.GetFileName), Is.EquivalentTo(new[] { Trainer.CheckpointFileName }),
            "the refusal leaves the folder as it was");
    }
}
