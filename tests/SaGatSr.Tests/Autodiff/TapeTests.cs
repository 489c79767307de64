using SaGatSr.Autodiff;
using SaGatSr.Kernels.Reference;

namespace SaGatSr.Tests.Autodiff;

public class TapeTests
{
    [Test]
    public void DisposingTheTapeFreesEverythingButParametersGradientsAndKeptTensors()
    {
        using var backend = new TrackingBackend();
        using var segments = Segments.FromOffsets(backend, [0, 2, 3]);
        using var sources = IndexTensor.FromArray(backend, [1, 0, 1]);
        var rng = new Random(1);
        using var weight = Tensor.Parameter(backend, Init.GlorotUniform(rng, 3, 4, 12), 3, 4);
        using var gamma = Tensor.Parameter(backend, Init.Constant(1, 4), 4);
        using var beta = Tensor.Parameter(backend, Init.Constant(0, 4), 4);
        int before = backend.LiveBuffers.Count;
        Tensor kept;
        Tensor intermediate;
        using (var tape = new Tape())
        {
            var x = Tensor.FromArray(backend, Init.Uniform(rng, 1, 6), 2, 3);
            intermediate = Ops.Linear(x, weight, null);
            var scores = Ops.SliceColumns(Ops.Gather(intermediate, sources), 0, 2);
            var attention = Ops.SegmentSoftmax(scores, segments);
            var aggregated = Ops.SegmentWeightedGatherSum(attention, intermediate, sources, segments, 2);
            var normalized = Ops.LayerNorm(Ops.SoftmaxRows(aggregated), gamma, beta);
            var loss = Ops.MseLoss(normalized, Tensor.Zeros(backend, 2, 4));
            kept = tape.Keep(Ops.Mean(normalized));
            tape.Backward(loss);
            Assert.That(intermediate.Grad, Is.Null, "intermediate gradients are freed during backward");
        }

        Assert.Multiple(() =>
        {
            Assert.That(intermediate.IsDisposed, Is.True);
            Assert.That(kept.IsDisposed, Is.False);
            Assert.That(kept.RequiresGrad, Is.False, "a kept result is detached from the freed graph");
            Assert.That(weight.Grad, Is.Not.Null);
            Assert.That(gamma.Grad, Is.Not.Null);
            Assert.That(beta.Grad, Is.Not.Null);
        });
        // Live now: what existed before, three parameter gradients and the kept result.
        var live = backend.LiveBuffers;
        Assert.That(live, Has.Count.EqualTo(before + 4));
        Assert.That(live, Does.Contain(kept.Data).And.Contain(weight.Grad).And.Contain(gamma.Grad).And.Contain(beta.Grad));
        Assert.That(backend.AllocationCount, Is.GreaterThan(before + 20), "the test exercised many temporary buffers");
        kept.Dispose();
    }

    [Test]
    public void NoGradTapeRecordsNothingAndStillFreesResults()
    {
        using var backend = new TrackingBackend();
        using var w = Tensor.Parameter(backend, [1f, 2f, 3f, 4f], 2, 2);
        int before = backend.LiveBuffers.Count;
        Tensor y;
        using (var tape = Tape.NoGrad())
        {
            y = Ops.Tanh(Ops.MatMul(w, w));
            var loss = Ops.Sum(y);
            Assert.That(y.RequiresGrad, Is.False);
            Assert.That(y.Creator, Is.Null);
            Assert.That(() => tape.Backward(loss), Throws.InvalidOperationException.With.Message.Contains("no-grad"));
        }

        Assert.That(y.IsDisposed, Is.True);
        Assert.That(backend.LiveBuffers, Has.Count.EqualTo(before));
        Assert.That(w.Grad, Is.Null);
    }

    [Test]
    public void OpsWithoutATapeWorkAndRecordNothing()
    {
        using var backend = new ReferenceBackend();
        using var w = Tensor.Parameter(backend, [1f, -2f], 2);
        using var y = Ops.Relu(w);
        Assert.That(Tape.Current, Is.Null);
        Assert.That(y.RequiresGrad, Is.False);
        Assert.That(y.ToArray(), Is.EqualTo(new[] { 1f, 0f }));
    }

    [Test]
    public void CompositeOpsWithoutATapeLeaveOnlyTheirResult()
    {
        using var backend = new TrackingBackend();
        using var x = Tensor.Parameter(backend, [1f, 2f, 3f, 4f, 5f, 6f], 2, 3);
        using var gate = Tensor.Parameter(backend, [2f], 1);
        using var gamma = Tensor.FromArray(backend, [1f, 1f, 1f], 3);
        using var beta = Tensor.Zeros(backend, 3);
        int before = backend.LiveBuffers.Count;
        using (Ops.SoftmaxRows(x))
        using (Ops.MulScalar(x, gate))
        using (Ops.LayerNorm(x, gamma, beta))
            Assert.That(backend.LiveBuffers, Has.Count.EqualTo(before + 3));
        Assert.That(backend.LiveBuffers, Has.Count.EqualTo(before));
    }

    [Test]
    public void InputsThatNeedNoGradientRecordNothing()
    {
        using var backend = new ReferenceBackend();
        using var tape = new Tape();
        var x = Tensor.FromArray(backend, [1f, 2f], 2);
        var y = Ops.Exp(x);
        Assert.That(y.RequiresGrad, Is.False);
        Assert.That(() => tape.Backward(Ops.Sum(y)), Throws.InvalidOperationException.With.Message.Contains("does not depend"));
    }

    [Test]
    public void GradientsAccumulateOverUsesAndOverBackwardCalls()
    {
        using var backend = new ReferenceBackend();
        using var x = Tensor.Parameter(backend, [3.0, -1.0], 2);
        using (var tape = new Tape())
        {
            // loss = sum(x*x + 2x) -> d/dx = 2x + 2
            var loss = Ops.Sum(Ops.Add(Ops.Mul(x, x), Ops.Scale(x, 2)));
            tape.Backward(loss);
            Assert.That(x.GradToDoubleArray(), Is.EqualTo(new[] { 8.0, 0.0 }));
            tape.Backward(loss);
        }

        Assert.That(x.GradToDoubleArray(), Is.EqualTo(new[] { 16.0, 0.0 }));
        x.ZeroGrad();
        Assert.That(x.GradToDoubleArray(), Is.EqualTo(new[] { 0.0, 0.0 }));
    }

    [Test]
    public void NestedTapesRestoreTheOuterOneAndBackwardFollowsTheGraph()
    {
        using var backend = new ReferenceBackend();
        using var x = Tensor.Parameter(backend, [2.0], 1);
        using var outer = new Tape();
        var y = Ops.Square(x);
        using (var inner = new Tape())
        {
            Assert.That(Tape.Current, Is.SameAs(inner));
            var z = inner.Keep(Ops.Exp(x));
            Assert.That(z.RequiresGrad, Is.True);
        }

        Assert.That(Tape.Current, Is.SameAs(outer));
        outer.Backward(y);
        Assert.That(x.GradToDoubleArray()![0], Is.EqualTo(4.0));
    }

    [Test]
    public void BackwardThroughATensorFreedByAnInnerTapeExplains()
    {
        using var backend = new ReferenceBackend();
        using var x = Tensor.Parameter(backend, [2.0], 1);
        using var outer = new Tape();
        Tensor squared;
        using (new Tape()) squared = Ops.Square(x);
        Assert.That(() => Ops.Exp(squared), Throws.InstanceOf<ObjectDisposedException>().With.Message.Contains("Keep"));
    }

    [Test]
    public void BackwardNeedsAScalar()
    {
        using var backend = new ReferenceBackend();
        using var x = Tensor.Parameter(backend, [2.0, 3.0], 2);
        using var tape = new Tape();
        Assert.That(() => tape.Backward(Ops.Square(x)), Throws.ArgumentException.With.Message.Contains("scalar"));
    }
}
