using System.Text;
using SourceGenDO.Serialization;

namespace SourceGenDO;

/// <summary>
/// A WebSocket connection to a durable object, accepted with <see cref="DurableObjectState.AcceptWebSocket"/>.
/// It belongs to the object, not to the instance: it stays connected while an idle instance is evicted
/// (hibernation), and the next message constructs a fresh instance that finds it in
/// <see cref="DurableObjectState.GetWebSockets"/>, with its <see cref="Tags"/> and attachment.
/// </summary>
/// <remarks>
/// <see cref="Send(string)"/> and <see cref="Close"/> never block: messages wait in a bounded queue per
/// socket, behind the output gate (a message sent after a write leaves once the write is durable; if it
/// fails, the held messages are dropped and the socket closes with 1011). A client that does not read
/// until the queue is full is closed with 1008. One message larger than the whole queue is refused to the
/// sender with <see cref="ArgumentException"/>.
/// </remarks>
public sealed class DurableWebSocket
{
    /// <summary>The most bytes an encoded attachment may have: 16 KiB.</summary>
    public const int MaxAttachmentBytes = 16 * 1024;

    /// <summary>The most tags one socket may have.</summary>
    public const int MaxTags = 10;

    /// <summary>The most characters one tag may have.</summary>
    public const int MaxTagLength = 256;

    private readonly IWebSocketConnection _connection;
    private volatile byte[]? _attachment;

    internal DurableWebSocket(IWebSocketConnection connection) => _connection = connection;

    /// <summary>The tags given to <see cref="DurableObjectState.AcceptWebSocket"/>; empty before.</summary>
    public IReadOnlyList<string> Tags { get; internal set; } = [];

    /// <summary>The connection's state.</summary>
    public DurableWebSocketState ReadyState => _connection.State;

    /// <summary>The server's side of the connection.</summary>
    internal IWebSocketConnection Connection => _connection;

    /// <summary>Sends a text message.</summary>
    /// <exception cref="InvalidOperationException">The socket is not open.</exception>
    /// <exception cref="ArgumentException">The message (UTF-8) is larger than the server's send queue of one socket (<c>MaxWebSocketSendQueueBytes</c>, 1 MiB by default).</exception>
    public void Send(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        EnsureOpen();
        _connection.Send(Encoding.UTF8.GetBytes(text), isText: true);
    }

    /// <summary>Sends a binary message; the bytes are copied, so the caller may reuse its buffer.</summary>
    /// <exception cref="InvalidOperationException">The socket is not open.</exception>
    /// <exception cref="ArgumentException">The message is larger than the server's send queue of one socket (<c>MaxWebSocketSendQueueBytes</c>, 1 MiB by default).</exception>
    public void Send(ReadOnlyMemory<byte> data)
    {
        EnsureOpen();
        _connection.Send(data.ToArray(), isText: false);
    }

    /// <summary>
    /// Starts the close handshake with <paramref name="code"/> (1000, or 3000 to 4999) and a reason of at
    /// most 123 UTF-8 bytes, after the messages sent before it. Closing a closed socket does nothing.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The code or the reason is not one a client may receive.</exception>
    public void Close(int code = 1000, string? reason = null)
    {
        if (code != 1000 && code is < 3000 or > 4999)
        {
            throw new ArgumentOutOfRangeException(nameof(code), code, "A WebSocket close code sent by an object must be 1000 or between 3000 and 4999.");
        }
        if (reason is not null && Encoding.UTF8.GetByteCount(reason) > 123)
        {
            throw new ArgumentOutOfRangeException(nameof(reason), "A WebSocket close reason may have at most 123 UTF-8 bytes.");
        }
        _connection.Close(code, reason);
    }

    /// <summary>
    /// Keeps <paramref name="value"/> with the socket, encoded as a stored value is (the generator emits the
    /// codec for every type code passes here), so that it survives hibernation; it replaces the previous one.
    /// </summary>
    /// <exception cref="ArgumentException">The encoded value is larger than <see cref="MaxAttachmentBytes"/>.</exception>
    public void SerializeAttachment<T>(T value)
    {
        var encoded = ValueCodecs.Get<T>().Encode(value);
        if (encoded.Length > MaxAttachmentBytes)
        {
            throw new ArgumentException(
                $"A WebSocket attachment may have at most {MaxAttachmentBytes} bytes encoded; this {typeof(T).Name} has {encoded.Length}.", nameof(value));
        }
        _attachment = encoded;
    }

    /// <summary>The value last given to <see cref="SerializeAttachment{T}"/>, or the default when there is none.</summary>
    /// <exception cref="WireFormatException">The attachment was stored as a type that <typeparamref name="T"/> cannot read.</exception>
    public T? DeserializeAttachment<T>() => _attachment is { } encoded ? ValueCodecs.Get<T>().Decode(encoded) : default;

    private void EnsureOpen()
    {
        var state = _connection.State;
        if (state != DurableWebSocketState.Open)
        {
            throw new InvalidOperationException($"The WebSocket is {state}: only an accepted, open socket can send.");
        }
    }
}
