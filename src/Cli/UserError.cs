using SaGatSr.Gat.Materials;
using SaGatSr.Gat.Training;

namespace SaGatSr.Cli;

/// <summary>Failures caused by the user's input or environment: reported as one clear line, never as a stack trace.</summary>
internal static class UserError
{
    public static bool IsUserError(Exception e) => e is StructureFormatException or FileNotFoundException
        or DirectoryNotFoundException or FormatException or ArgumentException or InvalidDataException
        or TrainingDivergedException or InvalidOperationException or OperationCanceledException or IOException
        or UnauthorizedAccessException or NotSupportedException;

    public static string Describe(Exception e) => e switch
    {
        OperationCanceledException => "cancelled; finished work and checkpoints were kept.",
        _ => e.Message,
    };
}
