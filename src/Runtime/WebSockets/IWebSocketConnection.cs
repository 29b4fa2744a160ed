namespace SourceGenDO;

/// <summary>The connection behind a <see cref="DurableWebSocket"/>, as the server implements it.</summary>
internal interface IWebSocketConnection
{
    /// <summary>The connection's state.</summary>
    DurableWebSocketState State { get; }

    /// <summary>Queues one message (behind the output gate of the code calling); never blocks.</summary>
    void Send(ReadOnlyMemory<byte> data, bool isText);

    /// <summary>Queues the close handshake behind the messages queued so far.</summary>
    void Close(int code, string? reason);
}
