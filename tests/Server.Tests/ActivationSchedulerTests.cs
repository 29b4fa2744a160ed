using Microsoft.Extensions.Logging.Abstractions;
using SourceGenDO.Server.Execution;

namespace SourceGenDO.Server.Tests;

public sealed class ActivationSchedulerTests
{
    [Fact]
    public void AnItemPostedJustAsTheLoopStopsStillRuns()
    {
        // Ping-pong: each item is posted the moment the previous one runs, which is when the loop is about
        // to find its queue empty and stop. A lost wake-up leaves an item, and its object, stuck for good.
        var scheduler = new ActivationScheduler(NullLogger.Instance);
        using var ran = new SemaphoreSlim(0);
        for (var i = 0; i < 300_000; i++)
        {
            scheduler.Post(static state =>
            {
                ((SemaphoreSlim)state!).Release();
                // Still busy briefly after waking the test, so the next post lands while the loop stops.
                Thread.SpinWait(50);
            }, ran);
            Assert.True(ran.Wait(TimeSpan.FromSeconds(10)), $"Item {i} never ran.");
        }
    }

    [Fact]
    public async Task ItemsRunOneAtATimeInPostOrderWithTheSchedulerAsContext()
    {
        var scheduler = new ActivationScheduler(NullLogger.Instance);
        var order = new List<int>();
        var running = 0;
        var overlapped = false;
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await Task.WhenAll(Enumerable.Range(0, 4).Select(thread => Task.Run(() =>
        {
            for (var i = 0; i < 1_000; i++)
            {
                var value = thread * 10_000 + i;
                scheduler.Post(_ =>
                {
                    overlapped |= Interlocked.Increment(ref running) > 1;
                    Assert.Same(scheduler, SynchronizationContext.Current);
                    order.Add(value);
                    Interlocked.Decrement(ref running);
                    if (order.Count == 4_000)
                    {
                        done.TrySetResult();
                    }
                }, null);
            }
        })));
        await done.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.False(overlapped);
        for (var thread = 0; thread < 4; thread++)
        {
            Assert.Equal(Enumerable.Range(thread * 10_000, 1_000), order.Where(value => value / 10_000 == thread));
        }
    }
}
