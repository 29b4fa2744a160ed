using System.ComponentModel;
using SourceGenDO.Serialization;

namespace SourceGenDO;

/// <summary>
/// A client-side handle to one durable object instance; generated <c>&lt;ClassName&gt;Stub</c> types
/// derive from it and add the object's methods.
/// </summary>
/// <remarks>
/// Calls through one stub start on the object in the order they were made (E-order), awaited or not;
/// they may finish in any order. A stub binds its channel to its client's connection on its first
/// call. When that connection fails, the stub is broken for good: every call in flight and every later
/// call fails with the same <see cref="DurableObjectException"/>; get a new stub from the namespace to
/// go on. Disposing a stub lets its calls in flight finish and then closes its channel.
/// <para>
/// Inside a durable object, a call made after a storage write leaves only once that write is durable
/// (the output gate), and later calls through the same stub wait behind it to keep their order. If the
/// write fails, the calls made while it was pending fail with its error and are never sent; the stub
/// stays usable.
/// </para>
/// </remarks>
public abstract class DurableObjectStub : IAsyncDisposable, IDisposable
{
    private readonly StubChannel _channel;

    /// <summary>Creates the stub over <paramref name="context"/>.</summary>
    protected DurableObjectStub(StubContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        _channel = context.Channel;
    }

    /// <summary>The id of the object this stub calls.</summary>
    public DurableObjectId Id => _channel.Id;

    /// <summary>The name the id was derived from, for stubs made from a name; otherwise null.</summary>
    public string? Name => _channel.Id.Name;

    /// <summary>Sends a call whose method returns no value; generated code calls this for <see cref="Task"/> methods.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    protected Task InvokeAsync(string method, WireWriter arguments, CancellationToken cancellationToken = default) =>
        _channel.InvokeWithoutResult(method, arguments, cancellationToken).AsTask();

    /// <summary>Sends a call and decodes its result with <paramref name="readResult"/>; generated code calls this for <see cref="Task{TResult}"/> methods.</summary>
    /// <remarks>
    /// The call's one allocation is the task: <c>AsTask</c> over the pooled call state makes one that
    /// completes when the call does (about 90 bytes; an async method awaiting it would box its state
    /// machine, about 136). A call that failed before it was sent is already a task.
    /// </remarks>
    [EditorBrowsable(EditorBrowsableState.Never)]
    protected Task<T> InvokeAsync<T>(string method, WireWriter arguments, ResultReader<T> readResult, CancellationToken cancellationToken = default) =>
        _channel.Invoke(method, arguments, readResult, cancellationToken).AsTask();

    /// <summary>
    /// Sends a call whose method returns no value; generated code calls this for <see cref="ValueTask"/>
    /// methods. The awaitable is pooled, so the call allocates nothing of its own: await it once.
    /// </summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    protected ValueTask InvokeValueAsync(string method, WireWriter arguments, CancellationToken cancellationToken = default) =>
        _channel.InvokeWithoutResult(method, arguments, cancellationToken);

    /// <summary>
    /// Sends a call and decodes its result with <paramref name="readResult"/>; generated code calls this
    /// for <see cref="ValueTask{TResult}"/> methods. The awaitable is pooled: await it once.
    /// </summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    protected ValueTask<T> InvokeValueAsync<T>(string method, WireWriter arguments, ResultReader<T> readResult, CancellationToken cancellationToken = default) =>
        _channel.Invoke(method, arguments, readResult, cancellationToken);

    /// <summary>
    /// Sends an HTTP request to the object's <c>Fetch</c> handler, whatever host name its URL names
    /// (<c>http://do/path?query</c> is the usual form), and returns the handler's response.
    /// </summary>
    /// <remarks>
    /// The request is a call on this stub: it starts after the calls made before it and before those
    /// made after it, whether or not they are awaited. Method, path, query, headers and body arrive as
    /// sent; status, reason, headers and body come back. Bodies of at most 64 KiB held in memory travel
    /// with the request; other bodies stream in chunks with flow control, so neither side holds a whole
    /// large body. The response's body is read as it arrives: dispose the response to stop it early. An
    /// exception thrown by the handler is thrown here as a call's would be.
    /// <paramref name="cancellationToken"/> cancels the fetch as it cancels a call, and also the reading of
    /// a streamed response body.
    /// </remarks>
    /// <exception cref="ArgumentException">The request's URL is missing or not absolute.</exception>
    public Task<HttpResponseMessage> FetchAsync(HttpRequestMessage request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!IsAbsoluteHttp(request.RequestUri))
        {
            throw new ArgumentException(
                $"A fetch needs an absolute http or https URL, such as http://do/path; {(request.RequestUri is null ? "the request has none" : $"\"{request.RequestUri.OriginalString}\" is not one")}.",
                nameof(request));
        }
        return _channel.FetchAsync(request, cancellationToken);
    }

    /// <summary>Sends a GET request for <paramref name="url"/> to the object's <c>Fetch</c> handler; see <see cref="FetchAsync(HttpRequestMessage, CancellationToken)"/>.</summary>
    /// <exception cref="ArgumentException"><paramref name="url"/> is not an absolute URL.</exception>
    public Task<HttpResponseMessage> FetchAsync(string url, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(url);
        // UriKind.RelativeOrAbsolute: with Absolute, "/path" would be taken for a file path on Unix.
        if (!Uri.TryCreate(url, UriKind.RelativeOrAbsolute, out var uri) || !IsAbsoluteHttp(uri))
        {
            throw new ArgumentException($"A fetch needs an absolute http or https URL, such as http://do/path; \"{url}\" is not one.", nameof(url));
        }
        return FetchAsync(new HttpRequestMessage(HttpMethod.Get, uri), cancellationToken);
    }

    private static bool IsAbsoluteHttp(Uri? uri) =>
        uri is { IsAbsoluteUri: true } && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps);

    /// <summary>Lets calls in flight finish, then closes the stub's channel; later calls fail.</summary>
    public ValueTask DisposeAsync() => _channel.DisposeAsync();

    /// <summary>Closes the stub's channel without waiting; see <see cref="DisposeAsync"/>.</summary>
    public void Dispose() => _ = _channel.DisposeAsync();
}
