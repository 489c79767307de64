using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace SaGatSr.Kernels.Cpu;

/// <summary>
/// Cache-blocked float32 GEMM (hot methods are marked AggressiveOptimization: under tiered compilation their
/// loops otherwise run unoptimised code for many calls, about ten times slower). op(A) is packed into groups of <see cref="RowTile"/> interleaved rows and op(B)
/// into column panels of two vectors, so the micro-kernel streams both contiguously and keeps a
/// RowTile x (2 vectors) block of C in registers. Work is split by tiles of C and the k loop always runs
/// in the same order, so the result bits do not depend on scheduling.
/// </summary>
internal static unsafe class SimdMatMul
{
    private const int RowTile = 4;
    private const int RowBlock = 64;
    private const int PanelsPerBlock = 8;
    private const int DepthBlock = 256;
    private static int PanelWidth => 2 * Vector<float>.Count;

    public static void Multiply(Work work, float[] a, float[] b, float[] c, int m, int n, int k, bool transposeA, bool transposeB, float beta)
    {
        if (m == 0 || n == 0) return;
        if (k == 0)
        {
            if (beta == 0f) c.AsSpan(0, m * n).Clear();
            return;
        }

        if (n == 1)
        {
            MultiplyVector(work, a, b, c, m, k, transposeA, beta);
            return;
        }

        int panelWidth = PanelWidth;
        int rowGroups = (m + RowTile - 1) / RowTile;
        int panels = (n + panelWidth - 1) / panelWidth;
        float[] packedA = ArrayPool<float>.Shared.Rent(rowGroups * RowTile * k);
        float[] packedB = ArrayPool<float>.Shared.Rent(panels * panelWidth * k);
        try
        {
            PackA(work, a, packedA, m, k, transposeA);
            PackB(work, b, packedB, n, k, transposeB, panelWidth);
            int rowBlocks = (m + RowBlock - 1) / RowBlock;
            int columnBlocks = (panels + PanelsPerBlock - 1) / PanelsPerBlock;
            long costPerTile = (long)Math.Min(m, RowBlock) * Math.Min(n, PanelsPerBlock * panelWidth) * k;
            work.For(rowBlocks * columnBlocks, Work.Grain(costPerTile), [MethodImpl(MethodImplOptions.AggressiveOptimization)] (start, end) =>
            {
                for (int tile = start; tile < end; tile++)
                    ComputeTile(packedA, packedB, c, m, n, k, beta, tile / columnBlocks, tile % columnBlocks, panelWidth);
            });
        }
        finally
        {
            ArrayPool<float>.Shared.Return(packedA);
            ArrayPool<float>.Shared.Return(packedB);
        }
    }

    /// <summary>Rows of the k loop per partial sum of the transposed matrix-vector product.</summary>
    private const int VectorDepthBlock = 4096;

    /// <summary>
    /// op(A) times one column (B is the same k values whether stored [k,1] or [1,k]): GEMM would pack all of A and pad
    /// B to a full panel. A plain A takes one dot product per row; a transposed A is summed over fixed blocks of its
    /// rows whose partials are added in block order, so the bits do not depend on the thread count.
    /// </summary>
    private static void MultiplyVector(Work work, float[] a, float[] b, float[] c, int m, int k, bool transposeA, float beta)
    {
        if (!transposeA)
        {
            work.ForCost(m, k, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (start, end) =>
            {
                int width = Vector<float>.Count;
                for (int i = start; i < end; i++)
                {
                    var sum = Vector<float>.Zero;
                    int p = 0;
                    for (; p <= k - width; p += width) sum += new Vector<float>(a, i * k + p) * new Vector<float>(b, p);
                    float dot = Vector.Sum(sum);
                    for (; p < k; p++) dot += a[i * k + p] * b[p];
                    c[i] = beta == 0f ? dot : beta * c[i] + dot;
                }
            });
            return;
        }

        int blocks = (k + VectorDepthBlock - 1) / VectorDepthBlock;
        float[] partials = ArrayPool<float>.Shared.Rent(blocks * m);
        try
        {
            work.For(blocks, 1, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (start, end) =>
            {
                for (int block = start; block < end; block++)
                {
                    var sum = partials.AsSpan(block * m, m);
                    sum.Clear();
                    for (int p = block * VectorDepthBlock; p < Math.Min(k, (block + 1) * VectorDepthBlock); p++)
                        VectorOps.AddScaled(a.AsSpan(p * m, m), b[p], sum);
                }
            });
            var result = c.AsSpan(0, m);
            if (beta == 0f) partials.AsSpan(0, m).CopyTo(result);
            else
            {
                System.Numerics.Tensors.TensorPrimitives.Multiply(result, beta, result);
                System.Numerics.Tensors.TensorPrimitives.Add(result, partials.AsSpan(0, m), result);
            }

            for (int block = 1; block < blocks; block++)
                System.Numerics.Tensors.TensorPrimitives.Add(result, partials.AsSpan(block * m, m), result);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(partials);
        }
    }

    /// <summary>packedA[(g * k + p) * RowTile + r] = op(A)[g * RowTile + r, p], zero past the last row.</summary>
    private static void PackA(Work work, float[] a, float[] packed, int m, int k, bool transpose)
    {
        int rowGroups = (m + RowTile - 1) / RowTile;
        work.ForCost(rowGroups, (long)k * RowTile, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (start, end) =>
        {
            for (int g = start; g < end; g++)
            for (int r = 0; r < RowTile; r++)
            {
                int row = g * RowTile + r;
                int to = g * k * RowTile + r;
                if (row >= m)
                {
                    for (int p = 0; p < k; p++) packed[to + p * RowTile] = 0f;
                }
                else if (transpose)
                {
                    for (int p = 0; p < k; p++) packed[to + p * RowTile] = a[p * m + row];
                }
                else
                {
                    int from = row * k;
                    for (int p = 0; p < k; p++) packed[to + p * RowTile] = a[from + p];
                }
            }
        });
    }

    /// <summary>packedB[(panel * k + p) * width + j] = op(B)[p, panel * width + j], zero past the last column.</summary>
    private static void PackB(Work work, float[] b, float[] packed, int n, int k, bool transpose, int width)
    {
        int panels = (n + width - 1) / width;
        work.ForCost(panels, (long)k * width, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (start, end) =>
        {
            for (int panel = start; panel < end; panel++)
            {
                int column0 = panel * width, valid = Math.Min(width, n - column0);
                for (int p = 0; p < k; p++)
                {
                    var to = packed.AsSpan((panel * k + p) * width, width);
                    if (transpose)
                        for (int j = 0; j < valid; j++) to[j] = b[(column0 + j) * k + p];
                    else
                        b.AsSpan(p * n + column0, valid).CopyTo(to);
                    to[valid..].Clear();
                }
            }
        });
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ComputeTile(float[] packedA, float[] packedB, float[] c, int m, int n, int k, float beta,
        int rowBlock, int columnBlock, int panelWidth)
    {
        int firstGroup = rowBlock * RowBlock / RowTile;
        int lastGroup = Math.Min((m + RowTile - 1) / RowTile, (rowBlock + 1) * RowBlock / RowTile);
        int firstPanel = columnBlock * PanelsPerBlock;
        int lastPanel = Math.Min((n + panelWidth - 1) / panelWidth, firstPanel + PanelsPerBlock);
        float* edge = stackalloc float[RowTile * panelWidth];
        fixed (float* aBase = packedA, bBase = packedB, cBase = c)
        {
            for (int p0 = 0; p0 < k; p0 += DepthBlock)
            {
                int p1 = Math.Min(k, p0 + DepthBlock);
                bool load = p0 > 0 || beta != 0f;
                for (int panel = firstPanel; panel < lastPanel; panel++)
                {
                    float* bPanel = bBase + ((long)panel * k + p0) * panelWidth;
                    int column0 = panel * panelWidth, columns = Math.Min(panelWidth, n - column0);
                    for (int g = firstGroup; g < lastGroup; g++)
                    {
                        float* aGroup = aBase + ((long)g * k + p0) * RowTile;
                        int row0 = g * RowTile, rows = Math.Min(RowTile, m - row0);
                        if (rows == RowTile && columns == panelWidth)
                        {
                            Kernel(aGroup, bPanel, p1 - p0, cBase + (long)row0 * n + column0, n, load);
                            continue;
                        }

                        // Ragged edge: run the full kernel on a scratch tile and copy back only the valid part.
                        for (int r = 0; r < RowTile; r++)
                        for (int j = 0; j < panelWidth; j++)
                            edge[r * panelWidth + j] = load && r < rows && j < columns ? c[(row0 + r) * n + column0 + j] : 0f;
                        Kernel(aGroup, bPanel, p1 - p0, edge, panelWidth, load);
                        for (int r = 0; r < rows; r++)
                        for (int j = 0; j < columns; j++)
                            c[(row0 + r) * n + column0 + j] = edge[r * panelWidth + j];
                    }
                }
            }
        }
    }

    /// <summary>a * b + c, with the x86 FMA instruction when Vector&lt;float&gt; is a 256-bit register.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<float> MultiplyAdd(Vector<float> a, Vector<float> b, Vector<float> c) =>
        Fma.IsSupported && Vector<float>.Count == 8
            ? Fma.MultiplyAdd(a.AsVector256(), b.AsVector256(), c.AsVector256()).AsVector()
            : Vector.FusedMultiplyAdd(a, b, c);

    /// <summary>C[0..4, 0..2W] (+)= A-group * B-panel over <paramref name="depth"/> steps.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel(float* a, float* b, int depth, float* c, int ldc, bool load)
    {
        int w = Vector<float>.Count;
        Vector<float> c00, c01, c10, c11, c20, c21, c30, c31;
        if (load)
        {
            c00 = *(Vector<float>*)c;
            c01 = *(Vector<float>*)(c + w);
            c10 = *(Vector<float>*)(c + ldc);
            c11 = *(Vector<float>*)(c + ldc + w);
            c20 = *(Vector<float>*)(c + 2 * ldc);
            c21 = *(Vector<float>*)(c + 2 * ldc + w);
            c30 = *(Vector<float>*)(c + 3 * ldc);
            c31 = *(Vector<float>*)(c + 3 * ldc + w);
        }
        else
        {
            c00 = c01 = c10 = c11 = c20 = c21 = c30 = c31 = Vector<float>.Zero;
        }

        for (int p = 0; p < depth; p++)
        {
            var b0 = *(Vector<float>*)b;
            var b1 = *(Vector<float>*)(b + w);
            var a0 = new Vector<float>(a[0]);
            c00 = MultiplyAdd(a0, b0, c00);
            c01 = MultiplyAdd(a0, b1, c01);
            var a1 = new Vector<float>(a[1]);
            c10 = MultiplyAdd(a1, b0, c10);
            c11 = MultiplyAdd(a1, b1, c11);
            var a2 = new Vector<float>(a[2]);
            c20 = MultiplyAdd(a2, b0, c20);
            c21 = MultiplyAdd(a2, b1, c21);
            var a3 = new Vector<float>(a[3]);
            c30 = MultiplyAdd(a3, b0, c30);
            c31 = MultiplyAdd(a3, b1, c31);
            a += RowTile;
            b += 2 * w;
        }

        *(Vector<float>*)c = c00;
        *(Vector<float>*)(c + w) = c01;
        *(Vector<float>*)(c + ldc) = c10;
        *(Vector<float>*)(c + ldc + w) = c11;
        *(Vector<float>*)(c + 2 * ldc) = c20;
        *(Vector<float>*)(c + 2 * ldc + w) = c21;
        *(Vector<float>*)(c + 3 * ldc) = c30;
        *(Vector<float>*)(c + 3 * ldc + w) = c31;
    }
}
