using System.Collections.Concurrent;

namespace SaGatSr.Gat.Materials;

/// <summary>
/// Periodic k-nearest-neighbour search with a cell list over the fractional grid, so the cost per atom does not grow
/// with the number of atoms. Bins are slabs of the reciprocal directions; for atom i the search scans growing boxes of
/// bins (wrapping into periodic images as needed, which also covers cells smaller than the cutoff) until the K-th
/// nearest candidate is provably found or the cutoff is covered.
/// </summary>
internal static class NeighborSearch
{
    private const int ParallelThreshold = 2048;

    /// <summary>Neighbours of every atom, grouped by target atom (CSR), each group sorted by distance.</summary>
    internal sealed record Result(int[] Offsets, int[] Sources, float[] Distances, int[] Images);

    internal static Result Find(Structure structure, double cutoff, int maxNeighbors, bool keepNearestBeyondCutoff)
    {
        var grid = new BinGrid(structure, Math.Min(cutoff, KNearestRadius(structure, maxNeighbors)));
        int n = structure.AtomCount;
        var counts = new int[n];
        var slotSources = new int[(long)n * maxNeighbors];
        var slotDistances = new float[(long)n * maxNeighbors];
        var slotImages = new int[(long)n * maxNeighbors * 3];

        void SearchRange(int from, int to)
        {
            var best = new Candidate[maxNeighbors];
            for (int i = from; i < to; i++)
            {
                int found = grid.NearestOf(i, cutoff, maxNeighbors, keepNearestBeyondCutoff, best);
                counts[i] = found;
                for (int k = 0; k < found; k++)
                {
                    long slot = (long)i * maxNeighbors + k;
                    slotSources[slot] = best[k].Index;
                    slotDistances[slot] = (float)best[k].Distance;
                    // report the image relative to the atoms' given (unwrapped) coordinates
                    int j = best[k].Index;
                    slotImages[3 * slot] = best[k].Sa - grid.WrapShift(j, 0) + grid.WrapShift(i, 0);
                    slotImages[3 * slot + 1] = best[k].Sb - grid.WrapShift(j, 1) + grid.WrapShift(i, 1);
                    slotImages[3 * slot + 2] = best[k].Sc - grid.WrapShift(j, 2) + grid.WrapShift(i, 2);
                }
            }
        }

        // small crystals (the usual training case) are batched in parallel by the caller; threads would only add overhead
        if (n < ParallelThreshold)
            SearchRange(0, n);
        else
            Parallel.ForEach(Partitioner.Create(0, n, Math.Max(256, n / (8 * Environment.ProcessorCount) + 1)), range => SearchRange(range.Item1, range.Item2));

        var offsets = new int[n + 1];
        for (int i = 0; i < n; i++)
            offsets[i + 1] = checked(offsets[i] + counts[i]);
        int edges = offsets[n];
        if (edges == slotSources.Length)
            return new Result(offsets, slotSources, slotDistances, slotImages); // every atom has K neighbours: slots are already CSR

        var sources = new int[edges];
        var distances = new float[edges];
        var images = new int[3L * edges];
        for (int i = 0; i < n; i++)
        {
            long slot = (long)i * maxNeighbors;
            Array.Copy(slotSources, slot, sources, offsets[i], counts[i]);
            Array.Copy(slotDistances, slot, distances, offsets[i], counts[i]);
            Array.Copy(slotImages, 3 * slot, images, 3L * offsets[i], 3L * counts[i]);
        }

        return new Result(offsets, sources, distances, images);
    }

    /// <summary>The closest pair of atoms over periodic images, if any is closer than <paramref name="below"/>; else distance = +inf.</summary>
    internal static (int First, int Second, double Distance) ClosestPair(Structure structure, double below)
    {
        var grid = new BinGrid(structure, below);
        var best = new Candidate[1];
        (int, int, double) closest = (0, 0, double.PositiveInfinity);
        for (int i = 0; i < structure.AtomCount; i++)
            if (grid.NearestOf(i, below, 1, false, best) == 1 && best[0].Distance < closest.Item3)
                closest = (best[0].Index, i, best[0].Distance);
        return closest;
    }

    /// <summary>Radius of a sphere expected to hold k atoms at the structure's mean density.</summary>
    private static double KNearestRadius(Structure s, int k) => Math.Cbrt(3.0 * (k + 1) * s.Volume / (4 * Math.PI * s.AtomCount));

    internal struct Candidate
    {
        public int Index;
        public double Distance;
        public int Sa, Sb, Sc;
    }

    private sealed class BinGrid
    {
        private readonly double[,] _lattice;
        private readonly int _ma, _mb, _mc;
        private readonly double _ta, _tb, _tc, _step;
        private readonly int[] _binStart, _binAtoms, _binOfAtom;
        private readonly double[] _x, _y, _z;
        private readonly double[] _sortedX, _sortedY, _sortedZ; // positions in bin order, for cache-friendly scans
        private readonly double _ax, _ay, _az, _bx, _by, _bz, _cx, _cy, _cz;
        private readonly int[] _wrapShift; // [3 * atom + axis]: lattice translations removed when wrapping into the cell

        /// <param name="searchScale">typical search radius; bins are about half of it, capped to a few bins per atom for memory</param>
        public BinGrid(Structure s, double searchScale)
        {
            _lattice = s.Lattice;
            int n = s.AtomCount;
            double ha = PlaneSpacing(0), hb = PlaneSpacing(1), hc = PlaneSpacing(2);
            double step = Math.Max(searchScale / 2, 1e-3);
            long maxBins = 4L * n + 8;
            while (true)
            {
                _ma = Math.Max(1, (int)Math.Min(int.MaxValue / 4, Math.Floor(ha / step)));
                _mb = Math.Max(1, (int)Math.Min(int.MaxValue / 4, Math.Floor(hb / step)));
                _mc = Math.Max(1, (int)Math.Min(int.MaxValue / 4, Math.Floor(hc / step)));
                if ((long)_ma * _mb * _mc <= maxBins)
                    break;
                step *= 1.25;
            }

            _step = step;
            _ta = ha / _ma;
            _tb = hb / _mb;
            _tc = hc / _mc;

            _x = new double[n];
            _y = new double[n];
            _z = new double[n];
            _binOfAtom = new int[n];
            _wrapShift = new int[3 * n];
            var binCount = new int[_ma * _mb * _mc + 1];
            Span<double> wrapped = stackalloc double[3];
            for (int i = 0; i < n; i++)
            {
                var f = s.FractionalCoordinates[i];
                for (int a = 0; a < 3; a++)
                {
                    double shift = Math.Floor(f[a]);
                    wrapped[a] = f[a] - shift;
                    if (wrapped[a] >= 1)
                    {
                        wrapped[a] = 0;
                        shift += 1;
                    }

                    _wrapShift[3 * i + a] = (int)shift;
                }

                var c = Structure.FractionalToCartesian(_lattice, wrapped);
                (_x[i], _y[i], _z[i]) = (c[0], c[1], c[2]);
                int ia = Math.Min(_ma - 1, (int)(wrapped[0] * _ma));
                int ib = Math.Min(_mb - 1, (int)(wrapped[1] * _mb));
                int ic = Math.Min(_mc - 1, (int)(wrapped[2] * _mc));
                _binOfAtom[i] = (ia * _mb + ib) * _mc + ic;
                binCount[_binOfAtom[i] + 1]++;
            }

            _binStart = binCount;
            for (int b = 1; b < _binStart.Length; b++)
                _binStart[b] += _binStart[b - 1];
            var fill = _binStart[..^1].ToArray();
            _binAtoms = new int[n];
            for (int i = 0; i < n; i++)
                _binAtoms[fill[_binOfAtom[i]]++] = i;
            _sortedX = _binAtoms.Select(i => _x[i]).ToArray();
            _sortedY = _binAtoms.Select(i => _y[i]).ToArray();
            _sortedZ = _binAtoms.Select(i => _z[i]).ToArray();
            (_ax, _ay, _az) = (_lattice[0, 0], _lattice[0, 1], _lattice[0, 2]);
            (_bx, _by, _bz) = (_lattice[1, 0], _lattice[1, 1], _lattice[1, 2]);
            (_cx, _cy, _cz) = (_lattice[2, 0], _lattice[2, 1], _lattice[2, 2]);

            double PlaneSpacing(int axis)
            {
                int u = (axis + 1) % 3, v = (axis + 2) % 3;
                double cx = s.Lattice[u, 1] * s.Lattice[v, 2] - s.Lattice[u, 2] * s.Lattice[v, 1];
                double cy = s.Lattice[u, 2] * s.Lattice[v, 0] - s.Lattice[u, 0] * s.Lattice[v, 2];
                double cz = s.Lattice[u, 0] * s.Lattice[v, 1] - s.Lattice[u, 1] * s.Lattice[v, 0];
                return s.Volume / Math.Sqrt(cx * cx + cy * cy + cz * cz);
            }
        }

        public int WrapShift(int atom, int axis) => _wrapShift[3 * atom + axis];

        /// <summary>
        /// Fills <paramref name="best"/> with up to k nearest neighbours of atom i within the cutoff, sorted by distance;
        /// with <paramref name="keepNearestBeyondCutoff"/> an atom with none inside the cutoff gets its single nearest one.
        /// </summary>
        public int NearestOf(int i, double cutoff, int k, bool keepNearestBeyondCutoff, Candidate[] best)
        {
            // distances are compared squared and rooted once at the end
            int count = 0;
            double cutoffSquared = cutoff * cutoff;
            var nearestBeyond = new Candidate { Index = -1, Distance = double.PositiveInfinity };
            int bin = _binOfAtom[i];
            int ba = bin / (_mb * _mc), bb = bin / _mc % _mb, bc = bin % _mc;
            double px = _x[i], py = _y[i], pz = _z[i];
            int prevA = -1, prevB = -1, prevC = -1;
            for (int ring = 1; ; ring++)
            {
                double covered = ring * _step;
                int na = (int)Math.Ceiling(covered / _ta), nb = (int)Math.Ceiling(covered / _tb), nc = (int)Math.Ceiling(covered / _tc);
                for (int da = -na; da <= na; da++)
                {
                    int wa = FloorDiv(ba + da, _ma, out int sa);
                    double ax = sa * _ax - px, ay = sa * _ay - py, az = sa * _az - pz;
                    for (int db = -nb; db <= nb; db++)
                    {
                        int wb = FloorDiv(bb + db, _mb, out int sb);
                        double abx = ax + sb * _bx, aby = ay + sb * _by, abz = az + sb * _bz;
                        bool innerAB = Math.Abs(da) <= prevA && Math.Abs(db) <= prevB;
                        for (int dc = -nc; dc <= nc; dc++)
                        {
                            if (innerAB && Math.Abs(dc) <= prevC)
                                continue;
                            int wc = FloorDiv(bc + dc, _mc, out int sc);
                            double ox = abx + sc * _cx, oy = aby + sc * _cy, oz = abz + sc * _cz;
                            bool home = sa == 0 && sb == 0 && sc == 0;
                            int target = (wa * _mb + wb) * _mc + wc;
                            for (int p = _binStart[target]; p < _binStart[target + 1]; p++)
                            {
                                double dx = _sortedX[p] + ox, dy = _sortedY[p] + oy, dz = _sortedZ[p] + oz;
                                double d2 = dx * dx + dy * dy + dz * dz;
                                if (d2 <= cutoffSquared)
                                {
                                    if ((count < k || d2 < best[count - 1].Distance) && !(home && _binAtoms[p] == i))
                                        count = Insert(best, count, k, new Candidate { Index = _binAtoms[p], Distance = d2, Sa = sa, Sb = sb, Sc = sc });
                                }
                                else if (d2 < nearestBeyond.Distance)
                                {
                                    nearestBeyond = new Candidate { Index = _binAtoms[p], Distance = d2, Sa = sa, Sb = sb, Sc = sc };
                                }
                            }
                        }
                    }
                }

                (prevA, prevB, prevC) = (na, nb, nc);
                double coveredSquared = covered * covered;
                if ((count == k && best[k - 1].Distance <= coveredSquared) || (covered >= cutoff && (count > 0 || !keepNearestBeyondCutoff)))
                {
                    for (int q = 0; q < count; q++)
                        best[q].Distance = Math.Sqrt(best[q].Distance);
                    return count;
                }

                if (covered >= cutoff && nearestBeyond.Distance <= coveredSquared)
                {
                    best[0] = nearestBeyond;
                    best[0].Distance = Math.Sqrt(nearestBeyond.Distance);
                    return 1;
                }
            }
        }

        private static int FloorDiv(int value, int modulus, out int quotient)
        {
            quotient = value >= 0 ? value / modulus : -((modulus - 1 - value) / modulus);
            return value - quotient * modulus;
        }

        private static int Insert(Candidate[] best, int count, int k, Candidate candidate)
        {
            int position = Math.Min(count, k - 1);
            while (position > 0 && best[position - 1].Distance > candidate.Distance)
            {
                if (position < k)
                    best[position] = best[position - 1];
                position--;
            }

            best[position] = candidate;
            return Math.Min(count + 1, k);
        }
    }
}
