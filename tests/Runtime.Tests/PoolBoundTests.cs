using SourceGenDO.Pooling;
using SourceGenDO.Serialization;
using SourceGenDO.Transport;

namespace SourceGenDO.Runtime.Tests;

/// <summary>Tests that measure the managed heap run alone: other tests allocating meanwhile would show up in their figures.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class HeapMeasuringCollection
{
    public const string Name = "Measures the heap";
}

/// <summary>
/// What is pooled drops its capacity past a bound: received frames that carried many entries are not
/// kept for reuse, payload copies over 1 MiB are not pooled, and an encoder shrinks after a large frame.
/// </summary>
[Collection(HeapMeasuringCollection.Name)]
public sealed class PoolBoundTests
{
    [Fact]
    public void ReceivedFramesOfManyEntriesAreNotKeptOnceReleased()
    {
        // Frames of 60,000 calls, all out at once and then released, as on a server with many streams:
        // kept for reuse, each would hold 60,000 entries' room (2.4 MB) for good.
        var payload = FrameCodecLimitTests.EmptyCalls(60_000);
        AssertHeapBackAfterReleasing(() => FrameCodec.DecodeClientFrame(payload), frame => frame.Release());
    }

    [Fact]
    public void AReleasedFrameOfManyResultsIsNotKeptWithItsRoom()
    {
        // The client's side: many frames of 60,000 empty results (4 bytes each: key, length 2, call id).
        var writer = new WireWriter();
        for (var i = 0; i < 60_000; i++)
        {
            var start = writer.BeginMessage(1);
            writer.WriteUInt64(1, 1);
            writer.EndMessage(start);
        }
        var payload = writer.ToArray();
        AssertHeapBackAfterReleasing(() => FrameCodec.DecodeServerFrame(payload, payload.Length), frame => frame.Release());
    }

    /// <summary>Takes 40 frames at once, as many streams would, releases them all, and checks the heap is back within 16 MiB.</summary>
    private static void AssertHeapBackAfterReleasing<TFrame>(Func<TFrame> decode, Action<TFrame> release)
    {
        var before = GC.GetTotalMemory(forceFullCollection: true);
        var frames = Enumerable.Range(0, 40).Select(_ => decode()).ToList();
        foreach (var frame in frames)
        {
            release(frame);
        }
        frames.Clear();
        var after = GC.GetTotalMemory(forceFullCollection: true);
        Assert.True(after - before < 16 * 1024 * 1024, $"The heap grew by {(after - before) / 1024 / 1024} MiB after the frames were released.");
    }

    [Fact]
    public void PayloadCopiesOverTheBoundAreNotPooled()
    {
        // The shared pool keeps what it is given; 2 MB copies must go back to the GC instead.
        var bytes = new byte[2_000_000];
        var before = GC.GetTotalMemory(forceFullCollection: true);
        var copies = Enumerable.Range(0, 40).Select(_ => PooledBytes.Copy(bytes)).ToList();
        foreach (var copy in copies)
        {
            PooledBytes.Return(copy);
        }
        copies.Clear();
        var after = GC.GetTotalMemory(forceFullCollection: true);
        Assert.True(after - before < 16 * 1024 * 1024, $"The heap grew by {(after - before) / 1024 / 1024} MiB after the copies were returned.");
    }

    [Fact]
    public void AnEncoderGoesBackToItsSmallBufferAfterALargeFrame()
    {
        var writer = new WireWriter(4096);
        writer.WriteBytes(1, new byte[30_000_000]);
        var before = GC.GetTotalMemory(forceFullCollection: true);
        writer.ResetAndShrink(1024 * 1024, 4096);
        var after = GC.GetTotalMemory(forceFullCollection: true);
        Assert.True(before - after > 25_000_000, $"The heap shrank by only {(before - after) / 1024 / 1024} MiB.");
        writer.WriteBytes(1, new byte[100]);
        Assert.Equal(102, writer.Length);
    }
}
