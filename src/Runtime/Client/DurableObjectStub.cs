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

    /// <summary>Lets calls in flight finish, then closes the stub's channel; later calls fail.</summary>
    public ValueTask DisposeAsync() => _channel.DisposeAsync();

    /// <summary>Closes the stub's channel without waiting; see <see cref="DisposeAsync"/>.</summary>
    public void Dispose() => _ = _channel.DisposeAsync();
}
