using System.Buffers;
using System.Net.WebSockets;
using System.Text;
using Microsoft.Extensions.Logging;
using SourceGenDO.Server.Execution;

namespace SourceGenDO.Server.Http;

/// <summary>
/// The server's side of one <see cref="DurableWebSocket"/>: the connection, its bounded send queue behind
/// the output gate, and its receive loop, which delivers each whole message to the object as an event
/// (constructing a fresh instance after hibernation) and waits for it before reading the next, so that a
/// fast client is held back by TCP rather than by a growing queue.
/// </summary>
internal sealed class HostedWebSocket : IWebSocketConnection
{
    // How long a close handshake may take before the connection is dropped.
    private static readonly TimeSpan CloseTimeout = TimeSpan.FromSeconds(10);
    private const int AbnormalClosure = 1006;
    private const int TryAgainLater = 1013;
    private const int MessageTooBig = 1009;

    private readonly NamespaceHost _namespace;
    private readonly DurableObjectId _id;
    private readonly object _lock = new();
    // The messages not yet sent, oldest first; bounded by the options' bytes and count.
    private readonly Queue<Outgoing> _queue = new();
    private readonly CancellationTokenSource _abort = new();
    // Completes when the close frame left, or sending ended for good.
    private readonly TaskCompletionSource _closeSent = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _queuedBytes;
    private bool _pumping;
    private bool _accepted;
    // Set once the object or the runtime started closing: the client's close frame then only answers it.
    private bool _closeStarted;
    private int _finalEventDelivered;
    private volatile int _state = (int)DurableWebSocketState.Connecting;
    private WebSocket? _webSocket;

    public HostedWebSocket(NamespaceHost ns, DurableObjectId id)
    {
        _namespace = ns;
        _id = id;
        Socket = new DurableWebSocket(this);
    }

    public DurableWebSocket Socket { get; }

    public DurableWebSocketState State => (DurableWebSocketState)_state;

    /// <summary>True once the object accepted the socket.</summary>
    public bool IsAccepted
    {
        get
        {
            lock (_lock)
            {
                return _accepted;
            }
        }
    }

    public bool BelongsTo(NamespaceHost ns, DurableObjectId id) => ns == _namespace && id == _id;

    private DurableObjectsOptions Options => _namespace.Options;

    private ILogger Logger => _namespace.Logger;

    public void Accept(string[] tags)
    {
        lock (_lock)
        {
            if (_accepted || State != DurableWebSocketState.Connecting)
            {
                throw new InvalidOperationException("This WebSocket was accepted already.");
            }
            _accepted = true;
            Socket.Tags = tags;
            _state = (int)DurableWebSocketState.Open;
        }
        _namespace.Sockets.For(_id).Add(this);
    }

    /// <summary>The object answered the upgrade with something else than 101: the socket never opens.</summary>
    public void Refuse()
    {
        lock (_lock)
        {
            _state = (int)DurableWebSocketState.Closed;
            _queue.Clear();
            _queuedBytes = 0;
        }
        _namespace.Sockets.Remove(_id, this);
    }

    public void Send(ReadOnlyMemory<byte> data, bool isText) => Enqueue(new Outgoing(data, isText ? WebSocketMessageType.Text : WebSocketMessageType.Binary, CurrentOutputGate()));

    public void Close(int code, string? reason)
    {
        lock (_lock)
        {
            if (State != DurableWebSocketState.Open)
            {
                return;
            }
            _closeStarted = true;
            _state = (int)DurableWebSocketState.Closing;
            _queue.Enqueue(Outgoing.CloseFrame(code, reason ?? string.Empty, CurrentOutputGate()));
            StartPumpLocked();
        }
    }

    // The output gate of the object code calling: null outside an instance's scheduler, or when every write is durable.
    private static Task? CurrentOutputGate() =>
        SynchronizationContext.Current is IOutputGate { PendingWrites: { IsCompletedSuccessfully: false } pending } ? pending : null;

    private void Enqueue(Outgoing message)
    {
        lock (_lock)
        {
            if (State != DurableWebSocketState.Open)
            {
                return;
            }
            if (_queue.Count + 1 <= Options.MaxWebSocketSendQueueMessages && _queuedBytes + message.Data.Length <= Options.MaxWebSocketSendQueueBytes)
            {
                _queue.Enqueue(message);
                _queuedBytes += message.Data.Length;
                StartPumpLocked();
                return;
            }
        }
        Terminate(
            (int)WebSocketCloseStatus.PolicyViolation,
            $"Send queue full ({Options.MaxWebSocketSendQueueMessages} messages or {Options.MaxWebSocketSendQueueBytes} bytes): the client did not read.");
    }

    private void StartPumpLocked()
    {
        if (_pumping || _webSocket is null)
        {
            return;
        }
        _pumping = true;
        _ = PumpAsync();
    }

    private async Task PumpAsync()
    {
        var webSocket = _webSocket!;
        try
        {
            while (true)
            {
                Outgoing message;
                lock (_lock)
                {
                    if (_queue.Count == 0)
                    {
                        _pumping = false;
                        return;
                    }
                    message = _queue.Peek();
                }
                if (message.Gate is { } gate)
                {
                    await gate.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                    if (!gate.IsCompletedSuccessfully)
                    {
                        lock (_lock)
                        {
                            _pumping = false;
                        }
                        // The output gate broke: nothing the object sent after the failed write may leave.
                        Terminate((int)WebSocketCloseStatus.InternalServerError, "A write of the durable object failed: the messages sent after it were dropped.");
                        return;
                    }
                }
                if (message.IsClose)
                {
                    await webSocket.CloseOutputAsync((WebSocketCloseStatus)message.Code, message.Reason, _abort.Token).ConfigureAwait(false);
                    lock (_lock)
                    {
                        _queue.Clear();
                        _queuedBytes = 0;
                        _pumping = false;
                    }
                    _closeSent.TrySetResult();
                    AbortAfterCloseTimeout();
                    return;
                }
                await webSocket.SendAsync(message.Data, message.Type, endOfMessage: true, _abort.Token).ConfigureAwait(false);
                lock (_lock)
                {
                    if (_queue.TryPeek(out var head) && ReferenceEquals(head, message))
                    {
                        _queue.Dequeue();
                        _queuedBytes -= message.Data.Length;
                    }
                }
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or IOException or ObjectDisposedException)
        {
            // The connection is gone or was aborted; the receive loop reports it to the object.
            lock (_lock)
            {
                _queue.Clear();
                _queuedBytes = 0;
                _pumping = false;
            }
            _closeSent.TrySetResult();
            webSocket.Abort();
        }
    }

    /// <summary>
    /// Closes the socket because it broke a bound or a write failed: what is queued is dropped, the client
    /// gets <paramref name="code"/> (or, when a send to it is stuck, the connection is dropped), and the
    /// object gets <c>WebSocketClose</c> with that code, not clean (unless <paramref name="tellObject"/> is
    /// false: a stopping server does not construct instances to say so).
    /// </summary>
    public void Terminate(int code, string reason, bool tellObject = true)
    {
        bool sending;
        lock (_lock)
        {
            if (_closeStarted || State == DurableWebSocketState.Closed)
            {
                return;
            }
            _closeStarted = true;
            _state = (int)DurableWebSocketState.Closing;
            _queue.Clear();
            _queuedBytes = 0;
            sending = _pumping;
            _pumping = true;
        }
        Logger.LogInformation("Closed a WebSocket of durable object {Namespace}/{Id} with {Code}: {Reason}", _namespace.Name, _id, code, reason);
        // The object hears this code, not the lost connection that aborting a stuck send causes: the final
        // event is claimed (synchronously) before the abort.
        if (tellObject)
        {
            _ = DeliverFinalAsync(SocketEventKind.Close, code, reason, wasClean: false, error: null);
        }
        else
        {
            Interlocked.Exchange(ref _finalEventDelivered, 1);
            _namespace.Sockets.Remove(_id, this);
        }
        _ = CloseAfterTerminateAsync(code, reason, sending);
    }

    private async Task CloseAfterTerminateAsync(int code, string reason, bool sending)
    {
        if (sending || _webSocket is not { } webSocket)
        {
            // A send in progress may never end (the client does not read): cancelling it aborts the socket.
            _abort.Cancel();
            _closeSent.TrySetResult();
            return;
        }
        try
        {
            using var timeout = new CancellationTokenSource(CloseTimeout);
            await webSocket.CloseOutputAsync((WebSocketCloseStatus)code, Truncate(reason), timeout.Token).ConfigureAwait(false);
            AbortAfterCloseTimeout();
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or IOException or ObjectDisposedException)
        {
            webSocket.Abort();
        }
        finally
        {
            _closeSent.TrySetResult();
        }
    }

    private void AbortAfterCloseTimeout()
    {
        // The receive loop ends when the client answers the close; one that never does is dropped.
        _ = Task.Delay(CloseTimeout).ContinueWith(
            static (_, state) =>
            {
                var socket = (HostedWebSocket)state!;
                if (socket.State != DurableWebSocketState.Closed)
                {
                    socket._abort.Cancel();
                    socket._webSocket?.Abort();
                }
            },
            this, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    // A close reason has at most 123 UTF-8 bytes.
    private static string Truncate(string reason)
    {
        if (Encoding.UTF8.GetByteCount(reason) <= 123)
        {
            return reason;
        }
        var end = Math.Min(reason.Length, 123);
        while (Encoding.UTF8.GetByteCount(reason.AsSpan(0, end)) > 120)
        {
            end--;
        }
        return string.Concat(reason.AsSpan(0, end), "...");
    }

    /// <summary>
    /// Runs the connection the route upgraded: sends what the object queued during the upgrade, then
    /// receives until the socket closes; completes when the connection may end.
    /// </summary>
    public async Task RunAsync(WebSocket webSocket)
    {
        lock (_lock)
        {
            _webSocket = webSocket;
            StartPumpLocked();
        }
        try
        {
            await ReceiveAsync(webSocket).ConfigureAwait(false);
        }
        finally
        {
            _state = (int)DurableWebSocketState.Closed;
            _namespace.Sockets.Remove(_id, this);
            _abort.Cancel();
            webSocket.Abort();
            webSocket.Dispose();
            _closeSent.TrySetResult();
        }
    }

    private async Task ReceiveAsync(WebSocket webSocket)
    {
        var max = Options.MaxWebSocketMessageBytes;
        try
        {
            while (true)
            {
                // A read into no buffer first: an idle socket holds no buffer, which matters with thousands open.
                var first = await webSocket.ReceiveAsync(Memory<byte>.Empty, _abort.Token).ConfigureAwait(false);
                if (first.MessageType == WebSocketMessageType.Close)
                {
                    await ClosedByClientAsync(webSocket).ConfigureAwait(false);
                    return;
                }
                var buffer = ArrayPool<byte>.Shared.Rent(first.EndOfMessage ? 1 : 4096);
                try
                {
                    var length = 0;
                    var end = first.EndOfMessage;
                    var tooBig = false;
                    while (!end)
                    {
                        if (length == buffer.Length)
                        {
                            var larger = ArrayPool<byte>.Shared.Rent(Math.Min(buffer.Length * 2, max + 1));
                            buffer.AsSpan(0, length).CopyTo(larger);
                            ArrayPool<byte>.Shared.Return(buffer);
                            buffer = larger;
                        }
                        var part = await webSocket.ReceiveAsync(buffer.AsMemory(length), _abort.Token).ConfigureAwait(false);
                        if (part.MessageType == WebSocketMessageType.Close)
                        {
                            await ClosedByClientAsync(webSocket).ConfigureAwait(false);
                            return;
                        }
                        length += part.Count;
                        end = part.EndOfMessage;
                        if (length > max)
                        {
                            if (!tooBig)
                            {
                                Terminate(MessageTooBig, $"A message larger than {max} bytes was received.");
                            }
                            // Read on (discarding) until the client answers the close: closing with unread
                            // bytes would reset the connection before the client could read the close frame.
                            tooBig = true;
                            length = 0;
                        }
                    }
                    if (tooBig || State != DurableWebSocketState.Open)
                    {
                        continue;
                    }
                    var data = buffer.AsSpan(0, length).ToArray();
                    var message = first.MessageType == WebSocketMessageType.Text
                        ? new DurableWebSocketMessage(Encoding.UTF8.GetString(data), data)
                        : new DurableWebSocketMessage(data);
                    await HandleMessageAsync(message).ConfigureAwait(false);
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                }
            }
        }
        catch (Exception e) when (e is WebSocketException { WebSocketErrorCode: WebSocketError.ConnectionClosedPrematurely } or OperationCanceledException or IOException or ObjectDisposedException
            or Microsoft.AspNetCore.Connections.ConnectionResetException)
        {
            await DeliverFinalAsync(SocketEventKind.Close, AbnormalClosure, "The connection was lost without a close frame.", wasClean: false, error: null).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            Logger.LogInformation(e, "Receiving on a WebSocket of durable object {Namespace}/{Id} failed.", _namespace.Name, _id);
            await DeliverFinalAsync(SocketEventKind.Error, 0, string.Empty, wasClean: false, error: e).ConfigureAwait(false);
        }
    }

    private async Task ClosedByClientAsync(WebSocket webSocket)
    {
        bool answer;
        lock (_lock)
        {
            answer = !_closeStarted;
            _closeStarted = true;
            _state = (int)DurableWebSocketState.Closing;
        }
        if (!answer)
        {
            // The client answered the close the object or the runtime sent.
            return;
        }
        var code = webSocket.CloseStatus is { } status ? (int)status : 1005;
        var reason = webSocket.CloseStatusDescription ?? string.Empty;
        lock (_lock)
        {
            // The close answer goes out after what was queued before it, behind the same gates.
            _queue.Enqueue(Outgoing.CloseFrame(code == 1005 ? 1000 : code, reason, gate: null));
            StartPumpLocked();
        }
        await DeliverFinalAsync(SocketEventKind.Close, code, reason, wasClean: true, error: null).ConfigureAwait(false);
        // The close answer leaves before the connection ends (bounded: a stuck send is given up).
        await _closeSent.Task.WaitAsync(CloseTimeout).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    /// <summary>Answers the object's auto-response, or delivers the message as an event and waits for it.</summary>
    private Task HandleMessageAsync(DurableWebSocketMessage message)
    {
        if (message.IsText && _namespace.Sockets.Find(_id)?.Auto is { } auto && string.Equals(auto.Request, message.Text, StringComparison.Ordinal))
        {
            Enqueue(new Outgoing(auto.Response, WebSocketMessageType.Text, Gate: null));
            return Task.CompletedTask;
        }
        return DeliverAsync(SocketEventKind.Message, message, 0, string.Empty, wasClean: false, error: null);
    }

    private Task DeliverFinalAsync(SocketEventKind kind, int code, string reason, bool wasClean, Exception? error)
    {
        if (!IsAccepted || Interlocked.Exchange(ref _finalEventDelivered, 1) != 0)
        {
            return Task.CompletedTask;
        }
        lock (_lock)
        {
            if (_state == (int)DurableWebSocketState.Open)
            {
                _state = (int)DurableWebSocketState.Closing;
            }
        }
        _namespace.Sockets.Remove(_id, this);
        return DeliverAsync(kind, default, code, reason, wasClean, error);
    }

    private async Task DeliverAsync(SocketEventKind kind, DurableWebSocketMessage message, int code, string reason, bool wasClean, Exception? error)
    {
        // A reset activation hands the event to the next one; a few tries, as each reset is the object's own doing.
        for (var attempt = 0; attempt < 3; attempt++)
        {
            var entered = _namespace.TryEnter(_id, out var activation);
            if (entered != EnterResult.Entered)
            {
                if (kind == SocketEventKind.Message)
                {
                    Terminate(TryAgainLater, "The durable object is overloaded: try again later.");
                }
                return;
            }
            var socketEvent = new SocketEvent(activation, Socket, kind, Logger, message, code, reason, wasClean, error);
            activation.Scheduler.PostEvent(SocketEvent.Start, socketEvent);
            if (await socketEvent.Completion.ConfigureAwait(false))
            {
                return;
            }
        }
    }

    /// <summary>One message waiting to be sent, or the close frame; <see cref="Gate"/> is the output gate it waits for.</summary>
    private sealed record Outgoing(ReadOnlyMemory<byte> Data, WebSocketMessageType Type, Task? Gate)
    {
        public bool IsClose { get; private init; }

        public int Code { get; private init; }

        public string Reason { get; private init; } = string.Empty;

        public static Outgoing CloseFrame(int code, string reason, Task? gate) =>
            new(ReadOnlyMemory<byte>.Empty, WebSocketMessageType.Close, gate) { IsClose = true, Code = code, Reason = Truncate(reason) };
    }
}
