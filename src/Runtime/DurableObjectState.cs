namespace SourceGenDO;

/// <summary>What the runtime gives one durable object instance: its id, its storage, and the services of its host.</summary>
public sealed class DurableObjectState
{
    private readonly IInstanceHost _host;

    /// <summary>
    /// Creates the state of the instance <paramref name="id"/> outside a server, for unit tests that
    /// construct an object directly: <see cref="Storage"/> is then an in-memory store without gates.
    /// </summary>
    public DurableObjectState(DurableObjectId id, IServiceProvider? services = null)
        : this(id, services, new StandaloneInstanceHost())
    {
    }

    internal DurableObjectState(DurableObjectId id, IServiceProvider? services, IInstanceHost host)
    {
        ArgumentNullException.ThrowIfNull(id);
        Id = id;
        Services = services ?? EmptyServiceProvider.Instance;
        _host = host;
        Storage = new DurableObjectStorage(host);
    }

    /// <summary>The instance's id; <see cref="DurableObjectId.Name"/> is set when it was derived from a name.</summary>
    public DurableObjectId Id { get; }

    /// <summary>The host's services, for objects that resolve dependencies themselves.</summary>
    public IServiceProvider Services { get; }

    /// <summary>The instance's private, durable storage; see <see cref="DurableObjectStorage"/>.</summary>
    public DurableObjectStorage Storage { get; }

    /// <summary>
    /// Runs <paramref name="body"/> with no other event (call, fetch, alarm, socket message) delivered to
    /// the instance until it completes; typically called from the constructor to load state before the
    /// first event. If it throws, the instance is reset and the events waiting for it fail with that error.
    /// </summary>
    public Task BlockConcurrencyWhile(Func<Task> body)
    {
        ArgumentNullException.ThrowIfNull(body);
        return _host.RunExclusiveAsync<object?>(
            async () =>
            {
                await body().ConfigureAwait(true);
                return null;
            },
            resetOnFailure: true);
    }

    /// <inheritdoc cref="BlockConcurrencyWhile(Func{Task})"/>
    public Task<T> BlockConcurrencyWhile<T>(Func<Task<T>> body)
    {
        ArgumentNullException.ThrowIfNull(body);
        return _host.RunExclusiveAsync(body, resetOnFailure: true);
    }

    /// <summary>
    /// Resets the instance: it is discarded with its in-memory state (storage keeps what was durable), the
    /// events in progress and waiting fail with <see cref="DurableObjectException.DurableObjectReset"/> set,
    /// and the next event constructs a new instance. Throws that same error, so the code after it does not run.
    /// </summary>
    /// <param name="reason">The message the callers see; by default "Application called abort() to reset Durable Object."</param>
    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    public void Abort(string? reason = null)
    {
        var error = new DurableObjectException(reason ?? "Application called abort() to reset Durable Object.")
        {
            DurableObjectReset = true,
            DurableObjectId = Id,
        };
        _host.Reset(error);
        throw error;
    }

    private sealed class EmptyServiceProvider : IServiceProvider
    {
        public static readonly EmptyServiceProvider Instance = new();

        public object? GetService(Type serviceType) => null;
    }
}
