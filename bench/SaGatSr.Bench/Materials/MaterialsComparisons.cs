using System.Diagnostics;
using SaGatSr.Gat.Materials;

namespace SaGatSr.Bench;

public static partial class Comparisons
{
    private static void RegisterMaterials()
    {
        Register("materials-graph-scaling", "CrystalGraph.Build time per atom on NaCl supercells from 10^2 to 10^6 atoms, vs an O(n^2) all-pairs search",
            args => GraphScaling(args.Length > 0 ? int.Parse(args[0]) : 1_000_000));
        Register("materials-pipeline", "read + graph + SAE features per structure on the shipped JARVIS and CGCNN samples",
            _ => Pipeline());
    }

    private static string SharedData()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "SaGatSr.sln")))
            directory = directory.Parent;
        string data = Path.Combine(directory?.FullName ?? ".", "..", "shared", "data");
        return Directory.Exists(data) ? data : throw new DirectoryNotFoundException($"shared data folder not found at {data}");
    }

    private static int GraphScaling(int maxAtoms)
    {
        var cell = StructureReader.Read(Path.Combine(SharedData(), "cgcnn-sample", "1000041.cif"));
        Console.WriteLine($"NaCl conventional cell ({cell.AtomCount} atoms), supercells n x n x n; default options (cutoff 8 Å, K = 12); {Environment.ProcessorCount} cores");
        WarmUp(cell.Supercell(3, 3, 3));
        Console.WriteLine($"{"atoms",10} {"build ms",10} {"ns/atom",9} {"all-pairs ns/atom",18} {"ratio",7} {"features ns/atom",17} {"managed MB",11}");
        foreach (int n in new[] { 3, 5, 11, 23, 50 })
        {
            int atoms = cell.AtomCount * n * n * n;
            if (atoms > maxAtoms)
                break;
            var structure = cell.Supercell(n, n, n);
            int repeats = atoms > 200_000 ? 3 : 7;
            CrystalGraph? graph = null;
            double build = MedianMilliseconds(() => graph = CrystalGraph.Build(structure), repeats);
            string allPairs = "", ratio = "";
            if (atoms <= 2_000)
            {
                double brute = MedianMilliseconds(() => AllPairsNeighbours(structure, 8, 12), 3);
                allPairs = $"{brute * 1e6 / atoms:F0}";
                ratio = $"{brute / build:F1}x";
            }

            var sae = new SaeFeaturizer();
            double features = atoms <= 100_000 ? MedianMilliseconds(() => sae.Featurize(structure, graph!), 3) : double.NaN;
            long managed = GC.GetTotalMemory(forceFullCollection: true) / (1 << 20);
            Console.WriteLine($"{atoms,10} {build,10:F1} {build * 1e6 / atoms,9:F0} {allPairs,18} {ratio,7} {(double.IsNaN(features) ? "" : $"{features * 1e6 / atoms:F0}"),17} {managed,11}");
        }

        Console.WriteLine($"peak working set {Process.GetCurrentProcess().PeakWorkingSet64 / (1 << 20)} MB");
        return 0;
    }

    /// <summary>Runs the graph and feature code for a second so tiered JIT has promoted it before anything is timed.</summary>
    private static void WarmUp(Structure structure)
    {
        var sae = new SaeFeaturizer();
        var watch = Stopwatch.StartNew();
        while (watch.ElapsedMilliseconds < 1000)
            sae.Featurize(structure, CrystalGraph.Build(structure));
    }

    /// <summary>The plain approach: every atom against the 27 nearest images of every atom (enough here: every supercell is wider than twice the cutoff).</summary>
    private static void AllPairsNeighbours(Structure s, double cutoff, int k)
    {
        int n = s.AtomCount;
        var best = new double[k];
        for (int i = 0; i < n; i++)
        {
            int count = 0;
            for (int j = 0; j < n; j++)
            for (int a = -1; a <= 1; a++)
            for (int b = -1; b <= 1; b++)
            for (int c = -1; c <= 1; c++)
            {
                if (i == j && a == 0 && b == 0 && c == 0)
                    continue;
                double dx = s.CartesianCoordinates[j][0] + a * s.Lattice[0, 0] + b * s.Lattice[1, 0] + c * s.Lattice[2, 0] - s.CartesianCoordinates[i][0];
                double dy = s.CartesianCoordinates[j][1] + a * s.Lattice[0, 1] + b * s.Lattice[1, 1] + c * s.Lattice[2, 1] - s.CartesianCoordinates[i][1];
                double dz = s.CartesianCoordinates[j][2] + a * s.Lattice[0, 2] + b * s.Lattice[1, 2] + c * s.Lattice[2, 2] - s.CartesianCoordinates[i][2];
                double d = Math.Sqrt(dx * dx + dy * dy + dz * dz);
                if (d > cutoff || (count == k && d >= best[k - 1]))
                    continue;
                int p = Math.Min(count, k - 1);
                while (p > 0 && best[p - 1] > d)
                {
                    best[p] = best[p - 1];
                    p--;
                }

                best[p] = d;
                count = Math.Min(count + 1, k);
            }
        }
    }

    private static int Pipeline()
    {
        string data = SharedData();
        var sae = new SaeFeaturizer();
        WarmUp(StructureReader.Read(Path.Combine(data, "cgcnn-sample", "1000041.cif")).Supercell(3, 3, 3));
        foreach (string folder in new[] { "jarvis-sample", "cgcnn-sample" })
        {
            string path = Path.Combine(data, folder);
            Dataset? dataset = null;
            double load = MedianMilliseconds(() => dataset = Dataset.Load(path), 5);
            int atoms = dataset!.Entries.Sum(e => e.Structure.AtomCount);
            double graphs = MedianMilliseconds(() =>
            {
                foreach (var entry in dataset.Entries)
                    CrystalGraph.Build(entry.Structure);
            }, 5);
            var built = dataset.Entries.Select(e => CrystalGraph.Build(e.Structure)).ToList();
            double features = MedianMilliseconds(() =>
            {
                for (int k = 0; k < built.Count; k++)
                    sae.Featurize(dataset.Entries[k].Structure, built[k]);
            }, 5);
            int n = dataset.Entries.Count;
            Console.WriteLine($"{folder}: {n} structures, {atoms} atoms; per structure: load {load * 1000 / n:F0} µs, graph {graphs * 1000 / n:F0} µs, SAE features {features * 1000 / n:F0} µs");
            var slowest = dataset.Entries
                .Select(e => (e.Id, e.Structure.AtomCount, Microseconds: 1000 * MedianMilliseconds(() => CrystalGraph.Build(e.Structure), 5)))
                .OrderByDescending(t => t.Microseconds).Take(3);
            Console.WriteLine("  slowest graphs: " + string.Join(", ", slowest.Select(t => $"{t.Id} ({t.AtomCount} atoms) {t.Microseconds:F0} µs")));
        }

        return 0;
    }
}
