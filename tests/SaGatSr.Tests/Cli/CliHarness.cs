using SaGatSr.Cli;

namespace SaGatSr.Tests.Cli;

/// <summary>`sagatsr` in this process, its standard output and error captured.</summary>
internal static class CliHarness
{
    public static (int Exit, string Output, string Errors) Run(params string[] args)
    {
        var output = new StringWriter();
        var errors = new StringWriter();
        var (oldOut, oldError) = (Console.Out, Console.Error);
        Console.SetOut(output);
        Console.SetError(errors);
        try
        {
            return (Program.Run(args), output.ToString(), errors.ToString());
        }
        finally
        {
            Console.SetOut(oldOut);
            Console.SetError(oldError);
        }
    }

    /// <summary>Runs a command that must fail, and checks that its error names every part given.</summary>
    public static void Fails(string[] args, params string[] messageParts)
    {
        var (exit, _, errors) = Run(args);
        Assert.That(exit, Is.Not.EqualTo(0), string.Join(' ', args));
        foreach (var part in messageParts) Assert.That(errors, Does.Contain(part));
    }
}
