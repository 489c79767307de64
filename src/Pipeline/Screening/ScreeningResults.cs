using System.Globalization;
using System.Text;

namespace SaGatSr.Pipeline;

/// <summary>What candidates are ranked by.</summary>
public enum RankBy
{
    /// <summary>The ensemble's mean prediction.</summary>
    Prediction,

    /// <summary>
    /// The pessimistic end of the 90% interval (mean ∓ 1.645 std): the lower bound when high values are sought, the upper
    /// bound when low ones are. Needs a model that knows its uncertainty (an ensemble).
    /// </summary>
    ConfidenceBound,
}

public sealed record CandidateScreeningOptions
{
    public RankBy Rank { get; init; } = RankBy.Prediction;

    /// <summary>Low predictions rank first (a formation energy); otherwise high ones do.</summary>
    public bool LowerIsBetter { get; init; }

    public LatticeRule Lattice { get; init; } = LatticeRule.BondValence;

    /// <summary>
    /// Which cation oxidation states may balance the charge: 1 = common only (the default: a new perovskite is most
    /// plausible with them), 2 = also those seen in ICSD, 3 = any known (<see cref="IdealPerovskite.TryBalance"/>).
    /// </summary>
    public int MaxStateTier { get; init; } = 1;

    /// <summary>Candidates built, featurised and predicted together: bounds the memory in use.</summary>
    public int ChunkSize { get; init; } = 4096;

    /// <summary>Crystals per network batch.</summary>
    public int BatchSize { get; init; } = 256;

    /// <summary>How many of the best candidates <see cref="ScreeningSummary.Top"/> holds.</summary>
    public int TopCount { get; init; } = 20;

    /// <summary>How many kept candidates, drawn uniformly at random, <see cref="ScreeningSummary.Sample"/> holds (for a plot).</summary>
    public int SampleSize { get; init; } = 20_000;

    /// <summary>Rows the ranking holds in memory before it writes them to a sorted temporary file.</summary>
    public int RowsInMemory { get; init; } = 50_000;

    /// <summary>Folder of those temporary files (default: the system's).</summary>
    public string? TemporaryFolder { get; init; }
}

/// <summary>A candidate that was built and predicted.</summary>
/// <param name="Std">the ensemble's calibrated standard deviation; NaN for a single network</param>
/// <param name="FormulaPrediction">the formula's value; NaN when no formula was given</param>
public sealed record ScreenedCandidate(long Index, string Id, string Formula, string A, string B, string X, int AState, int BState,
    double LatticeParameter, double ToleranceFactor, double OctahedralFactor, double Prediction, double Std, double FormulaPrediction,
    string? Location)
{
    /// <summary>z of the two-sided 90% interval: an ensemble's std is calibrated so that mean ± 1.645 std covers 90%.</summary>
    public const double Z90 = 1.645;

    public double RankValue(RankBy rank, bool lowerIsBetter) =>
        rank == RankBy.Prediction ? Prediction : lowerIsBetter ? Prediction + Z90 * Std : Prediction - Z90 * Std;

    /// <summary>One tab-separated line, every number in round-trip form, so ranks and temporary files lose nothing.</summary>
    internal string Serialize() => string.Join('\t', Index.ToString(CultureInfo.InvariantCulture), Escape(Id), Escape(Formula), A, B, X,
        Number(AState), Number(BState), Number(LatticeParameter), Number(ToleranceFactor), Number(OctahedralFactor), Number(Prediction),
        Number(Std), Number(FormulaPrediction), Escape(Location ?? ""));

    internal static ScreenedCandidate Deserialize(string line)
    {
        var f = line.Split('\t');
        return new ScreenedCandidate(long.Parse(f[0], CultureInfo.InvariantCulture), Unescape(f[1]), Unescape(f[2]), f[3], f[4], f[5],
            int.Parse(f[6], CultureInfo.InvariantCulture), int.Parse(f[7], CultureInfo.InvariantCulture), Parse(f[8]), Parse(f[9]),
            Parse(f[10]), Parse(f[11]), Parse(f[12]), Parse(f[13]), f[14].Length == 0 ? null : Unescape(f[14]));
    }

    internal static string Number(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    internal static double Parse(string text) => double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);

    internal static string Escape(string text) =>
        text.IndexOfAny(['\\', '\t', '\n', '\r']) < 0 ? text : text.Replace("\\", @"\\").Replace("\t", @"\t").Replace("\n", @"\n").Replace("\r", @"\r");

    internal static string Unescape(string text)
    {
        if (!text.Contains('\\')) return text;
        var builder = new StringBuilder(text.Length);
        for (int i = 0; i < text.Length; i++)
        {
            if (text[i] != '\\' || i + 1 == text.Length)
            {
                builder.Append(text[i]);
                continue;
            }

            builder.Append(text[++i] switch { 't' => '\t', 'n' => '\n', 'r' => '\r', var c => c });
        }

        return builder.ToString();
    }
}

/// <summary>A candidate that was not predicted, and why.</summary>
/// <param name="Kind">the reason's kind, for counts: <see cref="DropKinds"/></param>
public sealed record DroppedCandidate(long Index, string Id, string Formula, string? Location, string Kind, string Reason)
{
    internal string Serialize() => string.Join('\t', Index.ToString(CultureInfo.InvariantCulture), ScreenedCandidate.Escape(Id),
        ScreenedCandidate.Escape(Formula), ScreenedCandidate.Escape(Location ?? ""), Kind, ScreenedCandidate.Escape(Reason));

    internal static DroppedCandidate Deserialize(string line)
    {
        var f = line.Split('\t');
        return new DroppedCandidate(long.Parse(f[0], CultureInfo.InvariantCulture), ScreenedCandidate.Unescape(f[1]),
            ScreenedCandidate.Unescape(f[2]), f[3].Length == 0 ? null : ScreenedCandidate.Unescape(f[3]), f[4], ScreenedCandidate.Unescape(f[5]));
    }
}

/// <summary>The kinds of <see cref="DroppedCandidate.Kind"/>.</summary>
public static class DropKinds
{
    public const string ChargeBalance = "no charge balance";
    public const string NotPerovskite = "not ABX3 to the site-role rule";
    public const string Cell = "no ideal cell";
    public const string Prediction = "no finite prediction";
}

/// <summary>What a screening run found; the full ranking and the drops are in its CSV files.</summary>
/// <param name="Top">the best <see cref="CandidateScreeningOptions.TopCount"/> candidates, best first</param>
/// <param name="Sample">up to <see cref="CandidateScreeningOptions.SampleSize"/> kept candidates drawn uniformly, the same whatever the chunking or ranks</param>
/// <param name="Drops">how many candidates were dropped, by <see cref="DroppedCandidate.Kind"/></param>
public sealed record ScreeningSummary(string Target, long Candidates, long Kept, IReadOnlyDictionary<string, long> Drops,
    IReadOnlyList<ScreenedCandidate> Top, IReadOnlyList<ScreenedCandidate> Sample, bool HasUncertainty, bool HasFormula,
    TimeSpan Elapsed, int Ranks)
{
    public long Dropped => Candidates - Kept;
}
