using System.IO.Compression;
using System.Security.Cryptography;
using System.Text.Json;

namespace SaGatSr.Gat.Training;

/// <summary>
/// Damage detection for the zip files the project writes and reads back (models, checkpoints). A model is embedded and run
/// for months: one flipped bit in a float's exponent would change predictions by orders of magnitude without a word, so
/// every file records a manifest (<see cref="ManifestEntry"/>: the SHA-256 and length of every other entry) and is refused
/// on load when anything differs. Files written before the manifest existed are checked against their zip CRC-32s instead.
/// </summary>
public static class FileIntegrity
{
    public const string ManifestEntry = "integrity.json";

    /// <summary>Manifest layout version; a file with a newer one was written by a version this one cannot vouch for.</summary>
    public const int CurrentFormat = 1;

    private sealed record EntryDigest(string Name, long Length, string Sha256);

    private sealed record Manifest(int Format, EntryDigest[] Entries);

    /// <summary>Adds the manifest to a zip file just written (and closed) at <paramref name="path"/>.</summary>
    public static void AppendManifest(string path)
    {
        EntryDigest[] digests;
        using (var zip = ZipFile.OpenRead(path))
            digests = zip.Entries.Select(e => Digest(e).Digest).ToArray();
        using var update = ZipFile.Open(path, ZipArchiveMode.Update);
        using var writer = new StreamWriter(update.CreateEntry(ManifestEntry, CompressionLevel.Fastest).Open());
        writer.Write(JsonSerializer.Serialize(new Manifest(CurrentFormat, digests), ModelFile.Json));
    }

    /// <summary>
    /// Opens a project zip for reading after checking every byte it holds. Refuses, with the path and what is wrong, a file
    /// that is missing, truncated or not a zip, an entry whose content, length or checksum differs from what was written, an
    /// entry missing or added, and a manifest newer than this version reads.
    /// </summary>
    /// <param name="remedy">appended to every refusal (a checkpoint's: "delete it or run with --restart to start afresh")</param>
    public static ZipArchive OpenVerified(string path, string? remedy = null)
    {
        string suffix = remedy is null ? "" : $"; {remedy}";
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: file not found.", path);
        ZipArchive zip;
        try
        {
            zip = ZipFile.OpenRead(path);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"{path}: not a readable zip file, truncated or damaged ({e.Message}){suffix}", e);
        }

        try
        {
            Verify(zip, path, suffix);
            return zip;
        }
        catch (Exception e) when (e is not InvalidDataException || !e.Message.StartsWith(path, StringComparison.Ordinal))
        {
            // A damaged header can surface as any exception of the zip reader.
            zip.Dispose();
            throw Damaged(path, $"unreadable ({e.Message})", suffix);
        }
        catch
        {
            zip.Dispose();
            throw;
        }
    }

    private static void Verify(ZipArchive zip, string path, string suffix)
    {
        var manifestEntry = zip.GetEntry(ManifestEntry);
        if (manifestEntry is null)
        {
            // Written before manifests: the zip's own CRC-32s are all there is to check.
            foreach (var entry in zip.Entries)
                if (Read(entry, path, suffix).Crc32 != entry.Crc32)
                    throw Damaged(path, $"{entry.FullName} checksum mismatch", suffix);
            return;
        }

        Manifest manifest;
        if (Read(manifestEntry, path, suffix).Crc32 != manifestEntry.Crc32)
            throw Damaged(path, $"{ManifestEntry} checksum mismatch", suffix);
        try
        {
            using var reader = new StreamReader(manifestEntry.Open());
            manifest = JsonSerializer.Deserialize<Manifest>(reader.ReadToEnd(), ModelFile.Json)
                       ?? throw Damaged(path, $"{ManifestEntry} is empty", suffix);
        }
        catch (JsonException e)
        {
            throw Damaged(path, $"{ManifestEntry} is unreadable ({e.Message})", suffix);
        }

        if (manifest.Format > CurrentFormat)
            throw new InvalidDataException(
                $"{path}: written by a newer version of SaGatSr (integrity format {manifest.Format}; this version reads up to {CurrentFormat}); " +
                "use that version or retrain");
        if (manifest.Entries is null) throw Damaged(path, $"{ManifestEntry} lists no entries", suffix);
        var expected = manifest.Entries.ToDictionary(e => e.Name ?? "", StringComparer.Ordinal);
        foreach (var entry in zip.Entries)
        {
            if (entry.FullName == ManifestEntry) continue;
            if (!expected.Remove(entry.FullName, out var recorded))
                throw Damaged(path, $"entry {entry.FullName} is not in the manifest", suffix);
            if (Read(entry, path, suffix).Digest != recorded) throw Damaged(path, $"{entry.FullName} checksum mismatch", suffix);
        }

        if (expected.Count > 0) throw Damaged(path, $"{expected.Keys.First()} is missing", suffix);
    }

    private static InvalidDataException Damaged(string path, string what, string suffix) =>
        new($"{path}: {what}, file damaged{suffix}");

    /// <summary>An entry's digest; a compressed stream that cannot be inflated is damage in that entry.</summary>
    private static (EntryDigest Digest, uint Crc32) Read(ZipArchiveEntry entry, string path, string suffix)
    {
        try
        {
            return Digest(entry);
        }
        catch (InvalidDataException)
        {
            throw Damaged(path, $"{entry.FullName} checksum mismatch", suffix);
        }
    }

    /// <summary>Reads an entry whole (constant memory): its SHA-256, length and CRC-32.</summary>
    private static (EntryDigest Digest, uint Crc32) Digest(ZipArchiveEntry entry)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[81920];
        long length = 0;
        uint crc = 0;
        using var stream = entry.Open();
        for (int read; (read = stream.Read(buffer)) > 0; length += read)
        {
            sha.AppendData(buffer, 0, read);
            crc = Crc32.Append(crc, buffer.AsSpan(0, read));
        }

        return (new EntryDigest(entry.FullName, length, Convert.ToHexStringLower(sha.GetHashAndReset())), crc);
    }
}

/// <summary>The zip format's CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320).</summary>
internal static class Crc32
{
    private static readonly uint[] Table = Enumerable.Range(0, 256).Select(n =>
    {
        uint c = (uint)n;
        for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        return c;
    }).ToArray();

    public static uint Append(uint crc, ReadOnlySpan<byte> data)
    {
        crc = ~crc;
        foreach (byte b in data) crc = Table[(crc ^ b) & 0xFF] ^ (crc >> 8);
        return ~crc;
    }
}
