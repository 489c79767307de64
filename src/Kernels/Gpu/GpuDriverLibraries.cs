using System.Reflection;
using System.Runtime.InteropServices;
using ILGPU;

namespace SaGatSr.Kernels.Gpu;

/// <summary>
/// ILGPU imports the CUDA driver as "cuda" and OpenCL as "OpenCL", which .NET resolves to the unversioned libcuda.so and
/// libOpenCL.so. Driver-only installs (containers, most HPC nodes) ship just the versioned sonames, so without this a
/// present GPU goes unseen; the versioned names are tried when the plain ones are missing.
/// </summary>
internal static class GpuDriverLibraries
{
    private static readonly Dictionary<string, string> VersionedNames = new()
    {
        ["cuda"] = "libcuda.so.1",
        ["OpenCL"] = "libOpenCL.so.1",
    };

    private static int registered;

    /// <summary>Call before the first ILGPU context is created; later calls do nothing.</summary>
    public static void Register()
    {
        if (Interlocked.Exchange(ref registered, 1) == 1 || !OperatingSystem.IsLinux()) return;
        try
        {
            NativeLibrary.SetDllImportResolver(typeof(Context).Assembly, Resolve);
        }
        catch (InvalidOperationException)
        {
            // ILGPU (or the host program) resolves its own imports already.
        }
    }

    private static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? searchPath)
    {
        if (!VersionedNames.TryGetValue(name, out var versioned)) return IntPtr.Zero;
        if (NativeLibrary.TryLoad(name, assembly, searchPath, out var plain)) return plain;
        return NativeLibrary.TryLoad(versioned, out var handle) ? handle : IntPtr.Zero;
    }
}
