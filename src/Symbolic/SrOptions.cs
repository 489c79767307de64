namespace SaGatSr.Symbolic;

/// <summary>Knobs of both engines. Operator names: + - * / exp log sqrt cbrt ^-1 ^2 ^3 |a-b| abs neg.</summary>
public sealed class SrOptions
{
    public static readonly string[] AllOperators = ["+", "-", "*", "/", "exp", "log", "sqrt", "cbrt", "^-1", "^2", "^3", "|a-b|"];

    /// <summary>"sisso" (feature space + screening + exhaustive L0) or "gp" (genetic programming).</summary>
    public string Engine { get; set; } = "sisso";
    public string[] Operators { get; set; } = AllOperators;
    /// <summary>Largest formula size in nodes, counting the coefficients of the final model.</summary>
    public int MaxComplexity { get; set; } = 30;
    /// <summary>
    /// Wall-clock budget. GP checks it every generation; SISSO between stages (it always finishes the 1-term model,
    /// then skips larger models once over the limit). Either way the best formulas found so far are returned.
    /// </summary>
    public TimeSpan TimeLimit { get; set; } = TimeSpan.FromMinutes(5);
    public int Seed { get; set; } = 1;
    /// <summary>Evaluator for candidate batches: cpu | interpreter | ilgpu-cpu | cuda | opencl.</summary>
    public string Device { get; set; } = "cpu";

    // SISSO
    public int Rungs { get; set; } = 2;
    public int MaxTerms { get; set; } = 3;
    /// <summary>Features added to the screened subspace per term (SIS size); 0 picks 100.</summary>
    public int SubspaceSize { get; set; }
    /// <summary>Largest size (nodes) of one descriptor (one feature-space member); not used by the exhaustive space.</summary>
    public int MaxFeatureComplexity { get; set; } = 9;
    /// <summary>
    /// Most operators in one descriptor: SISSO's fcomplexity (a rung-2 feature holds up to 3). 0: bounded by the rungs only.
    /// </summary>
    public int MaxFeatureOperators { get; set; }
    /// <summary>Parents of rung r &gt;= 2 are the primaries plus this many best-screened features of lower rungs, bounding growth; not used by the exhaustive space.</summary>
    public int RungParentLimit { get; set; } = 60;
    /// <summary>
    /// SISSO's full feature space and semantics (see <see cref="ExhaustiveSpace"/>): every rung extends every feature below
    /// it, streamed; features are bounded by Rungs and MaxFeatureOperators, models not by MaxComplexity.
    /// </summary>
    public bool Exhaustive { get; set; }
    /// <summary>Exhaustive space: features whose largest magnitude is outside this range are never selected (SISSO's fmax_min, fmax_max).</summary>
    public double SelectableMin { get; set; } = 1e-3;
    public double SelectableMax { get; set; } = 1e5;
    /// <summary>
    /// Optional units by feature name (see <see cref="Unit.Parse"/>); when set, SISSO only builds dimensionally valid
    /// features (no sums of different units, exp/log of dimensionless arguments only). Unlisted features are dimensionless.
    /// </summary>
    public IReadOnlyDictionary<string, string>? Units { get; set; }

    // GP
    public int Islands { get; set; } = 4;
    public int PopulationSize { get; set; } = 200;
    public int Generations { get; set; } = 200;
    public int TournamentSize { get; set; } = 5;
    public double CrossoverRate { get; set; } = 0.6;
    public double MutationRate { get; set; } = 0.35;
    /// <summary>Penalty per node added to the normalised loss during selection.</summary>
    public double Parsimony { get; set; } = 0.002;
    /// <summary>Generations between migrations of the best individuals around the island ring.</summary>
    public int MigrationInterval { get; set; } = 10;
    /// <summary>
    /// How GP uses an ILGPU device: "interpreted" (one precompiled bytecode kernel; default, because every generation
    /// brings new structures) or "emitted" (a compiled kernel per generation's structure; see bench/RESULTS.md, GP evaluator choice).
    /// </summary>
    public string GpDeviceKernel { get; set; } = "interpreted";

    /// <summary>Parses a CLI operator list such as "+,-,*,/,exp,^2" (commas or spaces), rejecting unknown names.</summary>
    public static string[] ParseOperators(string list)
    {
        var names = list.Split([',', ' '], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (names.Length == 0) throw new ArgumentException("The operator list is empty.");
        foreach (var name in names)
            if (!AllOperators.Contains(name) && name is not ("abs" or "neg"))
                throw new ArgumentException($"Unknown operator '{name}'; known: {string.Join(" ", AllOperators)} abs neg.");
        return names;
    }

    internal void Validate()
    {
        if (Engine is not ("sisso" or "gp")) throw new ArgumentException($"Unknown engine '{Engine}'; expected 'sisso' or 'gp'.");
        foreach (var op in Operators)
            if (!AllOperators.Contains(op) && op is not ("abs" or "neg"))
                throw new ArgumentException($"Unknown operator '{op}'; known: {string.Join(" ", AllOperators)} abs neg.");
        if (MaxComplexity < 1) throw new ArgumentException("MaxComplexity must be at least 1.");
        if (Rungs < 0 || MaxTerms < 1) throw new ArgumentException("Rungs must be >= 0 and MaxTerms >= 1.");
        if (SubspaceSize < 0 || MaxFeatureComplexity < 1 || MaxFeatureOperators < 0 || RungParentLimit < 0)
            throw new ArgumentException("SubspaceSize, MaxFeatureOperators and RungParentLimit must be >= 0, MaxFeatureComplexity >= 1.");
        if (!(SelectableMin >= 0) || !(SelectableMax > SelectableMin))
            throw new ArgumentException($"The selectable magnitude range [{SelectableMin}, {SelectableMax}] is empty.");
        if (GpDeviceKernel is not ("interpreted" or "emitted")) throw new ArgumentException($"GpDeviceKernel must be 'interpreted' or 'emitted', not '{GpDeviceKernel}'.");
        if (Islands < 1 || PopulationSize < 4 || TournamentSize < 2) throw new ArgumentException("GP needs Islands >= 1, PopulationSize >= 4, TournamentSize >= 2.");
    }
}

public sealed record SrProgress(string Stage, double Fraction, string Message);
