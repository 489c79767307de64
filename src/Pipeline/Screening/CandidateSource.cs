using SaGatSr.Gat.Materials;

namespace SaGatSr.Pipeline;

/// <summary>
/// Where candidates come from, read lazily: <see cref="Read"/> yields any contiguous range of the stream without holding
/// the rest, so a million candidates cost no memory and MPI ranks each read only their block. Every input error (an
/// unknown element, an empty list, a malformed row) is raised when the source is created, before anything is screened.
/// </summary>
public abstract class CandidateSource
{
    /// <summary>How many candidates the stream holds.</summary>
    public abstract long Count { get; }

    /// <summary>Candidates <paramref name="start"/> (inclusive) to <paramref name="end"/> (exclusive), in stream order.</summary>
    public abstract IEnumerable<PerovskiteCandidate> Read(long start, long end);

    /// <summary>Every A × B × X combination, A varying slowest.</summary>
    /// <param name="anions">X strings of three anions: "O3", "O2N", "OFN"</param>
    /// <exception cref="FormatException">an unknown element, an X string that is not three known anions, or an entry listed twice</exception>
    /// <exception cref="ArgumentException">an empty list</exception>
    public static CandidateSource FromLists(IEnumerable<string> a, IEnumerable<string> b, IEnumerable<string> anions)
    {
        int[] aSites = Distinct(a, "A", s => PerovskiteCandidate.ParseElement(s, "A"), z => Elements.Symbol(z));
        int[] bSites = Distinct(b, "B", s => PerovskiteCandidate.ParseElement(s, "B"), z => Elements.Symbol(z));
        string[] xTexts = Distinct(anions, "X", s => s.Trim(), s => s);
        return new Combinations(aSites, bSites, xTexts.Select(x => (x, PerovskiteCandidate.ParseAnions(x))).ToArray());
    }

    /// <summary>Formulas held in memory ("SrTiO3", "BaTaO2N"), e.g. from an HPC code's own list.</summary>
    /// <exception cref="FormatException">a formula that is not A, B and three anions; the message gives its position</exception>
    public static CandidateSource FromFormulas(IReadOnlyList<string> formulas)
    {
        if (formulas.Count == 0) throw new ArgumentException("the candidate list is empty");
        var parsed = new PerovskiteCandidate[formulas.Count];
        for (int i = 0; i < formulas.Count; i++)
        {
            try
            {
                parsed[i] = PerovskiteCandidate.Parse(formulas[i], i);
            }
            catch (FormatException e)
            {
                throw new FormatException($"candidate {i + 1}: {e.Message}", e);
            }
        }

        return new InMemory(parsed);
    }

    /// <summary>
    /// A CSV with a header naming a <c>formula</c> column (and optionally <c>id</c> or <c>material_id</c>), one candidate a
    /// row, formulas written A, B, anions as the shipped perovskites.csv is (which can be screened as it is). The file is
    /// checked whole here, one row at a time, and read again lazily by <see cref="Read"/>.
    /// </summary>
    /// <exception cref="FormatException">with file and line: no formula column, a row of the wrong width, a malformed formula</exception>
    public static CandidateSource FromFile(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: candidates file not found.", path);
        var file = new CsvFile(path);
        return file.Count > 0 ? file : throw new ArgumentException($"{path}: no candidates (the file has a header and no rows)");
    }

    private static T[] Distinct<T>(IEnumerable<string> items, string list, Func<string, T> parse, Func<T, string> name)
    {
        var parsed = new List<T>();
        foreach (string item in items)
        {
            var value = parse(item);
            if (parsed.Contains(value)) throw new FormatException($"{name(value)} is listed twice in the {list} list");
            parsed.Add(value);
        }

        return parsed.Count > 0 ? parsed.ToArray() : throw new ArgumentException($"the {list} list is empty: give at least one entry");
    }

    private sealed class Combinations(int[] a, int[] b, (string Text, int[] Sites)[] x) : CandidateSource
    {
        public override long Count => (long)a.Length * b.Length * x.Length;

        public override IEnumerable<PerovskiteCandidate> Read(long start, long end)
        {
            for (long i = start; i < Math.Min(end, Count); i++)
            {
                int ia = (int)(i / ((long)b.Length * x.Length)), ib = (int)(i / x.Length % b.Length), ix = (int)(i % x.Length);
                string formula = Elements.Symbol(a[ia]) + Elements.Symbol(b[ib]) + x[ix].Text;
                yield return new PerovskiteCandidate(i, formula, formula, a[ia], b[ib], x[ix].Sites);
            }
        }
    }

    private sealed class InMemory(PerovskiteCandidate[] candidates) : CandidateSource
    {
        public override long Count => candidates.Length;

        public override IEnumerable<PerovskiteCandidate> Read(long start, long end)
        {
            for (long i = start; i < Math.Min(end, Count); i++) yield return candidates[i];
        }
    }

    private sealed class CsvFile(string path) : CandidateSource
    {
        private long? count;

        /// <summary>Counting reads (and so checks) every row once.</summary>
        public override long Count => count ??= Read(0, long.MaxValue).LongCount();

        public override IEnumerable<PerovskiteCandidate> Read(long start, long end)
        {
            int formulaColumn = -1, idColumn = -1, width = 0;
            long index = 0;
            foreach (var record in CsvRecords.Read(path))
            {
                if (formulaColumn < 0)
                {
                    var header = record.Fields.Select(f => f.Trim().ToLowerInvariant()).ToList();
                    formulaColumn = header.IndexOf("formula");
                    if (formulaColumn < 0)
                        throw new FormatException($"{path}:{record.Line}: the header names no 'formula' column (found: {string.Join(", ", record.Fields)})");
                    idColumn = header.IndexOf("id") is >= 0 and var id ? id : header.IndexOf("material_id");
                    width = header.Count;
                    continue;
                }

                if (index >= end) yield break;
                if (index++ < start) continue;
                if (record.Fields.Length != width)
                    throw new FormatException($"{path}:{record.Line}: {record.Fields.Length} fields, but the header has {width}");
                string location = $"{path}:{record.Line}";
                PerovskiteCandidate candidate;
                try
                {
                    candidate = PerovskiteCandidate.Parse(record.Fields[formulaColumn], index - 1,
                        idColumn >= 0 && record.Fields[idColumn].Trim().Length > 0 ? record.Fields[idColumn].Trim() : null, location);
                }
                catch (FormatException e)
                {
                    throw new FormatException($"{location}: {e.Message}", e);
                }

                yield return candidate;
            }

            if (formulaColumn < 0) throw new FormatException($"{path}: the file is empty (expected a header with a 'formula' column)");
        }
    }
}
