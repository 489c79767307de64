using SaGatSr.Gat.Materials;

namespace SaGatSr.Tests.Materials;

/// <summary>Corrupted real files must fail with a StructureFormatException (file and message), never another exception.</summary>
public class FuzzTests
{
    private static readonly string[] Replacements = ["", "x", "-1", "0", "1e999", "nan", "'", "\"", ";", "loop_", "_cell_length_a", "data_", "1/0", "Xx", "9 9 9", "\n"];

    [Test]
    public void CorruptedFilesOnlyEverThrowStructureFormatException()
    {
        var random = new Random(11);
        string[] sources =
        [
            Path.Combine(MaterialsTestData.Cgcnn, "1000041.cif"),
            Path.Combine(MaterialsTestData.Cgcnn, "1507756.cif"),
            Path.Combine(MaterialsTestData.Jarvis, "POSCAR-JVASP-14014.vasp"),
            Path.Combine(MaterialsTestData.Jarvis, "POSCAR-JVASP-10.vasp"),
        ];
        const string xyz = "2\nLattice=\"5 0 0 0 5 0 0 0 5\" Properties=species:S:1:pos:R:3\nNa 0 0 0\nCl 2.5 2.5 2.5\n";
        var texts = sources.Select(p => (Text: File.ReadAllText(p), Format: Path.GetExtension(p))).Append((xyz, ".xyz")).ToList();
        int failures = 0;
        for (int trial = 0; trial < 600; trial++)
        {
            var (text, format) = texts[trial % texts.Count];
            var lines = text.Split('\n').ToList();
            int edits = random.Next(1, 4);
            for (int k = 0; k < edits && lines.Count > 0; k++)
            {
                int at = random.Next(lines.Count);
                var words = lines[at].Split(' ');
                switch (random.Next(5))
                {
                    case 0:
                        words[random.Next(words.Length)] = Replacements[random.Next(Replacements.Length)];
                        lines[at] = string.Join(' ', words);
                        break;
                    case 1: lines.RemoveAt(at); break;
                    case 2: lines.Insert(at, lines[at]); break;
                    case 3: lines.Insert(at, Replacements[random.Next(Replacements.Length)]); break;
                    default: lines = lines.Take(at).ToList(); break;
                }
            }

            string corrupted = string.Join('\n', lines);
            try
            {
                StructureReader.Parse(corrupted, format, "fuzz" + format);
            }
            catch (StructureFormatException ex)
            {
                failures++;
                Assert.That(ex.Message, Does.StartWith("fuzz" + format));
            }
            catch (Exception ex)
            {
                Assert.Fail($"trial {trial}: {ex.GetType().Name}: {ex.Message}\n--- input ---\n{corrupted}");
            }
        }

        Assert.That(failures, Is.GreaterThan(150), "the corruptions should mostly be detected");
    }
}
