namespace SaGatSr.Tests.Materials;

/// <summary>Locates the copies of real data shipped under tests/SaGatSr.Tests/Data/materials.</summary>
internal static class MaterialsTestData
{
    private static readonly Lazy<string> LazyRepositoryRoot = new(() =>
    {
        var directory = new DirectoryInfo(TestContext.CurrentContext.TestDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "SaGatSr.sln")))
            directory = directory.Parent;
        return directory?.FullName ?? throw new InvalidOperationException("SaGatSr.sln not found above the test directory");
    });

    public static string RepositoryRoot => LazyRepositoryRoot.Value;

    public static string Folder => Path.Combine(RepositoryRoot, "tests", "SaGatSr.Tests", "Data", "materials");

    public static string Jarvis => Path.Combine(Folder, "jarvis");

    public static string Cgcnn => Path.Combine(Folder, "cgcnn");

    public static string PeriodicTableJson => Path.Combine(Folder, "periodic_table.json");

    public static string ShippedElementTable => Path.Combine(RepositoryRoot, "src", "Gat", "Materials", "Data", "elements.csv");

    public static string ShippedAtomInit => Path.Combine(RepositoryRoot, "src", "Gat", "Materials", "Data", "atom_init.json");

    /// <summary>A fresh temporary folder, removed by the caller's finally block via <see cref="DeleteFolder"/>.</summary>
    public static string NewTemporaryFolder()
    {
        string folder = Path.Combine(Path.GetTempPath(), "sagatsr-materials-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        return folder;
    }

    public static void DeleteFolder(string folder)
    {
        if (Directory.Exists(folder))
            Directory.Delete(folder, recursive: true);
    }
}
