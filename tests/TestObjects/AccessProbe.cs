using System.Collections.Concurrent;
using System.Net;

namespace SourceGenDO.TestObjects;

/// <summary>
/// The access tests' object: counts its constructions by name (a refused request must construct none), and
/// tells what credentials reached its Fetch (the server takes the token out).
/// </summary>
public sealed class AccessProbe(DurableObjectState ctx) : DurableObject(ctx)
{
    /// <summary>How often an instance of each name was constructed, over the whole process.</summary>
    public static readonly ConcurrentDictionary<string, int> Constructions = new();

    private readonly int _construction = Constructions.AddOrUpdate(ctx.Id.Name ?? ctx.Id.ToString(), 1, static (_, count) => count + 1);

    public Task<string> Hello() => Task.FromResult($"hello {Ctx.Id.Name} ({_construction})");

    protected override Task<HttpResponseMessage> Fetch(HttpRequestMessage request)
    {
        if (request.GetWebSocket() is { } socket)
        {
            Ctx.AcceptWebSocket(socket);
            socket.Send(Seen(request));
            return Task.FromResult(new HttpResponseMessage(HttpStatusCode.SwitchingProtocols));
        }
        return Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent(Seen(request)) });
    }

    protected override Task WebSocketMessage(DurableWebSocket socket, DurableWebSocketMessage message)
    {
        socket.Send("echo:" + message.Text);
        return Task.CompletedTask;
    }

    protected override Task WebSocketClose(DurableWebSocket socket, int code, string reason, bool wasClean) => Task.CompletedTask;

    // What of the client's credentials reached the object.
    private static string Seen(HttpRequestMessage request) =>
        $"authorization={Header(request, "Authorization")}; protocols={Header(request, "Sec-WebSocket-Protocol")}";

    private static string Header(HttpRequestMessage request, string name) =>
        request.Headers.TryGetValues(name, out var values) ? string.Join(",", values) : "none";
}
