namespace SaGatSr.Gat.Training;

/// <summary>Which samples train, validate and test: a seeded shuffle by ratios, or a user's split file.</summary>
public sealed record DataSplit(int[] Train, int[] Validation, int[] Test)
{
    public static DataSplit ByRatio(int count, double trainRatio, double validationRatio, int seed)
    {
        if (trainRatio <= 0 || validationRatio < 0 || trainRatio + validationRatio > 1)
            throw new ArgumentException($"Split ratios train={trainRatio}, val={validationRatio} must be positive and sum to at most 1.");
        var order = Enumerable.Range(0, count).ToArray();
        new Random(seed).Shuffle(order);
        int trainCount = Math.Max(1, (int)Math.Round(count * trainRatio));
        int validationCount = Math.Min(count - trainCount, (int)Math.Round(count * validationRatio));
        if (validationRatio > 0 && validationCount == 0 && count - trainCount > 1) validationCount = 1;
        return new DataSplit(order[..trainCount], order[trainCount..(trainCount + validationCount)],
            order[(trainCount + validationCount)..]);
    }

    /// <summary>
    /// Reads a CSV of "id,split" lines, split being train, val (or validation) or test. Ids not listed are left out;
    /// ids listed but not in the dataset are an error, since that usually means the wrong file.
    /// </summary>
    /// <param name="setAside">ids of the dataset that this run does not use (filtered out, no target): listed, they are
    /// skipped, so one split file serves every task on a dataset</param>
    public static DataSplit FromFile(string path, IReadOnlyList<string> ids, IReadOnlySet<string>? setAside = null)
    {
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < ids.Count; i++) index[ids[i]] = i;
        List<int> train = [], validation = [], test = [];
        int lineNumber = 0;
        foreach (var raw in File.ReadLines(path))
        {
            lineNumber++;
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#')) continue;
            var parts = line.Split(',');
            if (parts.Length < 2)
                throw new FormatException($"{path}:{lineNumber}: expected 'id,split' but found '{line}'.");
            var id = parts[0].Trim();
            var split = parts[1].Trim().ToLowerInvariant();
            if (lineNumber == 1 && split == "split") continue;
            if (!index.TryGetValue(id, out int sample) && setAside?.Contains(id) == true) continue;
            if (!index.ContainsKey(id))
                throw new FormatException($"{path}:{lineNumber}: id '{id}' is not in the dataset.");
            (split switch
            {
                "train" => train,
                "val" or "validation" => validation,
                "test" => test,
                _ => throw new FormatException($"{path}:{lineNumber}: split '{parts[1].Trim()}' must be train, val or test."),
            }).Add(sample);
        }

        if (train.Count == 0) throw new FormatException($"{path}: no training samples listed.");
        return new DataSplit(train.ToArray(), validation.ToArray(), test.ToArray());
    }
}
