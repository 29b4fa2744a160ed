using SourceGenDO.Dispatch;

namespace SourceGenDO.Server.Execution;

/// <summary>
/// One live instance of a durable object: its scheduler, its count of unfinished events (which bounds
/// its queue and decides when it is idle), and the instance itself, constructed by the first event.
/// </summary>
internal sealed class ObjectActivation
{
    private const int Deactivated = -1;

    private readonly NamespaceHost _host;
    private int _events;
    private long _idleSince;
    private DurableObject? _instance;

    public ObjectActivation(NamespaceHost host, DurableObjectId id)
    {
        _host = host;
        Id = id;
        Scheduler = new ActivationScheduler(host.Logger);
        _idleSince = host.Time.GetTimestamp();
    }

    public DurableObjectId Id { get; }

    public ActivationScheduler Scheduler { get; }

    public DurableObjectDispatcher Dispatcher => _host.Dispatcher;

    /// <summary>Accepts one more event unless the activation is gone or its queue is full.</summary>
    public EnterResult TryEnter()
    {
        var limit = _host.Options.MaxQueuedEventsPerObject;
        while (true)
        {
            var events = Volatile.Read(ref _events);
            if (events == Deactivated)
            {
                return EnterResult.Deactivated;
            }
            if (events >= limit)
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

    /// <summary>The instance, constructed on first use; call only from <see cref="Scheduler"/>.</summary>
    public DurableObject GetOrCreateInstance() =>
        _instance ??= Dispatcher.Create(new DurableObjectState(Id, _host.Services));

    /// <summary>Deactivates the activation if it has had no event for <paramref name="idleTimeout"/>.</summary>
    public bool TryDeactivateIfIdle(TimeSpan idleTimeout)
    {
        if (Volatile.Read(ref _events) != 0 || _host.Time.GetElapsedTime(Volatile.Read(ref _idleSince)) < idleTimeout)
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
