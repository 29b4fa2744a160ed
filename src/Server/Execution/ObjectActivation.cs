using Microsoft.Extensions.Logging;
using SourceGenDO.Dispatch;
using SourceGenDO.Server.Http;
using SourceGenDO.Server.Rpc;
using SourceGenDO.Wire;

namespace SourceGenDO.Server.Execution;

/// <summary>
/// One live instance of a durable object: its scheduler, its count of unfinished events (which bounds
/// its queue and decides when it is idle), its storage, and the instance itself, constructed by the
/// first event. A reset (a failed write, a failed <c>BlockConcurrencyWhile</c>, <c>Ctx.Abort</c>) ends the
/// activation for good: its events fail with the reset's error and the next event gets a new activation.
/// </summary>
internal sealed class ObjectActivation : IInstanceHost
{
    private const int Deactivated = -1;

    private readonly NamespaceHost _host;
    private readonly Task _predecessor;
    private int _events;
    private long _idleSince;
    private DurableObject? _instance;
    private ObjectStorage? _storage;
    private volatile Error? _resetError;
    private DurableObjectState? _state;

    public ObjectActivation(NamespaceHost host, DurableObjectId id, Task predecessor)
    {
        _host = host;
        _predecessor = predecessor;
        Id = id;
        Scheduler = new ActivationScheduler(host.Logger);
        _idleSince = host.Time.GetTimestamp();
    }

    /// <summary>The object's id; gains its name when <see cref="LearnName"/> is told it.</summary>
    public DurableObjectId Id { get; private set; }

    public string Namespace => _host.Name;

    /// <summary>
    /// Gives an activation made from an id without its name (a call by id) the name <paramref name="named"/>
    /// carries, checked already against the id: an alarm run on it then sees <c>Ctx.Id.Name</c> as stored.
    /// Call from <see cref="Scheduler"/>.
    /// </summary>
    public void LearnName(DurableObjectId named)
    {
        if (Id.Name is null && named.Name is not null && named.Equals(Id))
        {
            Id = named;
            _state?.LearnName(named);
        }
    }

    /// <summary>The error every event of this activation fails with once it was reset; null until then.</summary>
    public Error? ResetError => _resetError;

    /// <summary>The instance's storage, created on first use.</summary>
    public ObjectStorage Storage
    {
        get
        {
            if (_storage is { } storage)
            {
                return storage;
            }
            storage = new ObjectStorage(this, _host.Storage, _predecessor);
            Scheduler.Storage = storage;
            return _storage = storage;
        }
    }

    IObjectStorageCore IInstanceHost.Storage => Storage;

    /// <summary>Completes when no commit of this activation is in flight.</summary>
    public Task WhenSettled => _storage?.WhenSettled ?? Task.CompletedTask;

    public ActivationScheduler Scheduler { get; }

    public DurableObjectDispatcher Dispatcher => _host.Dispatcher;

    /// <summary>
    /// Accepts one more event unless the activation is gone or its queue is full; <paramref name="pastLimit"/>
    /// lets in an event the bound must not drop (a socket's close or error: at most one per socket, and
    /// sockets are bounded by <see cref="DurableObjectsOptions.MaxWebSocketsPerObject"/>).
    /// </summary>
    public EnterResult TryEnter(bool pastLimit = false)
    {
        var limit = _host.Options.MaxQueuedEventsPerObject;
        while (true)
        {
            var events = Volatile.Read(ref _events);
            if (events == Deactivated || _resetError is not null)
            {
                return EnterResult.Deactivated;
            }
            if (events >= limit && !pastLimit)
            {
                return EnterResult.Overloaded;
            }
            if (Interlocked.CompareExchange(ref _events, events + 1, events) == events)
            {
                return EnterResult.Entered;
            }
        }
    }

    /// <summary>Marks one accepted event finished.</summary>
    public void Exit()
    {
        // Events exit one at a time (a call finishes on the instance's scheduler), so the exit that finds
        // itself the last event stamps the time: one clock read per idle period, not per call (the clock
        // cost 6% of the server's CPU at 1,024 calls in flight). An event entering meanwhile only makes
        // the stamp early, and its own exit stamps again. Written before the count drops, so an evictor
        // that sees zero events also sees this time.
        if (Volatile.Read(ref _events) == 1)
        {
            Volatile.Write(ref _idleSince, _host.Time.GetTimestamp());
        }
        Interlocked.Decrement(ref _events);
    }

    /// <summary>The events in progress or queued.</summary>
    public int EventCount => Math.Max(0, Volatile.Read(ref _events));

    /// <summary>True when no event is in progress and every write is durable.</summary>
    public bool IsQuiet => Volatile.Read(ref _events) <= 0 && _storage is not { IsSettled: false };

    /// <summary>The instance, constructed on first use; call only from <see cref="Scheduler"/>.</summary>
    public DurableObject GetOrCreateInstance() =>
        _instance ??= Dispatcher.Create(_state = new DurableObjectState(Id, _host.Services, this));

    /// <summary>
    /// Starts an event on <see cref="Scheduler"/>: the instance to run it on (constructed on first use), or
    /// null when the constructor called <c>BlockConcurrencyWhile</c>, which closed the input gate: the event
    /// (<paramref name="start"/> with <paramref name="state"/>) then runs again once the gate opens, ahead
    /// of later events.
    /// </summary>
    /// <exception cref="DurableObjectException">The activation was reset (<see cref="DurableObjectException.DurableObjectReset"/>).</exception>
    public DurableObject? BeginEvent(SendOrPostCallback start, object state)
    {
        ThrowIfReset();
        var instance = GetOrCreateInstance();
        if (Scheduler.IsInputGateClosed)
        {
            Scheduler.HoldFirst(start, state);
            return null;
        }
        return instance;
    }

    /// <summary>Throws the reset as a <see cref="DurableObjectException"/> once the activation was reset.</summary>
    public void ThrowIfReset()
    {
        if (_resetError is { } reset)
        {
            throw new DurableObjectException(reset.Message) { DurableObjectReset = true, DurableObjectId = Id };
        }
    }

    public async Task<T> RunExclusiveAsync<T>(Func<Task<T>> body, bool resetOnFailure)
    {
        if (SynchronizationContext.Current != Scheduler)
        {
            throw new InvalidOperationException("BlockConcurrencyWhile and TransactionAsync must be called from the durable object's own code, not from another thread.");
        }
        Scheduler.CloseInputGate();
        try
        {
            return await body().ConfigureAwait(true);
        }
        catch (Exception e) when (resetOnFailure && e is not DurableObjectException { DurableObjectReset: true })
        {
            Reset(new DurableObjectException(e.Message, e) { DurableObjectReset = true, DurableObjectId = Id });
            throw;
        }
        finally
        {
            Scheduler.OpenInputGateLater();
        }
    }

    public void AcceptWebSocket(DurableWebSocket socket, string[] tags)
    {
        if (socket.Connection is not HostedWebSocket hosted || !hosted.BelongsTo(_host, Id))
        {
            throw new InvalidOperationException("This WebSocket came with a request to another durable object: an object accepts only the sockets of its own requests.");
        }
        hosted.Accept(tags);
    }

    public IReadOnlyList<DurableWebSocket> GetWebSockets(string? tag) => _host.Sockets.Find(Id)?.Open(tag) ?? [];

    public void SetWebSocketAutoResponse(string? request, string? response)
    {
        _host.Sockets.SetAutoResponse(Id, request, response);
    }

    void IInstanceHost.Reset(DurableObjectException error) => Reset(error);

    /// <summary>
    /// Resets the activation: the instance is dropped, its storage fails from now on, writes not yet
    /// handed to the committer are discarded, and every event of this activation (running, held by a gate
    /// or queued) fails with <paramref name="error"/>. New events go to a new activation.
    /// </summary>
    public void Reset(DurableObjectException error, bool fromStorage = false)
    {
        if (_resetError is not null)
        {
            return;
        }
        _resetError = RemoteErrors.FromRuntime(error.Message, reset: true);
        _host.Logger.LogWarning(
            fromStorage ? "Durable object {Namespace}/{Id} was reset because a write failed: {Reason}" : "Durable object {Namespace}/{Id} was reset: {Reason}",
            _host.Name, Id, error.Message);
        _storage?.Break(error);
        _host.Retire(this);
        Scheduler.Post(static state => ((ObjectActivation)state!).DisposeInstance(), this);
    }

    /// <summary>Deactivates the activation if it has had no event for <paramref name="idleTimeout"/>.</summary>
    public bool TryDeactivateIfIdle(TimeSpan idleTimeout)
    {
        if (Volatile.Read(ref _events) != 0 || _host.Time.GetElapsedTime(Volatile.Read(ref _idleSince)) < idleTimeout
            || _storage is { IsSettled: false })
        {
            return false;
        }
        if (Interlocked.CompareExchange(ref _events, Deactivated, 0) != 0)
        {
            return false;
        }
        Scheduler.Post(static state => ((ObjectActivation)state!).DisposeInstance(), this);
        return true;
    }

    private void DisposeInstance()
    {
        // Code of the instance still running without an event (a timer, a detached task) must not write
        // into storage nobody commits in order any more.
        _storage?.Break(new DurableObjectException(StorageContext.NoLongerAccessible) { DurableObjectId = Id });
        switch (_instance)
        {
            case IAsyncDisposable asyncDisposable:
                _ = asyncDisposable.DisposeAsync().AsTask();
                break;
            case IDisposable disposable:
                disposable.Dispose();
                break;
        }
        _instance = null;
    }
}

/// <summary>Whether an activation took an event.</summary>
internal enum EnterResult
{
    Entered,
    Overloaded,
    Deactivated,
}
