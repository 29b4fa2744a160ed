using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using SourceGenDO.Transport;

namespace SourceGenDO.Server.Execution;

/// <summary>
/// Runs one object instance's work items one after another on the thread pool, never two at once. It is
/// the instance's <see cref="SynchronizationContext"/> while its code runs, so continuations after
/// <c>await</c> come back here too: a single-threaded event loop without a dedicated thread.
/// </summary>
internal sealed class ActivationScheduler : SynchronizationContext, IThreadPoolWorkItem
{
    // After this many items the loop yields the thread, so one busy object cannot starve the pool.
    private const int ItemsPerTurn = 128;

    private readonly ConcurrentQueue<WorkItem> _queue = new();
    private readonly ILogger _logger;
    private int _scheduled;

    public ActivationScheduler(ILogger logger) => _logger = logger;

    public override void Post(SendOrPostCallback callback, object? state)
    {
        _queue.Enqueue(new WorkItem(callback, state));
        if (Interlocked.CompareExchange(ref _scheduled, 1, 0) == 0)
        {
            ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
        }
    }

    public override void Send(SendOrPostCallback callback, object? state) =>
        throw new NotSupportedException("Durable object code cannot block waiting on its own scheduler.");

    public override SynchronizationContext CreateCopy() => this;

    /// <summary>
    /// Runs the work item on the calling thread when the scheduler is idle, and queues it otherwise;
    /// items queued earlier still run first. Saves the thread hop of <see cref="Post"/>, at the price of
    /// holding the calling thread while the object's code runs synchronously.
    /// </summary>
    public void RunOrPost(SendOrPostCallback callback, object? state)
    {
        if (Interlocked.CompareExchange(ref _scheduled, 1, 0) != 0)
        {
            Post(callback, state);
            return;
        }
        _queue.Enqueue(new WorkItem(callback, state));
        ((IThreadPoolWorkItem)this).Execute();
    }

    void IThreadPoolWorkItem.Execute()
    {
        var previous = Current;
        SetSynchronizationContext(this);
        // Results of this turn's calls leave in one frame per stream, written from here when it ends.
        TurnFlush.Begin();
        try
        {
            Drain();
        }
        finally
        {
            SetSynchronizationContext(previous);
            TurnFlush.End();
        }
    }

    /// <summary>Runs queued items while this thread owns the scheduler, then releases it.</summary>
    private void Drain()
    {
        while (true)
        {
            for (var i = 0; i < ItemsPerTurn && _queue.TryDequeue(out var item); i++)
            {
                Run(item);
            }
            if (!_queue.IsEmpty)
            {
                // Still busy: go to the back of the pool's queue and keep the scheduled flag.
                ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
                return;
            }
            // A full fence, not a plain store, so that the look at the queue below cannot happen before the
            // reset is visible: an item posted in between would otherwise find the loop still scheduled
            // while the loop finds the queue empty, and wait forever.
            Interlocked.Exchange(ref _scheduled, 0);
            // An item posted between the emptiness check and the reset would otherwise wait forever.
            if (_queue.IsEmpty || Interlocked.CompareExchange(ref _scheduled, 1, 0) != 0)
            {
                return;
            }
        }
    }

    private void Run(WorkItem item)
    {
        try
        {
            item.Callback(item.State);
        }
        catch (Exception e)
        {
            // Calls report their own errors; what lands here escaped user code (an async void method).
            _logger.LogError(e, "Unhandled exception in durable object code.");
        }
    }

    private readonly record struct WorkItem(SendOrPostCallback Callback, object? State);
}
