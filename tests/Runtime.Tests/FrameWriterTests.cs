using System.Collections.Concurrent;
using SourceGenDO.EndToEnd.Tests;
using SourceGenDO.Transport;

namespace SourceGenDO.Runtime.Tests;

public sealed class FrameWriterTests
{
    /// <summary>A format whose frames are lists of ints, writes recorded, at most <c>max</c> items a frame.</summary>
    private sealed class ListFormat(int max, Func<List<int>, Task>? write = null) : FrameWriter<int, List<int>>.IFrameFormat
    {
        private List<int>? _lastWritten;

        public ConcurrentQueue<List<int>> Written { get; } = new();

        public Exception? Failure { get; private set; }

        public List<int> NewFrame() => [];

        public bool TryAdd(List<int> frame, int item)
        {
            if (frame.Count >= max)
            {
                return false;
            }
            frame.Add(item);
            return true;
        }

        public async Task WriteAsync(List<int> frame)
        {
            if (write is not null)
            {
                await write(frame);
            }
            Written.Enqueue(frame);
            _lastWritten = frame;
        }

        public void OnWriteFailed(Exception exception) => Failure = exception;

        /// <summary>Frames reported written, in order: each after its write completed.</summary>
        public ConcurrentQueue<List<int>> Acknowledged { get; } = new();

        public void OnWritten(List<int> frame)
        {
            Assert.Same(_lastWritten, frame);
            Acknowledged.Enqueue(frame);
        }

        public bool ExpectsMore(int queued) => false;
    }

    [Fact]
    public async Task ItemsFromManyThreadsAreWrittenOncePerItemAndInQueueOrderPerThread()
    {
        var format = new ListFormat(max: 7, write: async _ => await Task.Yield());
        var writer = new FrameWriter<int, List<int>>(format);
        await Task.WhenAll(Enumerable.Range(0, 4).Select(thread => Task.Run(() =>
        {
            for (var i = 0; i < 1_000; i++)
            {
                writer.Enqueue(thread * 10_000 + i);
            }
        })));
        await writer.WhenFinished();
        var written = format.Written.SelectMany(frame => frame).ToList();
        Assert.Equal(4_000, written.Count);
        Assert.Equal(format.Written, format.Acknowledged);
        Assert.All(format.Written, frame => Assert.InRange(frame.Count, 1, 7));
        for (var thread = 0; thread < 4; thread++)
        {
            var mine = written.Where(item => item / 10_000 == thread).ToList();
            Assert.Equal(Enumerable.Range(thread * 10_000, 1_000), mine);
        }
    }

    [Fact]
    public async Task ItemsQueuedWhileHeldGoOutTogetherInOneFrame()
    {
        var format = new ListFormat(max: 100);
        var writer = new FrameWriter<int, List<int>>(format);
        var generation = writer.Hold();
        for (var i = 0; i < 10; i++)
        {
            writer.Enqueue(i);
        }
        Assert.Empty(format.Written);
        writer.Release(generation);
        await writer.WhenFinished();
        Assert.Equal([Enumerable.Range(0, 10).ToList()], format.Written);
    }

    [Fact]
    public async Task AHoldOfManyWritesOnlyAtItsLastRelease()
    {
        var format = new ListFormat(max: 100);
        var writer = new FrameWriter<int, List<int>>(format);
        var generation = writer.Hold(3);
        writer.Enqueue(1);
        writer.Release(generation);
        writer.Enqueue(2);
        writer.Release(generation);
        Assert.Empty(format.Written);
        Assert.True(writer.IsHeld);
        writer.Enqueue(3);
        writer.Release(generation);
        await writer.WhenFinished();
        Assert.Equal([[1, 2, 3]], format.Written);
    }

    [Fact]
    public async Task WhatHoldsForOthersThatNeverComeBackHeldIsWrittenAllTheSame()
    {
        var format = new ListFormat(max: 100);
        var writer = new FrameWriter<int, List<int>>(format);
        // Two holders: one releases, the other never comes back.
        var generation = writer.HoldForOthers(2);
        writer.Enqueue(1);
        writer.Release(generation);
        await Eventually.True(() => !format.Written.IsEmpty, "the held item is written");
        Assert.Equal([[1]], format.Written);
    }

    [Fact]
    public async Task PlainHoldsDoNotEndOnTheirOwn()
    {
        var format = new ListFormat(max: 100);
        var writer = new FrameWriter<int, List<int>>(format);
        var generation = writer.Hold();
        writer.Enqueue(1);
        await Task.Delay(50);
        Assert.Empty(format.Written);
        writer.Release(generation);
        await writer.WhenFinished();
        Assert.Equal([[1]], format.Written);
    }

    [Fact]
    public async Task AFailedWriteClosesTheWriterAndReportsOnce()
    {
        var format = new ListFormat(max: 100, write: _ => throw new IOException("gone"));
        var writer = new FrameWriter<int, List<int>>(format);
        writer.Enqueue(1);
        await writer.WhenFinished();
        Assert.IsType<IOException>(format.Failure);
        writer.Enqueue(2);
        Assert.Empty(format.Written);
    }

    [Fact]
    public void AnItemQueuedJustAsTheWriterStopsIsStillWritten()
    {
        // Ping-pong: each item is queued the moment the previous one is written, which is when the writer
        // is about to find its queue empty and stop. A lost wake-up leaves an item unwritten for good.
        using var written = new SemaphoreSlim(0);
        var format = new ListFormat(max: 100, write: _ =>
        {
            written.Release();
            return Task.CompletedTask;
        });
        var writer = new FrameWriter<int, List<int>>(format);
        for (var i = 0; i < 300_000; i++)
        {
            writer.Enqueue(i);
            Assert.True(written.Wait(TimeSpan.FromSeconds(10)), $"Item {i} was never written.");
        }
    }
}
