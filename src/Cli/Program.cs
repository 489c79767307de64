using System.CommandLine;
using SaGatSr.Cli.Commands;
using SaGatSr.Mpi;

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
        Communicator world;
        try
        {
            world = Communicator.World;
        }
        catch (MpiException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 1;
        }

        if (world.Size == 1) return Run(args, cancel.Token);
        return RunAsRank(world, args, cancel.Token);
    }

    /// <summary>
    /// Under mpirun: rank 0 alone prints and writes files; an error on any rank is printed with its rank and ends every
    /// rank (MPI_Abort), since the others would wait for it forever.
    /// </summary>
    private static int RunAsRank(Communicator world, string[] args, CancellationToken cancel)
    {
        var errors = Console.Error;
        if (world.IsRoot) errors.WriteLine($"mpi: {world.Description}");
        else
        {
            Console.SetOut(TextWriter.Null);
            Console.SetError(TextWriter.Null);
        }

        try
        {
            int exit = Run(args, cancel, rethrow: true);
            Communicator.Shutdown();
            return exit;
        }
        catch (Exception e)
        {
            errors.WriteLine($"{(world.IsRoot ? "" : $"rank {world.Rank}: ")}error: {(UserError.IsUserError(e) ? UserError.Describe(e) : e.ToString())}");
            errors.Flush();
            world.Abort(1);
            return 1;
        }
    }

    public static int Run(string[] args, CancellationToken cancel = default) => Run(args, cancel, rethrow: false);

    private static int Run(string[] args, CancellationToken cancel, bool rethrow)
    {
        var root = CommandLine.Build(cancel);
        try
        {
            return root.Parse(args).Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (Exception e) when (UserError.IsUserError(e) && !rethrow)
        {
            Console.Error.WriteLine($"error: {UserError.Describe(e)}");
            return 1;
        }
    }
}
