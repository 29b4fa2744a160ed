using System.Net.WebSockets;
using System.Text;

namespace SourceGenDO.Server.Http;

/// <summary>Sending: the bounded queue behind the output gate, and the one loop that writes it to the connection.</summary>
internal sealed partial class HostedWebSocket
{
    public void Send(ReadOnlyMemory<byte> data, bool isText)
    {
        // A message the queue could never hold is the sender's mistake, not a client that does not read.
        var limit = Options.MaxWebSocketSendQueueBytes;
        if (data.Length > limit)
        {
            throw new ArgumentException(
                $"A WebSocket message of {data.Length} bytes is larger than a socket's send queue (DurableObjectsOptions.MaxWebSocketSendQueueBytes, {limit} bytes): it cannot be sent.",
                nameof(data));
        }
        Enqueue(new Outgoing(data, isText ? WebSocketMessageType.Text : WebSocketMessageType.Binary, CurrentOutputGate()));
    }

    public void Close(int code, string? reason)
    {
        lock (_lock)
        {
            if (State != DurableWebSocketState.Open)
            {
                return;
            }
            _closeStarted = true;
            _closedByObject = true;
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
                        // The output gate broke: nothing the object sent after the failed write may leave,
                        // not even a close it queued (the socket closes with 1011 instead).
                        Terminate((int)WebSocketCloseStatus.InternalServerError, "A write of the durable object failed: the messages sent after it were dropped.", evenIfClosing: true);
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
