using Spectre.Console;

namespace SaGatSr.Cli.Reports;

/// <summary>
/// Runs long work under a live progress bar on an interactive terminal; when output is redirected (CI, logs) it prints
/// a plain line now and then instead, so logs stay readable (also under mpirun).
/// </summary>
public static class ConsoleProgress
{
    public static T Run<T>(string description, Func<ProgressSink, T> work)
    {
        // mpirun hands ranks a pseudo-terminal even when its own output goes to a file: plain lines there too.
        if (!AnsiConsole.Profile.Capabilities.Interactive || Console.IsErrorRedirected || Console.IsOutputRedirected || Mpi.Communicator.IsDistributed)
            return work(new ProgressSink(null, description));
        T result = default!;
        AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(),
                new RemainingTimeColumn())
            .Start(context =>
            {
                var task = context.AddTask(Markup.Escape(description), maxValue: 1.0);
                result = work(new ProgressSink(task, description));
                task.Value = task.MaxValue;
            });
        return result;
    }

    /// <summary>Where work reports how far it is (0..1) and what it is doing.</summary>
    public sealed class ProgressSink(ProgressTask? task, string description)
    {
        private DateTime lastPrinted = DateTime.MinValue;

        public void Report(double fraction, string status, bool important = false)
        {
            if (task is not null)
            {
                task.Value = Math.Clamp(fraction, 0, 1);
                task.Description = Markup.Escape($"{description}: {status}");
                return;
            }

            // Plain output: at most one line every two seconds, plus the important ones (end of epoch, stage changes).
            if (!important && DateTime.UtcNow - lastPrinted < TimeSpan.FromSeconds(2)) return;
            lastPrinted = DateTime.UtcNow;
            Console.Error.WriteLine($"[{fraction * 100,5:F1}%] {description}: {status}");
        }
    }
}
