using SaGatSr.Gat.Materials;

namespace SaGatSr.Tests.Gat;

/// <summary>
/// Random bytes and truncated or mutated real files thrown at the readers: each either parses into a valid structure
/// or fails with a StructureFormatException naming the source, never with any other exception.
/// </summary>
public class ReaderFuzzTests
{

    /// <summary>SAGATSR_FUZZ_SCALE multiplies the trial counts for a longer hunt than CI's.</summary>
    private static readonly int Scale = int.TryParse(Environment.GetEnvironmentVariable("SAGATSR_FUZZ_SCALE"), out int scale) && scale > 0 ? scale : 1;

    private static IEnumerable<(string Text, string Format)> Seeds()
    {
        var root = Path.Combine(TestPaths.RepositoryRoot, "tests", "SaGatSr.Tests", "Data", "materials");
        foreach (var file in Directory.GetFiles(Path.Combine(root, "cgcnn"), "*.cif").Take(4))
            yield return (File.ReadAllText(file), "cif");
        foreach (var file in Directory.GetFiles(Path.Combine(root, "jarvis"), "*.vasp").Take(4))
            yield return (File.ReadAllText(file), "poscar");
        // the regression corpus: named space groups, origin choices, disorder, labels, quotes, wrapped POSCAR lines
        var readers = Path.Combine(TestPaths.RepositoryRoot, "tests", "SaGatSr.Tests", "Data", "readers");
        foreach (var name in new[] { "p21n_hall_no_operations.cif", "disordered_perovskite.cif", "spinel_origin_unnamed.cif", "bi2te3_rhombohedral_axes.cif", "labels_water.cif", "quoted_values.cif" })
            yield return (File.ReadAllText(Path.Combine(readers, name)), "cif");
        foreach (var name in new[] { "alloy_wrapped_species.vasp", "POSCAR_empty_comment", "vasp4_comment/POSCAR" })
            yield return (File.ReadAllText(Path.Combine(readers, name)), "poscar");
        yield return ("2\nLattice=\"5 0 0 0 5 0 0 0 5\" Properties=species:S:1:pos:R:3\nNa 0 0 0\nCl 2.5 2.5 2.5\n", "extxyz");
    }

    private static void AssertOnlyFormatErrors(string text, string format, string what)
    {
        try
        {
            // A reader that loops forever on a corrupt file is as bad as one that crashes.
            var parse = Task.Run(() => StructureReader.Parse(text, format, "fuzz." + format));
            if (!((IAsyncResult)parse).AsyncWaitHandle.WaitOne(TimeSpan.FromSeconds(60)))
                Assert.Fail($"{what}: parsing did not finish in 60 s; input:\n{text}");
            var structure = parse.GetAwaiter().GetResult();
            Assert.That(structure.AtomCount, Is.GreaterThan(0), what);
            Assert.That(structure.Volume, Is.GreaterThan(0), what);
            Assert.That(structure.CartesianCoordinates.SelectMany(c => c), Is.All.Matches<double>(double.IsFinite), what);
            // whatever parses, inspect looks for its space group: that must not fail either
            SaGatSr.Gat.Materials.Symmetry.SpaceGroupFinder.Find(structure);
        }
        catch (StructureFormatException e)
        {
            Assert.That(e.Message, Does.Contain("fuzz." + format), what);
        }
        catch (Exception e)
        {
            Assert.Fail($"{what}: {e.GetType().Name}: {e.Message}\n{e.StackTrace}");
        }
    }

    [Test]
    public void RandomBytesGiveFormatErrorsOnly()
    {
        var rng = new Random(TestContext.CurrentContext.Random.Next());
        foreach (var format in new[] { "cif", "poscar", "extxyz" })
            for (int trial = 0; trial < 200 * Scale; trial++)
            {
                var bytes = new byte[rng.Next(0, 400)];
                rng.NextBytes(bytes);
                AssertOnlyFormatErrors(System.Text.Encoding.Latin1.GetString(bytes), format, $"{format} random #{trial}");
            }
    }

    [Test]
    public void TruncatedFilesGiveFormatErrorsOnly()
    {
        foreach (var (text, format) in Seeds())
            for (int length = 0; length < text.Length; length += Math.Max(1, text.Length / 60))
                AssertOnlyFormatErrors(text[..length], format, $"{format} truncated to {length}");
    }

    [Test]
    public void MutatedFilesGiveFormatErrorsOnly()
    {
        var rng = new Random(TestContext.CurrentContext.Random.Next());
        string[] replacements = ["", "-", "nan", "inf", "1e400", "?", " ", "\n", "0", "Xx", "'", "_", "#", "1/0", "-1e-300"];
        foreach (var (text, format) in Seeds())
            for (int trial = 0; trial < 150 * Scale; trial++)
            {
                var mutated = text.ToCharArray().ToList();
                for (int edit = 0; edit < 1 + rng.Next(4); edit++)
                {
                    int at = rng.Next(mutated.Count + 1);
                    int remove = Math.Min(rng.Next(4), mutated.Count - at);
                    mutated.RemoveRange(at, remove);
                    mutated.InsertRange(at, replacements[rng.Next(replacements.Length)]);
                }

                AssertOnlyFormatErrors(new string(mutated.ToArray()), format, $"{format} mutation #{trial}");
            }
    }
}
