using System.Diagnostics;
using System.Text.Json;
using SaGatSr.Gat.Materials;
using SaGatSr.Gat.Training;
using SaGatSr.Tests.Mpi;

namespace SaGatSr.Tests.Cli;

/// <summary>
/// `sagatsr train` as a separate process, killed with SIGKILL at random moments, on a full disk and beside another run: the
/// checkpoint is never torn and the run resumes. SAGATSR_KILL_COUNT sets the number of kills (default 10; RESULTS: 100).
/// </summary>
[NonParallelizable]
public class FaultInjectionTests
{
    private string dataset = "";

    private static string DotnetHost =>
        Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet" ? Environment.ProcessPath! : "dotnet";

    [OneTimeSetUp]
    public void TwentyPerovskites()
    {
        // The copy the project ships for its demo, so the test runs wherever the repository is.
        var source = Path.Combine(TestPaths.RepositoryRoot, "data", "perovskites", "perovskites.csv");
        // The header and the first 20 records, cut where the 22nd record starts (CIF fields span many lines).
        var records = CsvRecords.Read(source).Take(22).ToArray();
        dataset = Path.Combine(TestPaths.NewTemporaryFolder(), "perovskites20.csv");
        File.WriteAllLines(dataset, File.ReadLines(source).Take(records[^1].Line - 1));
    }

    private string[] TrainArguments(string output, int epochs) =>
    [
        "train", dataset, "--target", "heat_ref", "--out", output, "--epochs", epochs.ToString(), "--hidden", "8", "--heads", "1",
        "--layers", "1", "--batch-size", "4", "--device", "cpu", "--patience", "1000000", "--members", "1",
    ];

    private static Process Start(IEnumerable<string> args)
    {
        var start = new ProcessStartInfo(DotnetHost)
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(TestContext.CurrentContext.TestDirectory, "sagatsr.dll"));
        foreach (var a in args) start.ArgumentList.Add(a);
        start.Environment["SAGATSR_MPI"] = "off";
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    /// <summary>The epoch a checkpoint records, after checking every byte of it; 0 when there is none.</summary>
    private static int CheckpointEpoch(string folder)
    {
        string path = Path.Combine(folder, Trainer.CheckpointFileName);
        if (!File.Exists(path)) return 0;
        using var zip = FileIntegrity.OpenVerified(path);
        using var reader = new StreamReader(zip.GetEntry("progress.json")!.Open());
        return JsonDocument.Parse(reader.ReadToEnd()).RootElement.GetProperty("Epoch").GetInt32();
    }

    [Test]
    public void TrainingKilledAtRandomMomentsNeverLeavesAnUnreadableCheckpointAndResumes()
    {
        int kills = int.TryParse(Environment.GetEnvironmentVariable("SAGATSR_KILL_COUNT"), out int count) ? count : 10;
        string output = Path.Combine(TestPaths.NewTemporaryFolder(), "run");
        const int epochs = 100_000;
        var random = new Random(21);
        int epoch = 0, checkpointed = 0;
        for (int k = 0; k < kills; k++)
        {
            using var process = Start(TrainArguments(output, epochs));
            // Start-up (runtime, dataset, features) takes most of a second; then every epoch writes a checkpoint.
            Thread.Sleep(random.Next(300, 2500));
            process.Kill();
            process.WaitForExit();
            int now = CheckpointEpoch(output);
            Assert.That(now, Is.GreaterThanOrEqualTo(epoch), $"kill {k + 1}: the checkpoint went back from epoch {epoch} to {now}");
            if (now > epoch) checkpointed++;
            epoch = now;
        }

        TestContext.Out.WriteLine($"{kills} kills: the checkpoint advanced between {checkpointed} of them, to epoch {epoch}");
        Assert.That(checkpointed, Is.GreaterThan(kills / 2), "most kills fell after some epochs were checkpointed");
        // The same run asked to stop a few epochs later resumes from the last checkpoint and finishes.
        var finished = MpiRun.Dotnet(0, "sagatsr.dll", TrainArguments(output, epoch + 3), timeoutSeconds: 120);
        Assert.That(finished.Exit, Is.EqualTo(0), finished.ToString());
        Assert.That(finished.Errors, Does.Contain($"after epoch {epoch}"));
        Assert.That(finished.Errors, Does.Contain("took over the lock of an earlier run that is gone"));
        Assert.That(CheckpointEpoch(output), Is.EqualTo(epoch + 3));
        FileIntegrity.OpenVerified(Path.Combine(output, "model.sagat")).Dispose();
        Assert.That(Directory.GetFiles(output, ".*"), Is.Empty, "no temporary file or lock is left behind");
    }

    [Test]
    public void ASecondRunIntoTheSameFolderIsRefusedWhileTheFirstLives()
    {
        string output = Path.Combine(TestPaths.NewTemporaryFolder(), "run");
        using var first = Start(TrainArguments(output, 100_000));
        try
        {
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (!File.Exists(Path.Combine(output, OutputLock.FileName)) && DateTime.UtcNow < deadline) Thread.Sleep(50);
            var second = MpiRun.Dotnet(0, "sagatsr.dll", TrainArguments(output, 5));
            Assert.That(second.Exit, Is.EqualTo(1), second.ToString());
            Assert.That(second.Errors, Does.Contain($"error: {output} is being written by another run (pid {first.Id} on {Environment.MachineName}"));
        }
        finally
        {
            first.Kill();
            first.WaitForExit();
        }
    }

    [Test]
    public void AFullDiskStopsTrainingWithAClearMessageAndThePreviousCheckpointSurvives()
    {
        string mount = TestPaths.NewTemporaryFolder();
        var mounted = MountTmpfs(mount, "4m");
        if (mounted is not null) Assert.Ignore($"cannot set up a full disk here: mount -t tmpfs failed ({mounted})");
        try
        {
            string output = Path.Combine(mount, "run");
            var first = MpiRun.Dotnet(0, "sagatsr.dll", TrainArguments(output, 2));
            Assert.That(first.Exit, Is.EqualTo(0), first.ToString());
            string checkpoint = Path.Combine(output, Trainer.CheckpointFileName);
            var before = File.ReadAllBytes(checkpoint);
            // Fill the disk but for less than a checkpoint (room for the lock file).
            using (var filler = new FileStream(Path.Combine(mount, "filler"), FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 0))
            {
                var block = new byte[4096];
                try
                {
                    while (true) filler.Write(block);
                }
                catch (IOException)
                {
                    filler.SetLength(filler.Length - 4 * block.Length);
                }
            }

            var full = MpiRun.Dotnet(0, "sagatsr.dll", TrainArguments(output, 4));
            Assert.That(full.Exit, Is.EqualTo(1), full.ToString());
            Assert.That(full.Errors, Does.Contain($"error: {checkpoint}: could not be written (No space left on device"));
            Assert.That(full.Errors, Does.Contain("the previous file is unchanged"));
            Assert.That(File.ReadAllBytes(checkpoint), Is.EqualTo(before));
            Assert.That(CheckpointEpoch(output), Is.EqualTo(2));
            Assert.That(Directory.GetFiles(output, ".*.tmp"), Is.Empty);

            File.Delete(Path.Combine(mount, "filler"));
            var resumed = MpiRun.Dotnet(0, "sagatsr.dll", TrainArguments(output, 4));
            Assert.That(resumed.Exit, Is.EqualTo(0), resumed.ToString());
            Assert.That(resumed.Errors, Does.Contain("after epoch 2"));
            Assert.That(CheckpointEpoch(output), Is.EqualTo(4));
        }
        finally
        {
            Process.Start("umount", mount).WaitForExit();
        }
    }

    /// <summary>Null when a size-limited tmpfs is mounted on <paramref name="folder"/>, else why not.</summary>
    private static string? MountTmpfs(string folder, string size)
    {
        try
        {
            var start = new ProcessStartInfo("mount", ["-t", "tmpfs", "-o", $"size={size}", "tmpfs", folder])
            {
                RedirectStandardError = true, RedirectStandardOutput = true,
            };
            using var mount = Process.Start(start)!;
            string errors = mount.StandardError.ReadToEnd();
            mount.WaitForExit();
            return mount.ExitCode == 0 ? null : errors.Trim();
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return e.Message;
        }
    }
}
