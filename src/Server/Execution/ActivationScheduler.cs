using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using SourceGenDO.Transport;

namespace SourceGenDO.Server.Execution;

/// <summary>
/// Runs one object instance's work items one after another on the thread pool, never two at once. It is
/// the instance's <see cref="SynchronizationContext"/> while its code runs, so continuations after
/// <c>await</c> come back here too: a single-threaded event loop without a dedicated thread.
/// </summary>
/// <remarks>
/// It is also the instance's input gate. Work items are events (a call starting, an alarm) or
/// continuations of code already running. While the gate is closed (a storage read is pending, or
/// <c>BlockConcurrencyWhile</c> or a transaction runs) events wait, in their order, and continuations still
/// run; when it opens the waiting events run before later ones. The gate's state is touched only by
/// the thread that runs the loop, so it needs no lock.
/// </remarks>
internal sealed class ActivationScheduler : SynchronizationContext, IThreadPoolWorkItem, IOutputGate
{
    // After this many items the loop yields the thread, so one busy object cannot starve the pool.
    private const int ItemsPerTurn = 128;

    private static readonly SendOrPostCallback OpenGate = static state => ((ActivationScheduler)state!)._gateLocks--;

    private readonly ConcurrentQueue<WorkItem> _queue = new();
    // Events that arrived while the gate was closed; only the loop's thread touches these two.
    private readonly LinkedList<WorkItem> _held = new();
    private int _gateLocks;
    private readonly ILogger _logger;
    private int _scheduled;

    public ActivationScheduler(ILogger logger) => _logger = logger;

    /// <summary>The storage whose writes the output gate waits for, once the instance has used it.</summary>
    public ObjectStorage? Storage { get; set; }

    /// <inheritdoc />
    public Task? PendingWrites => Storage?.PendingWrites;

    /// <summary>True while the input gate holds events back.</summary>
    public bool IsInputGateClosed => _gateLocks > 0;

    /// <summary>Closes the input gate once more; call from the instance's code (on this scheduler).</summary>
    public void CloseInputGate() => _gateLocks++;

    /// <summary>
    /// Opens the input gate once, after the work items queued so far (the continuation of the code that
    /// closed it among them) have run; call on this scheduler.
    /// </summary>
    public void OpenInputGateLater() => Post(OpenGate, this);

    /// <summary>Opens the input gate once, now; call on this scheduler.</summary>
    public void OpenInputGate() => _gateLocks--;

    /// <summary>Holds an event that was already running ahead of every other waiting event; call on this scheduler.</summary>
    public void HoldFirst(SendOrPostCallback callback, object? state) => _held.AddFirst(new WorkItem(callback, state, IsEvent: true));

    public override void Post(SendOrPostCallback callback, object? state) => Enqueue(new WorkItem(callback, state, IsEvent: false));

    /// <summary>Queues an event: it waits while the input gate is closed.</summary>
    public void PostEvent(SendOrPostCallback callback, object? state) => Enqueue(new WorkItem(callback, state, IsEvent: true));

    private void Enqueue(WorkItem item)
    {
        _queue.Enqueue(item);
        if (Interlocked.CompareExchange(ref _scheduled, 1, 0) == 0)
        {
            ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
        }
    }

    public override void Send(SendOrPostCallback callback, object? state) =>
        throw new NotSupportedException("Durable object code cannot block waiting on its own scheduler.");

    public override SynchronizationContext CreateCopy() => this;

    /// <summary>
    /// Runs the event on the calling thread when the scheduler is idle, and queues it otherwise; items
    /// queued earlier still run first. Saves the thread hop of <see cref="PostEvent"/>, at the price of
    /// holding the calling thread while the object's code runs synchronously.
    /// </summary>
    public void RunOrPostEvent(SendOrPostCallback callback, object? state)
    {
        if (Interlocked.CompareExchange(ref _scheduled, 1, 0) != 0)
        {
            PostEvent(callback, state);
            return;
        }
        _queue.Enqueue(new WorkItem(callback, state, IsEvent: true));
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
            for (var i = 0; i < ItemsPerTurn; i++)
            {
                if (_gateLocks == 0 && _held.Count > 0)
                {
                    var first = _held.First!.Value;
                    _held.RemoveFirst();
                    Run(first);
                    continue;
                }
                if (!_queue.TryDequeue(out var item))
                {
                    break;
                }
                if (item.IsEvent && (_gateLocks > 0 || _held.Count > 0))
                {
                    _held.AddLast(item);
                    continue;
                }
                Run(item);
            }
            if (!_queue.IsEmpty || (_gateLocks == 0 && _held.Count > 0))
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
            // Held events need no check: they move only when the gate opens, which is a work item of its own.
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

    private readonly record struct WorkItem(SendOrPostCallback Callback, object? State, bool IsEvent);
}
