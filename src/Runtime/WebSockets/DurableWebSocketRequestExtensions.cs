namespace SourceGenDO;

/// <summary>Finds the WebSocket of an upgrade request a route handed to <see cref="DurableObject.Fetch"/>.</summary>
public static class DurableWebSocketRequestExtensions
{
    private static readonly HttpRequestOptionsKey<DurableWebSocket> SocketKey = new("SourceGenDO.WebSocket");

    /// <summary>
    /// The WebSocket the client asks to open, when <paramref name="request"/> is a WebSocket upgrade that
    /// arrived through a route (<c>app.MapDurableObjectRoute</c>); null otherwise. Accept it with
    /// <see cref="DurableObjectState.AcceptWebSocket"/> and answer 101 Switching Protocols.
    /// </summary>
    public static DurableWebSocket? GetWebSocket(this HttpRequestMessage request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return request.Options.TryGetValue(SocketKey, out var socket) ? socket : null;
    }

    /// <summary>Attaches <paramref name="socket"/> to <paramref name="request"/>; the server's routes call this.</summary>
    internal static void SetWebSocket(this HttpRequestMessage request, DurableWebSocket socket) => request.Options.Set(SocketKey, socket);
}
