using BenchmarkDotNet.Running;

namespace SaGatSr.Bench;

/// <summary>
/// BenchmarkDotNet suites (`dotnet run -c Release --project bench/SaGatSr.Bench -- --filter *Name*`) and
/// side-by-side comparisons that print ratios in one run (`-- compare &lt;name&gt;`).
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        if (args.Length >= 1 && args[0] == "compare")
            return Comparisons.Run(args.Skip(1).ToArray());
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
        return 0;
    }
}
