using System.Diagnostics;
using System.Globalization;

namespace SaGatSr.Gat.Training;

/// <summary>
/// Claims an output folder for one run: <see cref="FileName"/> holds the holder's pid, host and process start time. Two runs
/// writing the same checkpoint would overwrite each other's epochs, so a second run is refused while the holder lives; a
/// lock left by a process that is gone (killed, crashed, or its pid since reused) is stale and taken over.
/// </summary>
public sealed class OutputLock : IDisposable
{
    public const string FileName = ".lock";

    private readonly string _path;
    private readonly string _content;

    private OutputLock(string path, string content)
    {
        _path = path;
        _content = content;
    }

    /// <param name="notice">told when a stale lock is taken over</param>
    public static OutputLock Acquire(string folder, Action<string>? notice = null)
    {
        Directory.CreateDirectory(folder);
        string path = Path.Combine(folder, FileName);
        using var self = Process.GetCurrentProcess();
        string content = Describe(Environment.ProcessId, Environment.MachineName, self.StartTime);
        while (true)
        {
            FileStream stream;
            try
            {
                // CreateNew is atomic: of two runs starting together, exactly one creates the file.
                stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write);
            }
            catch (IOException) when (File.Exists(path))
            {
                RemoveIfStale(path, folder, notice);
                continue;
            }

            try
            {
                using (stream)
                using (var writer = new StreamWriter(stream)) writer.Write(content);
            }
            catch (IOException e)
            {
                File.Delete(path);
                throw new IOException($"{path}: cannot write the lock file ({e.Message})", e);
            }

            RemoveOrphanedTemporaryFiles(folder);
            return new OutputLock(path, content);
        }
    }

    /// <summary>Removes a stale lock (or finds it gone) so the caller can try again; refuses a live one.</summary>
    private static void RemoveIfStale(string path, string folder, Action<string>? notice)
    {
        string held = ReadHolder(path);
        if (held.Length == 0 && DateTime.UtcNow - File.GetLastWriteTimeUtc(path) < TimeSpan.FromSeconds(5))
        {
            // The holder is between creating the file and writing it (if it was killed there, the lock goes stale).
            Thread.Sleep(50);
            return;
        }

        if (IsLive(held, out string holder))
            throw new InvalidOperationException(
                $"{folder} is being written by another run ({holder}; lock file {path}): wait for it to finish or use " +
                $"another --out. If that run is gone, delete {path}.");
        // Moving the stale lock aside is atomic; if another run moved it first, this one simply tries again.
        string aside = $"{path}.{Guid.NewGuid():N}.stale";
        try
        {
            File.Move(path, aside);
        }
        catch (FileNotFoundException)
        {
            return;
        }

        if (ReadHolder(aside) != held)
        {
            // Another run replaced the stale lock between the check and the move: that one is live, give it back.
            File.Move(aside, path);
            return;
        }

        File.Delete(aside);
        notice?.Invoke($"took over the lock of an earlier run that is gone ({holder}; {path})");
    }

    public void Dispose()
    {
        if (File.Exists(_path) && ReadHolder(_path) == _content) File.Delete(_path);
    }

    /// <summary>
    /// Temporary files (".name.guid.tmp", see <see cref="ModelFile.WriteAtomically"/>) of a writer killed mid-write: with the
    /// folder locked no one else can be writing them, and a run killed again and again must not fill the disk with them.
    /// </summary>
    private static void RemoveOrphanedTemporaryFiles(string folder)
    {
        foreach (var orphan in Directory.EnumerateFiles(folder, ".*.tmp")) File.Delete(orphan);
    }

    private static string Describe(int pid, string host, DateTime started) =>
        string.Create(CultureInfo.InvariantCulture, $"{pid} {host} {started.ToUniversalTime():O}");

    private static string ReadHolder(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (FileNotFoundException)
        {
            return "";
        }
    }

    /// <summary>True unless the holder is a process of this host that no longer runs (its pid gone, or reused by another).</summary>
    private static bool IsLive(string held, out string holder)
    {
        var parts = held.Split(' ');
        if (parts.Length != 3 || !int.TryParse(parts[0], CultureInfo.InvariantCulture, out int pid)
            || !DateTime.TryParse(parts[2], CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var started))
        {
            holder = $"unreadable lock '{held.Trim()}'";
            return false;
        }

        holder = $"pid {pid} on {parts[1]}";
        // Another host's processes cannot be seen from here: only their owner can say the lock is stale.
        if (parts[1] != Environment.MachineName) return true;
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited && Math.Abs((process.StartTime.ToUniversalTime() - started).TotalSeconds) < 1;
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }
}
