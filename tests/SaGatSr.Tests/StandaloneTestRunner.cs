using System.Text.RegularExpressions;
using NUnit.Framework.Api;
using NUnit.Framework.Interfaces;
using NUnit.Framework.Internal;

namespace SaGatSr.Tests;

/// <summary>
/// Runs this assembly's tests with only the .NET runtime, no SDK: `dotnet SaGatSr.Tests.dll [full-name regex]`. The GPU
/// machine (bench/gpu-check.sh) has no SDK; `dotnet test` does not use this entry point.
/// </summary>
public static class StandaloneTestRunner
{
    public static int Main(string[] args)
    {
        var runner = new NUnitTestAssemblyRunner(new DefaultTestAssemblyBuilder());
        runner.Load(typeof(StandaloneTestRunner).Assembly, new Dictionary<string, object>());
        var filter = args.Length == 0 ? TestFilter.Empty : new FullNameRegexFilter(new Regex(args[0]));
        // NUnit redirects Console.Out into each test's captured output; the listener writes to the real one.
        var listener = new Listener(Console.Out);
        var result = runner.Run(listener, filter);
        Console.WriteLine($"{result.PassCount} passed, {result.FailCount + result.WarningCount} failed" +
                          (result.SkipCount + result.InconclusiveCount > 0 ? $", {result.SkipCount + result.InconclusiveCount} skipped" : ""));
        return result.FailCount + result.WarningCount == 0 && result.PassCount > 0 ? 0 : 1;
    }

    private sealed class FullNameRegexFilter(Regex pattern) : TestFilter
    {
        public override bool Match(ITest test) => pattern.IsMatch(test.FullName);

        public override TNode AddToXml(TNode parentNode, bool recursive) => parentNode.AddElement("test", pattern.ToString());
    }

    private sealed class Listener(TextWriter output) : ITestListener
    {
        public void TestStarted(ITest test) { }

        public void TestFinished(ITestResult result)
        {
            bool failed = result.ResultState.Status is TestStatus.Failed or TestStatus.Warning;
            // A suite is reported only when it fails itself (a one-time set-up, say); its tests report the rest.
            if (result.Test.IsSuite && !(failed && result.ResultState.Site is FailureSite.SetUp or FailureSite.TearDown)) return;
            output.WriteLine($"{result.ResultState.Status.ToString().ToUpperInvariant(),-12} {result.Duration * 1000,8:F0} ms  {result.FullName}");
            if (failed)
                output.WriteLine($"    {result.Message?.Replace("\n", "\n    ")}\n    {result.StackTrace?.Replace("\n", "\n    ")}");
            output.Flush();
        }

        public void TestOutput(TestOutput output) { }

        public void SendMessage(TestMessage message) { }
    }
}
