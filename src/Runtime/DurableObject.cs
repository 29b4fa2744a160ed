namespace SourceGenDO;

/// <summary>
/// The base class of a durable object: a uniquely addressable instance that runs its code one piece at
/// a time. Every public method returning <see cref="Task"/>, <see cref="Task{TResult}"/>,
/// <see cref="ValueTask"/> or <see cref="ValueTask{TResult}"/> is callable through the typed stub the
/// generator emits as <c>&lt;ClassName&gt;Stub</c>.
/// </summary>
/// <example>
/// <code>
/// public class Counter(DurableObjectState ctx) : DurableObject(ctx)
/// {
///     public async Task&lt;long&gt; Increment(long amount = 1)
///     {
///         long value = await Ctx.Storage.GetAsync&lt;long&gt;("value") + amount;
///         Ctx.Storage.Put("value", value);   // not awaited: the output gate makes it safe
///         return value;
///     }
/// }
/// </code>
/// </example>
public abstract class DurableObject
{
    /// <summary>Creates the object for the instance <paramref name="ctx"/> describes.</summary>
    protected DurableObject(DurableObjectState ctx)
    {
        ArgumentNullException.ThrowIfNull(ctx);
        Ctx = ctx;
    }

    /// <summary>The instance's state: its id, storage and host services.</summary>
    protected DurableObjectState Ctx { get; }

    /// <summary>
    /// Runs when the alarm set with <see cref="DurableObjectStorageOperations.SetAlarmAsync"/> is due: at
    /// least once, at or soon after its time, also after the server restarted or the instance was
    /// evicted. If it throws, it is retried with exponential backoff (the first retry after about 2 s, at
    /// most <see cref="AlarmInfo.MaxRetries"/> retries). It is never run for two alarms of one instance at
    /// once. The default does nothing.
    /// </summary>
    protected internal virtual Task Alarm(AlarmInfo alarmInfo) => Task.CompletedTask;

    /// <summary>
    /// Handles an HTTP request sent with <c>stub.FetchAsync</c> or through a route the server maps to the
    /// object, whatever host name its URL names: method, path, query, headers and body arrive as the
    /// caller sent them, and the response goes back as returned. It runs as an event, one at a time with
    /// calls and alarms. An exception reaches a stub caller as the exception itself, as a call's would.
    /// The default answers 501 Not Implemented, saying that the class has no handler.
    /// </summary>
    /// <remarks>
    /// Read a request body asynchronously (<c>ReadAsync</c>, <c>CopyToAsync</c>, <c>ReadAsStringAsync</c>,
    /// <c>ReadAsByteArrayAsync</c>): a synchronous read or write of a streamed body throws
    /// <see cref="NotSupportedException"/>, as ASP.NET Core's does by default, because a blocked thread
    /// could stop the stream that carries the body. A response body larger than 64 KiB, or of unknown
    /// length, is copied after the handler returned, outside the object's events: its content (a
    /// <see cref="System.Net.Http.StreamContent"/> over your own stream, a custom <see cref="System.Net.Http.HttpContent"/>)
    /// then runs concurrently with later events and must not touch the object's state or storage;
    /// compute what it needs in the handler.
    /// </remarks>
    protected internal virtual Task<HttpResponseMessage> Fetch(HttpRequestMessage request)
    {
        var response = new HttpResponseMessage(System.Net.HttpStatusCode.NotImplemented)
        {
            Content = new StringContent($"The durable object class {GetType().FullName} has no Fetch handler: override DurableObject.Fetch to answer HTTP requests."),
            RequestMessage = request,
        };
        return Task.FromResult(response);
    }
    /// <summary>
    /// Runs for each whole message a client sends on a socket the object accepted with
    /// <see cref="DurableObjectState.AcceptWebSocket"/>: an event like a call, one at a time, behind the input
    /// gate. After hibernation it runs on a fresh instance. An exception is logged; the socket stays open.
    /// The default does nothing.
    /// </summary>
    protected internal virtual Task WebSocketMessage(DurableWebSocket socket, DurableWebSocketMessage message) => Task.CompletedTask;

    /// <summary>
    /// Runs once when an accepted socket closes: <paramref name="wasClean"/> when the client sent a close
    /// frame (the server answers it), false when the connection was lost (code 1006) or the server closed
    /// it for breaking a bound (1008 for a client that does not read, 1009 for a message too large, 1011
    /// for a failed write), or its upgrade did not complete after the object accepted it (1006). It runs even
    /// when the object is at its queue bound. Not run for a close the object asked for itself, also when the
    /// client never answers it. The default does nothing.
    /// </summary>
    protected internal virtual Task WebSocketClose(DurableWebSocket socket, int code, string reason, bool wasClean) => Task.CompletedTask;

    /// <summary>
    /// Runs once, instead of <see cref="WebSocketClose"/>, when receiving on an accepted socket failed
    /// (for example a protocol error). The default does nothing.
    /// </summary>
    protected internal virtual Task WebSocketError(DurableWebSocket socket, Exception error) => Task.CompletedTask;
}
