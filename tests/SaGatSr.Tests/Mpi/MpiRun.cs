using System.Diagnostics;

namespace SaGatSr.Tests.Mpi;

/// <summary>
/// Starts a .NET program of the test output folder under `mpirun -np N` on localhost. Where mpirun is missing the test is
/// ignored with the reason, unless SAGATSR_REQUIRE_MPI=1 (set by .ci/run, which installs OpenMPI): then it fails.
/// </summary>
internal static class MpiRun
{
    public sealed record Result(int Exit, string Output, string Errors)
    {
        public override string ToString() => $"exit {Exit}\n--- stdout\n{Output}\n--- stderr\n{Errors}";
    }

    /// <summary>The host running the tests (testhost runs under it), so the same runtime runs the ranks.</summary>
    private static string DotnetHost =>
        Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet" ? Environment.ProcessPath! : "dotnet";

    public static string RequireMpirun()
    {
        var path = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(d => Path.Combine(d, "mpirun")).FirstOrDefault(File.Exists);
        if (path is not null) return path;
        const string reason = "mpirun not found: install OpenMPI (Debian: apt-get install openmpi-bin libopenmpi-dev) to run the MPI tests";
        if (Environment.GetEnvironmentVariable("SAGATSR_REQUIRE_MPI") == "1") Assert.Fail(reason);
        Assert.Ignore(reason);
        return "";
    }

    /// <summary>Runs `dotnet &lt;assembly&gt; args` as <paramref name="ranks"/> ranks (or as one plain process when ranks is 0).</summary>
    public static Result Dotnet(int ranks, string assembly, IEnumerable<string> args, string? workingDirectory = null, int timeoutSeconds = 120)
    {
        var dll = Path.Combine(TestContext.CurrentContext.TestDirectory, assembly);
        var start = new ProcessStartInfo
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? TestContext.CurrentContext.TestDirectory,
        };
        if (ranks > 0)
        {
            start.FileName = RequireMpirun();
            foreach (var a in new[] { "-np", ranks.ToString(), "--oversubscribe", "--allow-run-as-root", "--bind-to", "none" })
                start.ArgumentList.Add(a);
            // Containers often forbid the cross-memory attach that OpenMPI's shared-memory transport tries first.
            start.Environment["OMPI_MCA_btl_vader_single_copy_mechanism"] = "none";
            start.ArgumentList.Add(DotnetHost);
        }
        else start.FileName = DotnetHost;

        start.ArgumentList.Add(dll);
        foreach (var a in args) start.ArgumentList.Add(a);
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment.Remove("OMPI_COMM_WORLD_SIZE");

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeoutSeconds * 1000))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"{assembly} {string.Join(' ', args)} on {ranks} ranks did not finish in {timeoutSeconds} s.\n{output.Result}\n{errors.Result}");
        }

        process.WaitForExit();
        return new Result(process.ExitCode, output.Result, errors.Result);
    }
}
