using System.Globalization;
using SaGatSr.Gat.Materials;

namespace SaGatSr.Tests.Materials;

/// <summary>
/// The regression corpus of Data/readers: each file is read as expected.csv says (sites, volume, composition,
/// disordered sites) or refused at the line it names. pymatgen agreed with every "same" row when the files were written.
/// </summary>
public class ReaderCorpusTests
{
    private static string Folder => Path.Combine(MaterialsTestData.RepositoryRoot, "tests", "SaGatSr.Tests", "Data", "readers");

    public sealed record Expectation(string File, DisorderPolicy Disorder, int? Sites, double? Volume, string? Composition, int? Disordered, int? ErrorLine, string? ErrorText)
    {
        public override string ToString() => $"{File} ({Disorder})";
    }

    public static IEnumerable<Expectation> Expectations()
    {
        foreach (string line in File.ReadLines(Path.Combine(Folder, "expected.csv")).Where(l => !l.StartsWith('#')).Skip(1))
        {
            var c = line.Split(',');
            int? errorLine = c[6].Length > 0 ? int.Parse(c[6].Split(':')[0]) : null;
            yield return new Expectation(c[0], StructureReader.ParseDisorderPolicy(c[1]),
                c[2].Length > 0 ? int.Parse(c[2]) : null,
                c[3].Length > 0 ? double.Parse(c[3], CultureInfo.InvariantCulture) : null,
                c[4].Length > 0 ? c[4] : null,
                c[5].Length > 0 ? int.Parse(c[5]) : null,
                errorLine, errorLine is null ? null : c[6][(c[6].IndexOf(':') + 1)..]);
        }
    }

    [TestCaseSource(nameof(Expectations))]
    public void FileIsReadAsExpectedOrRefusedAtItsLine(Expectation expected)
    {
        string path = Path.Combine(Folder, expected.File);
        if (expected.ErrorLine is { } line)
        {
            var error = Assert.Throws<StructureFormatException>(() => StructureReader.Read(path, expected.Disorder))!;
            Assert.That(error.File, Is.EqualTo(path));
            Assert.That(error.Line, Is.EqualTo(line), error.Message);
            Assert.That(error.Problem, Does.Contain(expected.ErrorText), error.Message);
            return;
        }

        var s = StructureReader.Read(path, expected.Disorder);
        Assert.That(s.AtomCount, Is.EqualTo(expected.Sites));
        Assert.That(s.Volume, Is.EqualTo(expected.Volume!.Value).Within(0.001).Percent);
        Assert.That(Composition(s), Is.EqualTo(expected.Composition));
        Assert.That(s.DisorderedSites, Is.EqualTo(expected.Disordered));
    }

    [Test]
    public void CorpusCoversEveryFile()
    {
        var listed = Expectations().Select(e => e.File).ToHashSet();
        var files = Directory.EnumerateFiles(Folder, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(Folder, f).Replace('\\', '/'))
            .Where(f => f is not ("expected.csv" or "SOURCE.md") && !f.EndsWith("POTCAR"));
        Assert.That(files, Is.SubsetOf(listed));
    }

    internal static string Composition(Structure s) =>
        string.Join(" ", s.Composition.OrderBy(p => Elements.Symbol(p.Key), StringComparer.Ordinal)
            .Select(p => Elements.Symbol(p.Key) + p.Value.ToString("0.####", CultureInfo.InvariantCulture)));
}
