using System.Globalization;

namespace SaGatSr.Gat.Materials;

/// <summary>Which roles a <see cref="DescriptorTable"/> describes.</summary>
public enum RoleScheme
{
    /// <summary><see cref="Abx3"/> when at least half of the crystals are recognised ABX3 perovskites, else <see cref="CationAnion"/>.</summary>
    Auto,

    /// <summary>A_*, B_*, X_* columns and the ABX3-only G_* descriptors.</summary>
    Abx3,

    /// <summary>cation_*, anion_* columns.</summary>
    CationAnion,
}

/// <summary>
/// Per-crystal descriptors by site role, for symbolic regression: statistics of elemental properties over the sites of
/// each role, the roles' mean oxidation states, and the crystal-level G_* descriptors (<see cref="CrystalDescriptors"/>).
/// <para>Names. A role holding one site per formula unit (A and B of ABX3) gives <c>{role}_{property}</c>, the mean over
/// its sites (e.g. <c>B_IE1</c>); a multi-site role (X, cation, anion) gives <c>{role}_{property}_mean</c>, <c>_min</c>,
/// <c>_max</c> and <c>_range</c> (e.g. <c>X_EA_mean</c>). Means are over sites, i.e. weighted by the elements' fractions
/// of the role. Besides the elemental properties every role has <c>ir</c>, the Shannon ionic radius of each site
/// (<see cref="CrystalDescriptors.SiteIonicRadii"/>: <c>B_ir</c>), and <c>{role}_charge</c>, the mean estimated oxidation
/// state (<c>X_charge</c>); the cation/anion scheme adds <c>cation_frac</c>, the cations' share of the sites.</para>
/// <para>Fallbacks, flagged per row in <c>roles_fallback</c> and counted in <see cref="DescriptorTable.FallbackCount"/>:
/// 1 = in an ABX3 table, a crystal with cation/anion roles but no octahedral B site: A_* and B_* both hold the cation
/// statistics; 2 = no roles at all: every role column holds whole-crystal statistics and the charges are 0. ABX3-only
/// G_* columns hold 0 for non-perovskite rows (G_abx3 = 0 says so) and are left out of cation/anion tables.</para>
/// Deterministic (rows are independent and ordered as given) and fast: thousands of small crystals per second per core.
/// </summary>
public sealed class RoleDescriptors
{
    /// <summary>The elemental properties described by default.</summary>
    public static readonly IReadOnlyList<string> DefaultProperties =
        ["IE1", "IE2", "EA", "X", "r_ion", "r_atom", "Z", "mass", "mendeleev", "val_total", "group", "period"];

    private const string IonicRadius = "ir";

    private readonly ElementTable _elements;
    private readonly IonTable _ions;
    private readonly int[] _columns;

    /// <param name="properties">names of <see cref="ElementTable"/> properties; default <see cref="DefaultProperties"/></param>
    public RoleDescriptors(IEnumerable<string>? properties = null, ElementTable? elements = null, IonTable? ions = null)
    {
        _elements = elements ?? ElementTable.Default;
        _ions = ions ?? IonTable.Default;
        Properties = (properties ?? DefaultProperties).ToArray();
        if (Properties.Contains(IonicRadius))
            throw new ArgumentException($"'{IonicRadius}' is the built-in site ionic radius, not an elemental property");
        _columns = Properties.Select(_elements.IndexOf).ToArray();
    }

    public IReadOnlyList<string> Properties { get; }

    /// <summary>Builds each structure's graph with <paramref name="graphOptions"/> (default: the training default) and describes it.</summary>
    public DescriptorTable Compute(IReadOnlyList<Structure> structures, RoleScheme scheme = RoleScheme.Auto, GraphOptions? graphOptions = null)
    {
        var crystals = new (Structure, CrystalGraph)[structures.Count];
        Parallel.For(0, structures.Count, i => crystals[i] = (structures[i], CrystalGraph.Build(structures[i], graphOptions)));
        return Compute(crystals, scheme);
    }

    /// <summary>One row per crystal, in order; each graph must be built from its structure with at least 7 neighbours per atom.</summary>
    public DescriptorTable Compute(IReadOnlyList<(Structure Structure, CrystalGraph Graph)> crystals, RoleScheme scheme = RoleScheme.Auto)
    {
        var roles = new SiteRoles[crystals.Count];
        var crystal = new CrystalDescriptors[crystals.Count];
        Parallel.For(0, crystals.Count, i =>
        {
            var (structure, graph) = crystals[i];
            roles[i] = SiteRoles.Assign(structure, graph, _ions, _elements);
            crystal[i] = CrystalDescriptors.Compute(structure, graph, roles[i], _ions, _elements);
        });

        if (scheme == RoleScheme.Auto)
            scheme = 2 * roles.Count(r => r.IsAbx3) >= crystals.Count && crystals.Count > 0 ? RoleScheme.Abx3 : RoleScheme.CationAnion;
        var columns = Columns(scheme);
        var values = new double[crystals.Count, columns.Count];
        var fallback = new int[crystals.Count];
        Parallel.For(0, crystals.Count, i => fallback[i] = WriteRow(crystals[i].Structure, roles[i], crystal[i], scheme, values, i));
        return new DescriptorTable(columns, crystals.Select(c => c.Structure.Id).ToArray(), roles.Select(r => r.Rule).ToArray(), fallback, scheme, values);
    }

    /// <summary>The columns of a table in <paramref name="scheme"/> (Abx3 or CationAnion), with their meanings.</summary>
    public IReadOnlyList<FeatureInfo> Columns(RoleScheme scheme)
    {
        if (scheme == RoleScheme.Auto)
            throw new ArgumentException("columns depend on the scheme chosen for a set of crystals: ask for Abx3 or CationAnion");
        var columns = new List<FeatureInfo>();
        var meanings = Properties.Select(p => _elements.Properties[_elements.IndexOf(p)].Description.Split(';')[0]).ToList();
        meanings.Add("Shannon ionic radius of the site's estimated ion (Å)");
        var names = Properties.Append(IonicRadius).ToList();
        foreach (var (role, single, what) in Roles(scheme))
        {
            for (int p = 0; p < names.Count; p++)
                if (single)
                    columns.Add(new FeatureInfo($"{role}_{names[p]}", $"{meanings[p]} of {what}", FeatureInfo.Role));
                else
                    foreach (var (suffix, statistic) in Statistics)
                        columns.Add(new FeatureInfo($"{role}_{names[p]}_{suffix}", $"{statistic} of {meanings[p]} over {what}", FeatureInfo.Role));
            columns.Add(new FeatureInfo($"{role}_charge", $"mean estimated oxidation state of {what}", FeatureInfo.Role));
        }

        if (scheme == RoleScheme.CationAnion)
            columns.Add(new FeatureInfo("cation_frac", "fraction of the sites that are cations (1 where the crystal has no roles)", FeatureInfo.Role));
        columns.Add(new FeatureInfo("roles_fallback", "0: roles as named; 1: ABX3 table, crystal with cation/anion roles only (A_* and B_* hold the cation statistics); 2: no roles (whole-crystal statistics, charges 0)", FeatureInfo.Role));
        columns.AddRange(scheme == RoleScheme.Abx3 ? CrystalDescriptors.All : CrystalDescriptors.All.Skip(CrystalDescriptors.Abx3Count));
        return columns;
    }

    /// <summary>FEATURES.md's section on the per-crystal descriptors: the naming rules and the columns of both schemes for <see cref="DefaultProperties"/>.</summary>
    public static string ColumnTableMarkdown()
    {
        var describer = new RoleDescriptors();
        var builder = new System.Text.StringBuilder();
        builder.Append("# Per-crystal role descriptors (for symbolic regression)\n\n");
        builder.Append("Generated by `RoleDescriptors.ColumnTableMarkdown()`: the columns of `RoleDescriptors.Compute` for its default elemental properties ");
        builder.Append("(`RoleDescriptors.DefaultProperties`; any ElementTable property can be asked for). Roles come from `SiteRoles`: A, B and X for ");
        builder.Append("recognised ABX3 perovskites, cation and anion otherwise. A role with one site per formula unit (A, B) gives `{role}_{property}`, ");
        builder.Append("the mean over its sites; a multi-site role gives `_mean`, `_min`, `_max` and `_range`. Means are over sites (so weighted by composition). ");
        builder.Append("`ir` is the Shannon ionic radius of each site's estimated ion, `{role}_charge` the role's mean estimated oxidation state. ");
        builder.Append("A table is ABX3 when at least half of its crystals are recognised perovskites (or when asked); ");
        builder.Append("`roles_fallback` flags the rows whose roles did not fit (1: cation/anion statistics in the A and B columns, 2: whole-crystal statistics everywhere). ");
        builder.Append("The G_* columns are `CrystalDescriptors`, with 0 where they do not apply.\n\n");
        foreach (var scheme in new[] { RoleScheme.Abx3, RoleScheme.CationAnion })
        {
            var columns = describer.Columns(scheme);
            builder.Append($"## {(scheme == RoleScheme.Abx3 ? "ABX3" : "Cation/anion")} tables ({columns.Count} columns)\n\n");
            builder.Append("| # | name | kind | meaning |\n| ---: | --- | --- | --- |\n");
            for (int k = 0; k < columns.Count; k++)
                builder.Append($"| {k} | `{columns[k].Name}` | {columns[k].Kind} | {columns[k].Description.Replace("|", "\\|")} |\n");
            builder.Append('\n');
        }

        return builder.ToString().TrimEnd('\n') + "\n";
    }

    private static readonly (string Suffix, string Statistic)[] Statistics =
        [("mean", "mean"), ("min", "minimum"), ("max", "maximum"), ("range", "range (max - min)")];

    private static IEnumerable<(string Role, bool Single, string What)> Roles(RoleScheme scheme) => scheme == RoleScheme.Abx3
        ? [("A", true, "the A cation (mean over A sites)"), ("B", true, "the octahedral B cation (mean over B sites)"), ("X", false, "the X (anion) sites")]
        : [("cation", false, "the cation sites"), ("anion", false, "the anion sites")];

    /// <summary>Fills row <paramref name="row"/>; returns its roles_fallback level.</summary>
    private int WriteRow(Structure structure, SiteRoles roles, CrystalDescriptors crystal, RoleScheme scheme, double[,] values, int row)
    {
        int n = structure.AtomCount;
        var z = structure.AtomicNumbers;
        var role = roles.Roles;
        int level = !roles.IsAssigned ? 2 : scheme == RoleScheme.Abx3 && !roles.IsAbx3 ? 1 : 0;
        // which sites each column group describes
        Func<int, bool>[] groups = (scheme, level) switch
        {
            (_, 2) => [_ => true, _ => true, _ => true],
            (RoleScheme.Abx3, 1) => [i => SiteRoles.IsCation(role[i]), i => SiteRoles.IsCation(role[i]), i => SiteRoles.IsAnion(role[i])],
            (RoleScheme.Abx3, _) => [i => role[i] == SiteRole.A, i => role[i] == SiteRole.B, i => role[i] == SiteRole.X],
            _ => [i => SiteRoles.IsCation(role[i]), i => SiteRoles.IsAnion(role[i])],
        };
        var single = Roles(scheme).Select(r => r.Single).ToArray();

        int column = 0;
        Span<double> site = n <= 1024 ? stackalloc double[n] : new double[n];
        for (int g = 0; g < single.Length; g++)
        {
            var member = groups[g];
            for (int p = 0; p <= _columns.Length; p++)
            {
                for (int i = 0; i < n; i++)
                    site[i] = p < _columns.Length ? _elements.Value(z[i], _columns[p]) : crystal.SiteIonicRadii[i];
                double sum = 0, min = double.PositiveInfinity, max = double.NegativeInfinity;
                int count = 0;
                for (int i = 0; i < n; i++)
                    if (member(i))
                    {
                        sum += site[i];
                        min = Math.Min(min, site[i]);
                        max = Math.Max(max, site[i]);
                        count++;
                    }

                values[row, column++] = sum / count;
                if (!single[g])
                {
                    values[row, column++] = min;
                    values[row, column++] = max;
                    values[row, column++] = max - min;
                }
            }

            double charge = 0;
            int members = 0;
            for (int i = 0; i < n; i++)
                if (member(i))
                {
                    charge += roles.OxidationStates[i];
                    members++;
                }

            values[row, column++] = charge / members;
        }

        if (scheme == RoleScheme.CationAnion)
            values[row, column++] = level == 2 ? 1 : (double)role.Count(SiteRoles.IsCation) / n;
        values[row, column++] = level;
        Span<double> g8 = stackalloc double[CrystalDescriptors.All.Count];
        crystal.Write(g8);
        foreach (double v in scheme == RoleScheme.Abx3 ? g8 : g8[CrystalDescriptors.Abx3Count..])
            values[row, column++] = v;
        return level;
    }
}

/// <summary>Named per-crystal descriptors: one row per crystal, every value finite (see <see cref="RoleDescriptors"/> for the fallbacks).</summary>
public sealed class DescriptorTable
{
    private readonly double[,] _values;
    private readonly int[] _fallback;

    internal DescriptorTable(IReadOnlyList<FeatureInfo> columns, string[] ids, string[] rules, int[] fallback, RoleScheme scheme, double[,] values)
    {
        Columns = columns;
        Ids = ids;
        Rules = rules;
        _fallback = fallback;
        Scheme = scheme;
        _values = values;
    }

    /// <summary>Column names and meanings, in order.</summary>
    public IReadOnlyList<FeatureInfo> Columns { get; }

    /// <summary>Structure ids, one per row.</summary>
    public IReadOnlyList<string> Ids { get; }

    /// <summary>Per row: the rule that assigned the roles (<see cref="SiteRoles.Rule"/>).</summary>
    public IReadOnlyList<string> Rules { get; }

    /// <summary><see cref="RoleScheme.Abx3"/> or <see cref="RoleScheme.CationAnion"/>.</summary>
    public RoleScheme Scheme { get; }

    public int RowCount => Ids.Count;

    /// <summary>Per row: the roles_fallback level (0 roles as named, 1 cation/anion only in an ABX3 table, 2 whole crystal).</summary>
    public int Fallback(int row) => _fallback[row];

    /// <summary>Rows whose roles did not match the scheme (roles_fallback 1 or 2).</summary>
    public int FallbackCount => _fallback.Count(f => f > 0);

    public double this[int row, int column] => _values[row, column];

    public int IndexOf(string name)
    {
        for (int c = 0; c < Columns.Count; c++)
            if (Columns[c].Name == name)
                return c;
        throw new ArgumentException($"no descriptor column named '{name}'", nameof(name));
    }

    public double[] Column(string name)
    {
        int c = IndexOf(name);
        var result = new double[RowCount];
        for (int r = 0; r < result.Length; r++)
            result[r] = _values[r, c];
        return result;
    }

    /// <summary>CSV: "id,rule," then the columns; numbers round-trip.</summary>
    public void WriteCsv(TextWriter writer)
    {
        writer.Write("id,rule");
        foreach (var c in Columns)
            writer.Write("," + c.Name);
        writer.Write('\n');
        for (int r = 0; r < RowCount; r++)
        {
            writer.Write(Quote(Ids[r]));
            writer.Write(',');
            writer.Write(Quote(Rules[r]));
            for (int c = 0; c < Columns.Count; c++)
            {
                writer.Write(',');
                writer.Write(_values[r, c].ToString("R", CultureInfo.InvariantCulture));
            }

            writer.Write('\n');
        }
    }

    private static string Quote(string text) => text.IndexOfAny([',', '"', '\n']) < 0 ? text : "\"" + text.Replace("\"", "\"\"") + "\"";
}
