using SourceGenDO.Dispatch;
using SourceGenDO.Server.Storage;
using SourceGenDO.Server.Storage.InMemory;
using SourceGenDO.Server.Storage.Sqlite;

namespace SourceGenDO.Server;

/// <summary>Configuration of the durable objects a server hosts; see <c>AddDurableObjects</c>.</summary>
public sealed class DurableObjectsOptions
{
    private readonly Dictionary<string, DurableObjectDispatcher> _namespaces = new(StringComparer.Ordinal);

    /// <summary>
    /// How long an instance stays in memory with no event before it is evicted (its storage stays).
    /// Default 10 s.
    /// </summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Where the server keeps its files: the generated namespace secret, and the SQLite storage of the
    /// objects (unless <see cref="UseStorage"/> chose another backend). Relative paths are resolved
    /// against the current directory. Default "sgdo-data".
    /// </summary>
    public string DataDirectory { get; set; } = "sgdo-data";

    /// <summary>
    /// The secret namespace keys are derived from (at least 32 bytes). When null, a random secret is
    /// generated once and kept in <see cref="DataDirectory"/>, so ids stay valid across restarts.
    /// </summary>
    public byte[]? Secret { get; set; }

    /// <summary>
    /// Who may reach the objects: access tokens (optionally scoped to namespaces) and TLS client certificates.
    /// With neither, the server serves loopback only and refuses to start on any other address.
    /// </summary>
    public DurableObjectsAccessOptions Access { get; } = new();

    /// <summary>
    /// How many events (calls in flight and queued) one object may have before further calls fail fast
    /// as overloaded. Default 50,000.
    /// </summary>
    public int MaxQueuedEventsPerObject { get; set; } = 50_000;

    /// <summary>
    /// How many calls one client stream may have in flight, counted from when the server reads a call
    /// until its result has been written. Past it the server stops reading that stream (HTTP/2 flow
    /// control then holds the client back) until results leave; other streams go on. Default 16,384
    /// (a client stream carries the calls of all the stubs of one <c>DurableObjectClient</c>).
    /// </summary>
    public int MaxCallsInFlightPerStream { get; set; } = 16_384;

    /// <summary>
    /// How many bytes one client stream may hold on the server: results waiting to be written (a client
    /// that reads slowly, or not at all) and the arguments of its calls in flight. Past it the server
    /// stops reading that stream until they leave, as for <see cref="MaxCallsInFlightPerStream"/>. One
    /// call or result larger than this still goes through. Default 16 MiB.
    /// </summary>
    public long MaxUnsentResultBytesPerStream { get; set; } = 16 * 1024 * 1024;

    /// <summary>
    /// How long a stopping server lets the calls in flight finish. From the moment it starts stopping,
    /// calls that arrive fail at once (retryable); calls in flight complete as usual until this time has
    /// passed, then the streams end and what is still running fails retryable at the caller. Keep it
    /// below the host's <c>HostOptions.ShutdownTimeout</c> (30 s by default). Default 10 s.
    /// </summary>
    public TimeSpan ShutdownGracePeriod { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// The most bytes the storage caches of all instances together keep in memory (keys, values and
    /// bookkeeping). Past it, entries that are durable and unused longest are dropped; they are read
    /// from the backend again when needed. Writes not yet durable always stay. Default 64 MiB.
    /// </summary>
    public long StorageCacheBytes { get; set; } = 64 * 1024 * 1024;

    /// <summary>
    /// Whether an instance whose only activity is open accepted WebSockets is evicted after
    /// <see cref="IdleTimeout"/> while its sockets stay connected (hibernation; the next message constructs a
    /// fresh instance). When false, an instance stays in memory as long as it has an open accepted socket.
    /// Default true.
    /// </summary>
    public bool HibernateWebSockets { get; set; } = true;

    /// <summary>
    /// The largest message a client may send on a WebSocket, in bytes. A larger one closes that socket with
    /// 1009 (message too big). Default 1 MiB.
    /// </summary>
    public int MaxWebSocketMessageBytes { get; set; } = 1024 * 1024;

    /// <summary>
    /// How many bytes of messages one WebSocket may have queued and not yet sent (held by the output gate,
    /// or waiting for a client that reads slowly). Past it that socket is closed with 1008 and a reason
    /// saying the client did not read; other sockets are untouched. One message larger than this is refused
    /// to the object: <c>DurableWebSocket.Send</c> throws <see cref="ArgumentException"/>. Default 1 MiB.
    /// </summary>
    public long MaxWebSocketSendQueueBytes { get; set; } = 1024 * 1024;

    /// <summary>How many messages one WebSocket may have queued and not yet sent; past it, as for <see cref="MaxWebSocketSendQueueBytes"/>. Default 1,024.</summary>
    public int MaxWebSocketSendQueueMessages { get; set; } = 1024;

    /// <summary>
    /// How many accepted WebSockets one object may have open at once (as on Cloudflare). Past it
    /// <c>Ctx.AcceptWebSocket</c> throws <see cref="InvalidOperationException"/> naming the limit. Default 32,768.
    /// </summary>
    public int MaxWebSocketsPerObject { get; set; } = 32_768;

    // How often the server pings an open WebSocket, and how long it waits for the pong before dropping
    // the connection; internal so that tests can shorten them.
    internal TimeSpan WebSocketKeepAliveInterval { get; set; } = TimeSpan.FromSeconds(30);

    internal TimeSpan WebSocketKeepAliveTimeout { get; set; } = TimeSpan.FromSeconds(20);

    // How long a close handshake may take before the connection is dropped; internal for tests.
    internal TimeSpan WebSocketCloseTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How the storage backend is made; null (the default) stores objects in SQLite under
    /// <see cref="DataDirectory"/>, durable past a power loss.
    /// </summary>
    public Func<IServiceProvider, IStorageBackend>? StorageBackendFactory { get; private set; }

    /// <summary>Stores objects in the backend <paramref name="factory"/> makes (once, when the server starts).</summary>
    public DurableObjectsOptions UseStorage(Func<IServiceProvider, IStorageBackend> factory)
    {
        ArgumentNullException.ThrowIfNull(factory);
        StorageBackendFactory = factory;
        return this;
    }

    /// <summary>
    /// Stores objects in SQLite under <see cref="DataDirectory"/> (the default) with settings changed by
    /// <paramref name="configure"/>, for example <c>Synchronous = SqliteSynchronousMode.Normal</c> to trade
    /// durability past a power loss for speed.
    /// </summary>
    public DurableObjectsOptions UseSqliteStorage(Action<SqliteStorageOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        return UseStorage(_ =>
        {
            var sqlite = new SqliteStorageOptions { DataDirectory = Path.GetFullPath(DataDirectory) };
            configure(sqlite);
            return new SqliteStorageBackend(sqlite);
        });
    }

    /// <summary>Stores objects in memory only, for tests: everything is gone when the process ends.</summary>
    public DurableObjectsOptions UseInMemoryStorage() => UseStorage(static _ => new InMemoryStorageBackend());

    /// <summary>The namespaces added so far, by name.</summary>
    public IReadOnlyDictionary<string, DurableObjectDispatcher> Namespaces => _namespaces;

    /// <summary>Hosts the durable object class <typeparamref name="TObject"/> under the namespace <paramref name="name"/>.</summary>
    /// <exception cref="ArgumentException">The name is empty or already used.</exception>
    /// <exception cref="InvalidOperationException">No dispatcher was generated for the class.</exception>
    public DurableObjectsOptions AddNamespace<TObject>(string name) where TObject : DurableObject
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (_namespaces.ContainsKey(name))
        {
            throw new ArgumentException($"The namespace \"{name}\" was already added.", nameof(name));
        }
        _namespaces.Add(name, DurableObjectRegistry.Get<TObject>());
        return this;
    }
}
