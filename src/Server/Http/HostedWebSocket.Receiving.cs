using System.Buffers;
using System.Net.WebSockets;
using System.Text;
using Microsoft.Extensions.Logging;
using SourceGenDO.Server.Execution;

namespace SourceGenDO.Server.Http;

/// <summary>Receiving: whole messages, bounded in size, answered by the auto-response or delivered to the object as events.</summary>
internal sealed partial class HostedWebSocket
{
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
        // The read into no buffer started while the previous message's handler ran, if it took a while.
        Task<ValueWebSocketReceiveResult>? next = null;
        try
        {
            while (true)
            {
                // A read into no buffer first: an idle socket holds no buffer, which matters with thousands open.
                var first = next is not null
                    ? await next.ConfigureAwait(false)
                    : await webSocket.ReceiveAsync(Memory<byte>.Empty, _abort.Token).ConfigureAwait(false);
                next = null;
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
                    var handling = HandleMessageAsync(message);
                    if (!handling.IsCompleted)
                    {
                        // Keep reading while the handler runs, into no buffer: that answers pings and sees
                        // the pongs of the keep-alive (without it a handler slower than the keep-alive
                        // timeout drops the connection), and it returns at the next data frame's header,
                        // so a fast client is still held back by TCP.
                        next = webSocket.ReceiveAsync(Memory<byte>.Empty, _abort.Token).AsTask();
                    }
                    await handling.ConfigureAwait(false);
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
            if (ClosedByObject)
            {
                // The object closed it and the client never answered: the object knows it closed, so
                // it is not told (as on Cloudflare).
                return;
            }
            await DeliverFinalAsync(SocketEventKind.Close, AbnormalClosure, "The connection was lost without a close frame.", wasClean: false, error: null).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            Logger.LogInformation(e, "Receiving on a WebSocket of durable object {Namespace}/{Id} failed.", _namespace.Name, _id);
            await DeliverFinalAsync(SocketEventKind.Error, 0, string.Empty, wasClean: false, error: e).ConfigureAwait(false);
        }
    }

    private bool ClosedByObject
    {
        get
        {
            lock (_lock)
            {
                return _closedByObject && !_terminated;
            }
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
            // A close or an error is delivered even to an object at its queue bound: it is the last
            // event of the socket, and dropping it would leave the object believing the socket open.
            var entered = _namespace.TryEnter(_id, out var activation, pastLimit: kind != SocketEventKind.Message);
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
}
