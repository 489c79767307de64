using System.Globalization;

namespace SaGatSr.Pipeline;

/// <summary>
/// Sorts text lines by (key, index) with bounded memory: up to <c>capacity</c> lines are held, then written as a sorted
/// run to a temporary file, and <see cref="Sorted"/> merges the runs. The index breaks ties, so the order is the same
/// however the lines arrived.
/// </summary>
internal sealed class SpillingSorter(int capacity, string? folder) : IDisposable
{
    private readonly List<(double Key, long Index, string Line)> buffer = [];
    private readonly List<string> runs = [];

    private static int Compare((double Key, long Index, string Line) x, (double Key, long Index, string Line) y)
    {
        int byKey = x.Key.CompareTo(y.Key);
        return byKey != 0 ? byKey : x.Index.CompareTo(y.Index);
    }

    public void Add(double key, long index, string line)
    {
        buffer.Add((key, index, line));
        if (buffer.Count >= capacity) Spill();
    }

    /// <summary>Every line added, in order of (key, index); read once.</summary>
    public IEnumerable<string> Sorted()
    {
        buffer.Sort(Compare);
        if (runs.Count == 0)
        {
            foreach (var entry in buffer) yield return entry.Line;
            yield break;
        }

        Spill();
        var readers = runs.Select(path => new StreamReader(path)).ToList();
        try
        {
            var queue = new PriorityQueue<int, (double Key, long Index, string Line)>(
                Comparer<(double Key, long Index, string Line)>.Create(Compare));
            for (int r = 0; r < readers.Count; r++)
                if (ReadEntry(readers[r]) is { } head)
                    queue.Enqueue(r, head);

            while (queue.TryDequeue(out int r, out var entry))
            {
                yield return entry.Line;
                if (ReadEntry(readers[r]) is { } next) queue.Enqueue(r, next);
            }
        }
        finally
        {
            foreach (var reader in readers) reader.Dispose();
        }
    }

    private void Spill()
    {
        if (buffer.Count == 0) return;
        buffer.Sort(Compare);
        string path = Path.Combine(folder ?? Path.GetTempPath(), $"sagatsr-screen-{Guid.NewGuid():N}.run");
        runs.Add(path);
        using (var writer = new StreamWriter(path))
            foreach (var (key, index, line) in buffer)
                writer.Write(FormattableString.Invariant($"{key:R}\t{index}\t{line}\n"));
        buffer.Clear();
    }

    private static (double Key, long Index, string Line)? ReadEntry(StreamReader reader)
    {
        if (reader.ReadLine() is not { } text) return null;
        int first = text.IndexOf('\t'), second = text.IndexOf('\t', first + 1);
        return (double.Parse(text.AsSpan(0, first), CultureInfo.InvariantCulture),
            long.Parse(text.AsSpan(first + 1, second - first - 1), CultureInfo.InvariantCulture), text[(second + 1)..]);
    }

    public void Dispose()
    {
        foreach (string path in runs) File.Delete(path);
        runs.Clear();
        buffer.Clear();
    }
}
