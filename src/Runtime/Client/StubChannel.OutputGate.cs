using SourceGenDO.Serialization;

namespace SourceGenDO;

/// <summary>
/// The stub's side of the output gate: a call that object code makes after a storage write leaves only
/// once that write is durable. The server's scheduler, the <see cref="SynchronizationContext"/> of
/// object code, is the <see cref="IOutputGate"/>; a call made while its <see cref="IOutputGate.PendingWrites"/>
/// is not done is held here, and so is every later call of the stub until the held ones are sent, so
/// that calls still start in the order they were made (E-order).
/// </summary>
/// <remarks>
/// Each held call waits for the gate it was made under (none, for a call held only behind others):
/// once that completes, it is sent; if that faulted, it fails with the gate's exception and is never
/// sent, and the calls behind it go on by their own gates, so the stub stays usable. A held call whose
/// token is cancelled fails at once and leaves the queue, so it holds nobody behind it. Held calls count
/// against <see cref="DurableObjectClientOptions.MaxQueuedCalls"/>. One thread at a time sends held calls,
/// first to last; while the first one's gate is closed, none does, and the gate's completion resumes on
/// the thread pool, never on the object's scheduler.
/// </remarks>
internal sealed partial class StubChannel
{
    // The held calls, first to last, linked through the calls. Guarded by _bindLock.
    private HeldCall? _firstHeld;
    private HeldCall? _lastHeld;
    // True from the first held call until the queue is empty again: later calls go behind the held
    // ones. With the type check of the context, the only cost calls pay when nothing is held.
    private volatile bool _holding;
    // True while one thread sends the held calls, or waits for the first one's gate; only it sends them.
    private bool _sendingHeld;
    // The held call whose gate the sending waits for, while it waits.
    private HeldCall? _waitingOn;

    /// <summary>
    /// The gate a call made now must wait for: the writes of the calling object still to become durable,
    /// or those that failed; null when nothing is pending, or the caller is not object code.
    /// </summary>
    private static Task? ClosedGate() =>
        SynchronizationContext.Current is IOutputGate { PendingWrites: { IsCompletedSuccessfully: false } pending } ? pending : null;

    /// <summary>Holds a call until <paramref name="gate"/> (if any) and the calls held before it let it go.</summary>
    private Task<T>? Hold<T>(
        string method, WireWriter arguments, ResultReader<T>? readResult, Task? gate, CancellationToken cancellationToken, out PendingCall<T>? pending,
        ClientFetch? fetch)
    {
        pending = null;
        var stream = Volatile.Read(ref _stream) ?? _client.CurrentStream();
        if (!stream.TryReserve())
        {
            // Fails this call only, as a call past the bound that is not held does.
            return Task.FromException<T>(stream.Overloaded(Id));
        }
        pending = PendingCall<T>.RentUnbound(this, method, readResult);
        Interlocked.Increment(ref _inFlight);
        var held = new HeldCall<T>(this, method, arguments.TakePooled(), gate, stream, cancellationToken, pending) { Fetch = fetch };
        if (cancellationToken.CanBeCanceled)
        {
            // Registered before the call is queued, so that whoever takes it finds the registration to end.
            held.Registration = cancellationToken.UnsafeRegister(static state =>
            {
                var canceled = (HeldCall)state!;
                canceled.Channel.OnHeldCanceled(canceled);
            }, held);
        }
        bool send;
        lock (_bindLock)
        {
            held.Previous = _lastHeld;
            if (_lastHeld is null)
            {
                _firstHeld = held;
            }
            else
            {
                _lastHeld.Next = held;
            }
            _lastHeld = held;
            held.IsQueued = true;
            _holding = true;
            send = !_sendingHeld;
            _sendingHeld = true;
        }
        if (cancellationToken.IsCancellationRequested)
        {
            // Canceled before it was queued, when its registration could not yet find it.
            OnHeldCanceled(held);
        }
        if (send)
        {
            SendHeldCalls();
        }
        return null;
    }

    /// <summary>Sends the held calls, first to last, until the queue is empty or the first one's gate is closed.</summary>
    private void SendHeldCalls()
    {
        while (true)
        {
            HeldCall? next = null;
            Task? closed = null;
            lock (_bindLock)
            {
                if (_firstHeld is not { } first)
                {
                    _holding = false;
                    _sendingHeld = false;
                    return;
                }
                if (first.Gate is { IsCompleted: false } gate)
                {
                    _waitingOn = first;
                    closed = gate;
                }
                else
                {
                    Unlink(first);
                    next = first;
                }
            }
            if (closed is not null)
            {
                // On the thread pool: the writes' completion may come on a thread that commits for many
                // objects, and sending must not hold it up.
                closed.ContinueWith(
                    static (_, state) => ((StubChannel)state!).OnGateOpened(), this,
                    CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
                return;
            }
            // Waits for a cancellation callback under way, which then finds the call gone.
            next!.Registration.Dispose();
            if (next.Gate is { IsCompletedSuccessfully: false } failed)
            {
                next.Fail(FailureOf(failed));
            }
            else
            {
                next.Send();
            }
        }
    }

    /// <summary>A gate the sending waited for completed: the sending goes on, unless it already did.</summary>
    private void OnGateOpened()
    {
        lock (_bindLock)
        {
            // Another gate's completion, or a cancellation, may have resumed it first.
            if (_waitingOn is not { Gate.IsCompleted: true })
            {
                return;
            }
            _waitingOn = null;
        }
        SendHeldCalls();
    }

    /// <summary>A held call's token was cancelled: it fails now and leaves the queue, unless it was taken to be sent.</summary>
    private void OnHeldCanceled(HeldCall held)
    {
        bool resume;
        lock (_bindLock)
        {
            if (!held.IsQueued)
            {
                // Being sent: the call's own registration on the stream takes the cancellation from here.
                return;
            }
            Unlink(held);
            // The sending waited for this call's gate: this thread goes on with the calls behind it.
            resume = ReferenceEquals(_waitingOn, held);
            if (resume)
            {
                _waitingOn = null;
            }
        }
        held.Fail(new TaskCanceledException(null, null, held.CancellationToken));
        if (resume)
        {
            SendHeldCalls();
        }
    }

    /// <summary>Sends a call taken from the queue: as <see cref="Send{T}"/> does, from the bind on.</summary>
    internal void SendHeld<T>(HeldCall<T> held)
    {
        var cancellationToken = held.CancellationToken;
        if (cancellationToken.IsCancellationRequested)
        {
            held.Fail(new TaskCanceledException(null, null, cancellationToken));
            return;
        }
        if (_failure is { } failure)
        {
            held.Fail(failure);
            return;
        }
        var stream = Bind();
        if (stream.Failure is { } streamFailure)
        {
            Break(streamFailure);
            held.Fail(_failure!);
            return;
        }
        // The call now counts as sent (Send counts it) on the stream it is sent on, which may not be the
        // one that counted it while held, if that one failed before the stub was bound.
        held.ReservedOn.Unreserve();
        var pending = held.Pending;
        pending.BindTo(_number, stream);
        var cancellable = cancellationToken.CanBeCanceled;
        if (cancellable)
        {
            pending.ObserveCancellation(cancellationToken);
        }
        var callId = stream.Send(_number, held.Method, held.Args, cancellable, pending, held.Fetch);
        if (cancellable && cancellationToken.IsCancellationRequested)
        {
            pending.CancelIfPending(callId, cancellationToken);
        }
    }

    private void Unlink(HeldCall held)
    {
        if (held.Previous is null)
        {
            _firstHeld = held.Next;
        }
        else
        {
            held.Previous.Next = held.Next;
        }
        if (held.Next is null)
        {
            _lastHeld = held.Previous;
        }
        else
        {
            held.Next.Previous = held.Previous;
        }
        held.Previous = null;
        held.Next = null;
        held.IsQueued = false;
    }

    /// <summary>What awaiting the failed <paramref name="gate"/> would throw.</summary>
    private static Exception FailureOf(Task gate) => gate.Exception?.InnerException ?? new TaskCanceledException(gate);
}
