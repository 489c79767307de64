namespace SaGatSr.Tests;

internal static class TestPaths
{
    /// <summary>The folder holding SaGatSr.sln.</summary>
    public static string RepositoryRoot
    {
        get
        {
            for (var directory = new DirectoryInfo(TestContext.CurrentContext.TestDirectory); directory is not null; directory = directory.Parent)
                if (File.Exists(Path.Combine(directory.FullName, "SaGatSr.sln"))) return directory.FullName;
            throw new DirectoryNotFoundException("SaGatSr.sln not found above the test directory.");
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
