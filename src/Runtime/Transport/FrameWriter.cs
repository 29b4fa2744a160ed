using System.Collections.Concurrent;

namespace SourceGenDO.Transport;

/// <summary>
/// Owns the writing side of one gRPC stream: items are queued in order and packed into frames, with at
/// most one write in progress (a gRPC stream allows no more). There is no writer loop waiting on a
/// queue: whoever queues into an idle writer starts the write, and items queued while a write is in
/// flight go out together in the next frame.
/// </summary>
/// <remarks>
/// A lone item (nothing else in flight) is written on the caller's thread, which saves a thread hop of
/// latency. Under load the write is queued to the thread pool instead, behind the work items already
/// there, which queue their own items meanwhile. Those who know more items are coming (a frame's calls
/// being dispatched, a frame's callers continuing) <see cref="Hold"/> the writer until they are queued:
/// frames then carry many items, which is where the throughput comes from.
/// </remarks>
/// <typeparam name="TItem">What is queued: a call, a cancellation, a result.</typeparam>
/// <typeparam name="TFrame">The message that carries a batch of items.</typeparam>
internal sealed class FrameWriter<TItem, TFrame> : IThreadPoolWorkItem where TFrame : class
{
    private readonly ConcurrentQueue<TItem> _queue = new();
    // An item taken from the queue that did not fit the last frame; it opens the next one. Only the
    // writer (whoever holds _writing) touches it. The queue is never peeked: a peek pins the queue's
    // segment, which then stops reusing its slots and makes every enqueue allocate in the end.
    private TItem? _carried;
    private bool _hasCarried;
    private readonly IFrameFormat _format;
    private readonly TaskCompletionSource _finished = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _writing;
    private readonly WriteHolds _holds;
    private volatile bool _closed;
    private volatile bool _finishing;
    private int _deferred;
    private readonly Action _flushDeferred;

    public FrameWriter(IFrameFormat format)
    {
        _format = format;
        _holds = new WriteHolds(() => Flush(alone: true));
        _flushDeferred = () =>
        {
            // A full fence, not a plain store: the flush below must not read the queue before the reset
            // is visible, or an item queued meanwhile would see a flush pending that never comes.
            Interlocked.Exchange(ref _deferred, 0);
            Flush(alone: true);
        };
    }

    /// <summary>How items become frames and how frames are written; one per stream kind.</summary>
    public interface IFrameFormat
    {
        TFrame NewFrame();

        /// <summary>
        /// Adds <paramref name="item"/> unless the frame is full; false leaves it for the next frame. Must
        /// accept any item into an empty frame.
        /// </summary>
        bool TryAdd(TFrame frame, TItem item);

        Task WriteAsync(TFrame frame);

        /// <summary>The frame's write completed: buffers its items held may be reused.</summary>
        void OnWritten(TFrame frame);

        /// <summary>
        /// True when, with <paramref name="queued"/> items waiting, more are likely to arrive at once (many
        /// calls in flight, few queued): the writer then lets queued work run once before it writes.
        /// </summary>
        bool ExpectsMore(int queued);

        /// <summary>The stream failed while writing; the writer is closed.</summary>
        void OnWriteFailed(Exception exception);
    }

    /// <summary>Queues an item and starts a write unless one is running or the writer is held.</summary>
    /// <param name="item">What to send.</param>
    /// <param name="alone">True when nothing else is in flight: write on this thread rather than wait for company.</param>
    public void Enqueue(TItem item, bool alone = false)
    {
        _queue.Enqueue(item);
        Flush(alone);
    }

    /// <summary>
    /// Queues without writing until as many <see cref="Release(int)"/>s: lets a burst of items share one frame.
    /// Returns the generation to release the holds in.
    /// </summary>
    public int Hold(int count = 1) => _holds.Take(count);

    /// <inheritdoc cref="WriteHolds.TakeForOthers"/>
    public int HoldForOthers(int count) => _holds.TakeForOthers(count);

    /// <inheritdoc cref="WriteHolds.WatchHeld"/>
    public void WatchHeld() => _holds.WatchHeld();

    /// <summary>True while writes wait for a <see cref="Release(int)"/>.</summary>
    public bool IsHeld => _holds.IsHeld;

    /// <summary>
    /// Ends one <see cref="Hold"/> of <paramref name="generation"/> and, when it was the last, writes what
    /// was queued meanwhile, on this thread.
    /// </summary>
    public void Release(int generation) => Release(generation, 1);

    /// <summary>Ends <paramref name="count"/> holds of <paramref name="generation"/> at once; see <see cref="Release(int)"/>.</summary>
    public void Release(int generation, int count)
    {
        if (_holds.Release(generation, count))
        {
            Flush(alone: true);
        }
    }

    /// <summary>Stops writing; a write in progress still ends normally.</summary>
    public void Close()
    {
        _closed = true;
        _holds.Dispose();
        SignalIfFinished();
    }

    /// <summary>
    /// Completes once nothing is written any more: after <see cref="Close"/>, when the write in progress
    /// ends; otherwise, once everything queued has been written.
    /// </summary>
    public Task WhenFinished()
    {
        _finishing = true;
        Flush();
        SignalIfFinished();
        return _finished.Task;
    }

    private void Flush(bool alone = false)
    {
        if (!_queue.IsEmpty && !_closed && !IsHeld && Interlocked.CompareExchange(ref _writing, 1, 0) == 0)
        {
            if (alone)
            {
                _ = WriteQueuedAsync();
            }
            else
            {
                ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
            }
        }
    }

    /// <summary>
    /// Inside a <see cref="TurnFlush"/> turn, leaves the write to the turn's end, so that everything the
    /// turn queues goes out in one frame from this thread; otherwise flushes as <see cref="Enqueue"/> does.
    /// </summary>
    public void EnqueueInTurn(TItem item)
    {
        _queue.Enqueue(item);
        if (Interlocked.CompareExchange(ref _deferred, 1, 0) == 0 && !TurnFlush.TryDefer(_flushDeferred))
        {
            Interlocked.Exchange(ref _deferred, 0);
            Flush();
        }
    }

    /// <summary>Runs a write queued to the thread pool; the writer is its own work item, so queuing allocates nothing.</summary>
    void IThreadPoolWorkItem.Execute() => _ = WriteQueuedAsync();

    private async Task WriteQueuedAsync()
    {
        try
        {
            if (_format.ExpectsMore(_queue.Count))
            {
                // Give the callers whose results just arrived a turn to queue their next calls too.
                await Task.Yield();
            }
            while (true)
            {
                while (!_closed && TryTakeFrame(out var frame))
                {
                    await _format.WriteAsync(frame).ConfigureAwait(false);
                    _format.OnWritten(frame);
                }
                // A full fence, not a plain store: a store may otherwise be delayed past the look at the
                // queue below, and an item queued in that window would find the writer still busy while
                // the writer finds the queue empty, so nobody would write it.
                Interlocked.Exchange(ref _writing, 0);
                // An item queued after the last look but before the release would otherwise wait.
                if (_queue.IsEmpty || _closed || IsHeld || Interlocked.CompareExchange(ref _writing, 1, 0) != 0)
                {
                    break;
                }
            }
        }
        catch (Exception e)
        {
            _closed = true;
            Interlocked.Exchange(ref _writing, 0);
            _format.OnWriteFailed(e);
        }
        SignalIfFinished();
    }

    private bool TryTakeFrame(out TFrame frame)
    {
        frame = null!;
        if (_hasCarried)
        {
            frame = _format.NewFrame();
            _format.TryAdd(frame, _carried!);
            _hasCarried = false;
            _carried = default;
        }
        while (_queue.TryDequeue(out var item))
        {
            frame ??= _format.NewFrame();
            if (!_format.TryAdd(frame, item))
            {
                _carried = item;
                _hasCarried = true;
                break;
            }
        }
        return frame is not null;
    }

    private void SignalIfFinished()
    {
        if ((_finishing || _closed) && Volatile.Read(ref _writing) == 0 && (_closed || _queue.IsEmpty))
        {
            _finished.TrySetResult();
        }
    }
}
