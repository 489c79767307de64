using SaGatSr.Kernels;

namespace SaGatSr.Autodiff;

/// <summary>
/// Records ops for reverse-mode differentiation and owns the tensors created while it is current. Tapes nest
/// (thread-static stack); each must be disposed on the thread that created it, innermost first. Disposing frees every
/// tensor created under this tape except parameters and kept tensors, and all saved backward state.
/// </summary>
public sealed class Tape : IDisposable
{
    [ThreadStatic] private static Tape? current;

    private readonly Tape? previous;
    private readonly List<Tensor> created = [];
    private readonly List<Node> nodes = [];
    private readonly List<IDisposable> resources = [];
    private bool disposed;

    public Tape(bool recordGradients = true)
    {
        RecordsGradients = recordGradients;
        previous = current;
        current = this;
    }

    public static Tape? Current => current;

    /// <summary>False for inference tapes: ops under them keep no backward information at all.</summary>
    public bool RecordsGradients { get; }

    public static Tape NoGrad() => new(recordGradients: false);

    /// <summary>
    /// Adds d(loss)/d(x) into the Grad of every RequiresGrad leaf the loss depends on. Gradients of intermediate
    /// tensors are freed as soon as they have been propagated.
    /// </summary>
    public void Backward(Tensor scalarLoss)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        if (!RecordsGradients)
            throw new InvalidOperationException("Backward on a no-grad tape: nothing was recorded (create the tape with recordGradients: true).");
        if (scalarLoss.Length != 1)
            throw new ArgumentException($"Backward needs a scalar loss (one element); got {scalarLoss.Describe()}.", nameof(scalarLoss));
        if (!scalarLoss.RequiresGrad)
            throw new InvalidOperationException(
                $"The loss {scalarLoss.Describe()} does not depend on any tensor that requires a gradient (were the ops run under a recording Tape, with Parameters as inputs?).");
        scalarLoss.EnsureAlive();

        var backend = scalarLoss.Backend;
        using (var one = backend.Allocate(1))
        {
            backend.Fill(one, 1);
            Autograd.AccumulateGrad(scalarLoss, one);
        }

        var order = TopologicalOrder(scalarLoss);
        for (int i = order.Count - 1; i >= 0; i--)
        {
            var node = order[i];
            var output = node.Output;
            if (output.Grad is null) continue;
            foreach (var input in node.Inputs)
                if (input.IsDisposed)
                    throw new InvalidOperationException(
                        $"Backward needs {input.Describe()}, an input of {output.Describe()}, but it was already disposed (by an inner tape or by hand).");
            node.Backward(output.Grad);
            output.Grad.Dispose();
            output.Grad = null;
        }
    }

    /// <summary>Excludes <paramref name="tensor"/> from being freed by any tape; the caller now owns it.</summary>
    public Tensor Keep(Tensor tensor)
    {
        tensor.OwnerTape = null;
        return tensor;
    }

    public void Dispose()
    {
        if (disposed) return;
        if (current != this)
            throw new InvalidOperationException("Tapes must be disposed innermost first, on the thread that created them.");
        disposed = true;
        current = previous;
        foreach (var node in nodes) node.ReleaseSaved();
        nodes.Clear();
        foreach (var resource in resources) resource.Dispose();
        resources.Clear();
        foreach (var tensor in created)
        {
            if (tensor.OwnerTape == this) tensor.Dispose();
            else if (tensor.Creator is not null)
            {
                // Kept results become constants: their inputs are gone, so no gradient can flow through them.
                tensor.Creator = null;
                tensor.RequiresGrad = false;
            }
        }

        created.Clear();
    }

    internal void Register(Tensor tensor)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        created.Add(tensor);
        tensor.OwnerTape = this;
    }

    internal void Register(Node node) => nodes.Add(node);

    /// <summary>Frees <paramref name="resource"/> with this tape (helpers that recorded backward steps may still use it).</summary>
    internal void Own(IDisposable resource)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        resources.Add(resource);
    }

    private static List<Node> TopologicalOrder(Tensor root)
    {
        var order = new List<Node>();
        var visited = new HashSet<Node>(ReferenceEqualityComparer.Instance);
        var stack = new Stack<(Node Node, int NextInput)>();
        if (root.Creator is { } start)
        {
            visited.Add(start);
            stack.Push((start, 0));
        }

        while (stack.Count > 0)
        {
            var (node, next) = stack.Pop();
            if (next < node.Inputs.Length)
            {
                stack.Push((node, next + 1));
                if (node.Inputs[next].Creator is { } child && visited.Add(child)) stack.Push((child, 0));
            }
            else order.Add(node);
        }

        return order;
    }
}

/// <summary>One recorded op: how to push its output's gradient to its inputs, and the buffers it saved for that.</summary>
internal sealed class Node(Tensor output, Tensor[] inputs, Action<DeviceBuffer> backward, DeviceBuffer[] saved)
{
    public Tensor Output { get; } = output;

    public Tensor[] Inputs { get; } = inputs;

    public Action<DeviceBuffer> Backward { get; } = backward;

    public void ReleaseSaved()
    {
        foreach (var buffer in saved) buffer.Dispose();
    }
}

/// <summary>Recording and gradient-accumulation helpers shared by the ops.</summary>
internal static class Autograd
{
    /// <summary>
    /// Records <paramref name="output"/>'s backward step when a recording tape is current and any input needs a
    /// gradient; otherwise frees <paramref name="saved"/> at once.
    /// </summary>
    public static void Record(Tensor output, Tensor?[] inputs, Action<DeviceBuffer> backward, params DeviceBuffer[] saved)
    {
        var tape = Tape.Current;
        var present = inputs.OfType<Tensor>().ToArray();
        if (tape is { RecordsGradients: true } && present.Any(t => t.RequiresGrad))
        {
            output.RequiresGrad = true;
            var node = new Node(output, present.Where(t => t.RequiresGrad).ToArray(), backward, saved);
            output.Creator = node;
            tape.Register(node);
        }
        else
        {
            foreach (var buffer in saved) buffer.Dispose();
        }
    }

    /// <summary>Frees <paramref name="resource"/> with the current tape, or now when there is none (nothing was recorded).</summary>
    public static void DisposeWithTape(IDisposable resource)
    {
        if (Tape.Current is { } tape) tape.Own(resource);
        else resource.Dispose();
    }

    /// <summary>
    /// Frees the intermediate results of a composite op when no tape is current; under a tape they stay alive for the
    /// backward pass and the tape frees them.
    /// </summary>
    public static void DisposeIntermediates(params Tensor[] intermediates)
    {
        if (Tape.Current is not null) return;
        foreach (var tensor in intermediates) tensor.Dispose();
    }

    /// <summary>grad(t) += g.</summary>
    public static void AccumulateGrad(Tensor t, DeviceBuffer g) => AccumulateGrad(t, g, 1f);

    /// <summary>grad(t) += alpha * g.</summary>
    public static void AccumulateGrad(Tensor t, DeviceBuffer g, float alpha)
    {
        var grad = t.GradBuffer(out bool fresh);
        if (fresh && alpha == 1f) t.Backend.Copy(g, grad);
        else t.Backend.Axpby(alpha, g, 1f, grad);
    }

    /// <summary>
    /// grad(t) += the value <paramref name="compute"/> writes (for kernels that can only overwrite): straight into
    /// a fresh gradient, else through a temporary.
    /// </summary>
    public static void AccumulateGrad(Tensor t, Action<DeviceBuffer> compute)
    {
        var grad = t.GradBuffer(out bool fresh);
        if (fresh)
        {
            compute(grad);
            return;
        }

        using var temporary = t.Backend.Allocate(t.Length);
        compute(temporary);
        t.Backend.Axpby(1f, temporary, 1f, grad);
    }

    /// <summary>A buffer of <paramref name="length"/> copies of <paramref name="value"/>.</summary>
    public static DeviceBuffer Constant(IComputeBackend backend, int length, double value)
    {
        var buffer = backend.Allocate(length);
        backend.Fill(buffer, value);
        return buffer;
    }

    /// <summary>y = x * factor for a buffer of <paramref name="length"/>, exact in float64 (unlike the float alpha of Scale).</summary>
    public static void MultiplyByConstant(IComputeBackend backend, DeviceBuffer x, double factor, DeviceBuffer y, int length,
        bool accumulate = false)
    {
        using var constant = Constant(backend, 1, factor);
        backend.MatMul(x, constant, y, length, 1, 1, beta: accumulate ? 1f : 0f);
    }
}
