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
internal sealed partial class HostedWebSocket : IWebSocketConnection
{
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
    // Set once the object called Close: a connection then lost is not reported back to it.
    private bool _closedByObject;
    // Set once Terminate ran.
    private bool _terminated;
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

    // How long a close handshake may take before the connection is dropped.
    private TimeSpan CloseTimeout => Options.WebSocketCloseTimeout;

    private ILogger Logger => _namespace.Logger;

    public void Accept(string[] tags)
    {
        lock (_lock)
        {
            if (_accepted)
            {
                throw new InvalidOperationException("This WebSocket was accepted already.");
            }
            if (State != DurableWebSocketState.Connecting)
            {
                throw new InvalidOperationException("This WebSocket's upgrade was refused or ended: accept a socket while handling its request.");
            }
            var max = Options.MaxWebSocketsPerObject;
            if (!_namespace.Sockets.TryAdd(_id, this, max))
            {
                throw new InvalidOperationException(
                    $"This durable object has {max} accepted WebSockets open, the most DurableObjectsOptions.MaxWebSocketsPerObject allows: refuse the upgrade, or close a socket first.");
            }
            _accepted = true;
            Socket.Tags = Array.AsReadOnly(tags);
            _state = (int)DurableWebSocketState.Open;
        }
    }

    /// <summary>Where the socket is in its object's list; guarded by that list's lock.</summary>
    public LinkedListNode<HostedWebSocket>? Node { get; set; }

    /// <summary>
    /// The upgrade did not complete (Fetch answered something else than 101, threw, the output gate broke,
    /// the handshake failed or the server is stopping): the socket never opens. An object that had accepted
    /// it gets <c>WebSocketClose</c> with 1006, so that it does not believe it open.
    /// </summary>
    public void Refuse()
    {
        lock (_lock)
        {
            _queue.Clear();
            _queuedBytes = 0;
        }
        // The close is claimed (and the socket taken out of the table) while the state still says accepted.
        _ = DeliverFinalAsync(SocketEventKind.Close, AbnormalClosure, "The WebSocket upgrade did not complete.", wasClean: false, error: null);
        _state = (int)DurableWebSocketState.Closed;
        _namespace.Sockets.Remove(_id, this);
    }

    /// <summary>
    /// Closes the socket because it broke a bound or a write failed: what is queued is dropped, the client
    /// gets <paramref name="code"/> (or, when a send to it is stuck, the connection is dropped), and the
    /// object gets <c>WebSocketClose</c> with that code, not clean (unless <paramref name="tellObject"/> is
    /// false: a stopping server does not construct instances to say so). Once a close started this does
    /// nothing, unless <paramref name="evenIfClosing"/>: a broken output gate must not leave the close it
    /// held back waiting forever.
    /// </summary>
    public void Terminate(int code, string reason, bool tellObject = true, bool evenIfClosing = false)
    {
        bool sending;
        lock (_lock)
        {
            if (_terminated || State == DurableWebSocketState.Closed || (_closeStarted && !evenIfClosing))
            {
                return;
            }
            _terminated = true;
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
}
