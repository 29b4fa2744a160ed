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
    public DurableObjectId Id { get; private set; }

    /// <summary>The name of an instance made from an id without one, learnt from storage (an alarm's stored name).</summary>
    internal void LearnName(DurableObjectId named) => Id = named;

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

    /// <summary>
    /// Accepts the WebSocket of an upgrade request (<see cref="DurableWebSocketRequestExtensions.GetWebSocket"/>)
    /// as the object's: answer the request 101 Switching Protocols to complete the upgrade. The object then
    /// receives <see cref="DurableObject.WebSocketMessage"/>, <see cref="DurableObject.WebSocketClose"/> and
    /// <see cref="DurableObject.WebSocketError"/> as events, also after hibernation.
    /// </summary>
    /// <param name="socket">The socket of the request being handled.</param>
    /// <param name="tags">At most <see cref="DurableWebSocket.MaxTags"/> tags of at most <see cref="DurableWebSocket.MaxTagLength"/> characters, for <see cref="GetWebSockets"/>.</param>
    /// <exception cref="ArgumentException">Too many tags, a tag too long, or a null tag.</exception>
    /// <exception cref="InvalidOperationException">The socket was accepted already, or belongs to another object, or the object has the server's <c>MaxWebSocketsPerObject</c> sockets open (32,768 by default).</exception>
    public void AcceptWebSocket(DurableWebSocket socket, IEnumerable<string>? tags = null)
    {
        ArgumentNullException.ThrowIfNull(socket);
        var checkedTags = CheckTags(tags);
        _host.AcceptWebSocket(socket, checkedTags);
    }

    /// <summary>The accepted, open sockets of the object, those with <paramref name="tag"/> when it is given, in the order they were accepted.</summary>
    public IReadOnlyList<DurableWebSocket> GetWebSockets(string? tag = null) => _host.GetWebSockets(tag);

    /// <summary>
    /// Answers a text message equal to <paramref name="request"/> with <paramref name="response"/> on the same
    /// socket, without delivering it to the object: no instance is woken or constructed for it. It applies to
    /// every socket of the object and survives hibernation while the object has open sockets; a later call
    /// replaces it. Once the object has neither an open socket nor a live instance the server forgets it, so
    /// set it in the constructor (as on Cloudflare, where it is set there too).
    /// </summary>
    /// <exception cref="ArgumentException">Either text is empty or longer than 2,048 characters.</exception>
    public void SetWebSocketAutoResponse(string request, string response)
    {
        CheckAutoResponseText(request, nameof(request));
        CheckAutoResponseText(response, nameof(response));
        _host.SetWebSocketAutoResponse(request, response);
    }

    /// <summary>Removes the auto-response <see cref="SetWebSocketAutoResponse"/> set; messages reach the object again.</summary>
    public void ClearWebSocketAutoResponse() => _host.SetWebSocketAutoResponse(null, null);

    private static string[] CheckTags(IEnumerable<string>? tags)
    {
        if (tags is null)
        {
            return [];
        }
        var list = tags.ToArray();
        if (list.Length > DurableWebSocket.MaxTags)
        {
            throw new ArgumentException($"A WebSocket may have at most {DurableWebSocket.MaxTags} tags; {list.Length} were given.", nameof(tags));
        }
        foreach (var tag in list)
        {
            if (tag is null)
            {
                throw new ArgumentException("A WebSocket tag cannot be null.", nameof(tags));
            }
            if (tag.Length > DurableWebSocket.MaxTagLength)
            {
                throw new ArgumentException($"A WebSocket tag may have at most {DurableWebSocket.MaxTagLength} characters; one has {tag.Length}.", nameof(tags));
            }
        }
        return list;
    }

    private static void CheckAutoResponseText(string text, string parameter)
    {
        ArgumentNullException.ThrowIfNull(text, parameter);
        if (text.Length is 0 or > 2048)
        {
            throw new ArgumentException($"A WebSocket auto-response {parameter} must have 1 to 2,048 characters; it has {text.Length}.", parameter);
        }
    }

    private sealed class EmptyServiceProvider : IServiceProvider
    {
        public static readonly EmptyServiceProvider Instance = new();

        public object? GetService(Type serviceType) => null;
    }
}
