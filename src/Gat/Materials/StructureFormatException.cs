namespace SaGatSr.Gat.Materials;

/// <summary>Bad crystal-structure or dataset input; the message reads "file:line: what" so users can jump to it.</summary>
public sealed class StructureFormatException : Exception
{
    public StructureFormatException(string file, int? line, string problem)
        : base(line is { } l ? $"{file}:{l}: {problem}" : $"{file}: {problem}")
    {
        File = file;
        Line = line;
        Problem = problem;
    }

    public string File { get; }

    public int? Line { get; }

    /// <summary>The message without the location prefix.</summary>
    public string Problem { get; }
}
