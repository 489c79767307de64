namespace SaGatSr.Tests;

internal static class TestPaths
{
    /// <summary>
    /// The folder holding SaGatSr.sln: above the test assembly, or, for a build unpacked elsewhere (the GPU machine), above
    /// the working directory.
    /// </summary>
    public static string RepositoryRoot
    {
        get
        {
            foreach (var start in new[] { TestContext.CurrentContext.TestDirectory, Directory.GetCurrentDirectory() })
                for (var directory = new DirectoryInfo(start); directory is not null; directory = directory.Parent)
                    if (File.Exists(Path.Combine(directory.FullName, "SaGatSr.sln"))) return directory.FullName;
            throw new DirectoryNotFoundException("SaGatSr.sln not found above the test directory or the working directory.");
        }
    }

    public static string ShippedDataset => Path.Combine(RepositoryRoot, "data", "jarvis-bandgap");

    /// <summary>A fresh empty folder under the test run's work directory.</summary>
    public static string NewTemporaryFolder()
    {
        var path = Path.Combine(Path.GetTempPath(), "sagatsr-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(path);
        return path;
    }
}
