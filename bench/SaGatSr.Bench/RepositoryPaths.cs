namespace SaGatSr.Bench;

internal static class RepositoryPaths
{
    /// <summary>The folder holding SaGatSr.sln, found by walking up from the working directory.</summary>
    public static string Root
    {
        get
        {
            for (var directory = new DirectoryInfo(Directory.GetCurrentDirectory()); directory is not null; directory = directory.Parent)
                if (File.Exists(Path.Combine(directory.FullName, "SaGatSr.sln"))) return directory.FullName;
            throw new DirectoryNotFoundException("Run the benchmarks from inside the SaGatSr repository.");
        }
    }

    public static string ShippedDataset => Path.Combine(Root, "data", "jarvis-bandgap");
}
