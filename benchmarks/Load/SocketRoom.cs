namespace SourceGenDO.Load;

/// <summary>
/// A chat-like room for the socket memory benchmark: it accepts every upgrade, keeps the user's name as
/// the socket's attachment, and answers a message with the number of sockets in the room. Each instance
/// holds <see cref="StateBytes"/> of in-memory state, standing for what a real room keeps (recent
/// messages, say), which hibernation gives back.
/// </summary>
public sealed class BenchSocketRoom(DurableObjectState ctx) : DurableObject(ctx)
{
    /// <summary>The bytes of state each instance holds; set once by the server role.</summary>
    internal static int StateBytes { get; set; }

    private readonly byte[] _state = NewState();

    private static byte[] NewState()
    {
        var state = new byte[StateBytes];
        state.AsSpan().Fill(1);
        return state;
    }

    protected override Task<HttpResponseMessage> Fetch(HttpRequestMessage request)
    {
        if (request.GetWebSocket() is not { } socket)
        {
            return Task.FromResult(new HttpResponseMessage(System.Net.HttpStatusCode.BadRequest));
        }
        var user = request.RequestUri!.Query.TrimStart('?');
        Ctx.AcceptWebSocket(socket, ["user:" + user]);
        socket.SerializeAttachment(user);
        return Task.FromResult(new HttpResponseMessage(System.Net.HttpStatusCode.SwitchingProtocols));
    }

    protected override Task WebSocketMessage(DurableWebSocket socket, DurableWebSocketMessage message)
    {
        socket.Send($"{socket.DeserializeAttachment<string>()} in a room of {Ctx.GetWebSockets().Count} holding {_state.Length} bytes");
        return Task.CompletedTask;
    }
}
