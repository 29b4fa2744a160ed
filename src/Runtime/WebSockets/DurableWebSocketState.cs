namespace SourceGenDO;

/// <summary>The state of a <see cref="DurableWebSocket"/>, as the browser's <c>WebSocket.readyState</c>.</summary>
public enum DurableWebSocketState
{
    /// <summary>The upgrade has not been accepted yet (<c>Ctx.AcceptWebSocket</c> was not called).</summary>
    Connecting,

    /// <summary>Accepted and connected: messages flow both ways.</summary>
    Open,

    /// <summary>A close was sent or received; no more messages are sent.</summary>
    Closing,

    /// <summary>The connection has ended.</summary>
    Closed,
}
