using System.CommandLine;
using SaGatSr.Cli.Commands;

namespace SaGatSr.Cli;

public static class Program
{
    public static int Main(string[] args)
    {
        using var cancel = new CancellationTokenSource();
        // First Ctrl+C asks long work to stop at a safe point (after writing its checkpoint); a second one kills.
        Console.CancelKeyPress += (_, e) =>
        {
            if (cancel.IsCancellationRequested) return;
            e.Cancel = true;
            Console.Error.WriteLine("Stopping after the current step; the checkpoint is kept. Press Ctrl+C again to kill.");
            cancel.Cancel();
        };
        return Run(args, cancel.Token);
    }

    public static int Run(string[] args, CancellationToken cancel = default)
    {
        var root = CommandLine.Build(cancel);
        try
        {
            return root.Parse(args).Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (Exception e) when (UserError.IsUserError(e))
        {
            Console.Error.WriteLine($"error: {UserError.Describe(e)}");
            return 1;
        }
    }
}
