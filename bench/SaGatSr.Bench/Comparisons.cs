namespace SaGatSr.Bench;

/// <summary>Registry of side-by-side comparisons; each prints medians and ratios measured in one run.</summary>
public static partial class Comparisons
{
    private static readonly Dictionary<string, (string Description, Func<string[], int> Run)> Registered = new();

    public static void Register(string name, string description, Func<string[], int> run) =>
        Registered[name] = (description, run);

    public static int Run(string[] args)
    {
        RegisterAll();
        if (args.Length == 0 || !Registered.TryGetValue(args[0], out var entry))
        {
            Console.WriteLine("compare <name> [options]; available:");
            foreach (var (name, (description, _)) in Registered.OrderBy(p => p.Key))
                Console.WriteLine($"  {name,-24} {description}");
            return args.Length == 0 ? 0 : 2;
        }

        return entry.Run(args.Skip(1).ToArray());
    }

    /// <summary>Each area adds its comparisons in its own partial file by implementing a Register* method called here.</summary>
    private static void RegisterAll()
    {
        foreach (var method in typeof(Comparisons).GetMethods(System.Reflection.BindingFlags.Static | System.Reflection.BindingFlags.NonPublic)
                     .Where(m => m.Name.StartsWith("Register", StringComparison.Ordinal) && m.Name != nameof(RegisterAll) && m.GetParameters().Length == 0))
            method.Invoke(null, null);
    }

    /// <summary>Median wall time in milliseconds of <paramref name="repeats"/> runs after one warm-up.</summary>
    public static double MedianMilliseconds(Action action, int repeats = 7)
    {
        action();
        var times = new double[repeats];
        for (int i = 0; i < repeats; i++)
        {
            var watch = System.Diagnostics.Stopwatch.StartNew();
            action();
            times[i] = watch.Elapsed.TotalMilliseconds;
        }

        Array.Sort(times);
        return times[repeats / 2];
    }
}
