namespace SourceGenDO;

/// <summary>What a route attaches to the request it hands to <see cref="DurableObject.Fetch"/>: the WebSocket of an upgrade, and the client's cancellation.</summary>
public static class DurableWebSocketRequestExtensions
{
    private static readonly HttpRequestOptionsKey<DurableWebSocket> SocketKey = new("SourceGenDO.WebSocket");
    private static readonly HttpRequestOptionsKey<CancellationToken> AbortedKey = new("SourceGenDO.RequestAborted");

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

    /// <summary>
    /// Cancelled when the client of a request that arrived through a route went away before the response
    /// was written; <see cref="CancellationToken.None"/> for other requests. A <see cref="DurableObject.Fetch"/>
    /// handler that works long (or streams a long response) passes it on to stop early: the runtime cannot
    /// stop a handler, which holds its object's event until it returns.
    /// </summary>
    public static CancellationToken GetCancellationToken(this HttpRequestMessage request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return request.Options.TryGetValue(AbortedKey, out var token) ? token : CancellationToken.None;
    }

    /// <summary>Attaches the token that <see cref="GetCancellationToken"/> returns; the server's routes call this.</summary>
    internal static void SetCancellationToken(this HttpRequestMessage request, CancellationToken token) => request.Options.Set(AbortedKey, token);

    /// <summary>Attaches <paramref name="socket"/> to <paramref name="request"/>; the server's routes call this.</summary>
    internal static void SetWebSocket(this HttpRequestMessage request, DurableWebSocket socket) => request.Options.Set(SocketKey, socket);
}
