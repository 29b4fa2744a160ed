using System.Collections.Concurrent;
using System.Net;
using System.Web;

namespace SourceGenDO.TestObjects;

/// <summary>
/// A room whose message handler can be held: "hold:&lt;key&gt;" answers "holding", waits until the test calls
/// <see cref="Release"/> with the key, then answers "done:hold:&lt;key&gt;". Closes are recorded by the key
/// the socket's URL gave (?key=).
/// </summary>
public sealed class SlowSocketRoom(DurableObjectState ctx) : DurableObject(ctx)
{
    private static readonly ConcurrentDictionary<string, TaskCompletionSource> s_gates = new();
    private static readonly ConcurrentDictionary<string, ConcurrentQueue<string>> s_closes = new();

    /// <summary>Lets the handlers holding <paramref name="key"/> go on.</summary>
    public static void Release(string key) => Gate(key).TrySetResult();

    /// <summary>The closes the sockets of <paramref name="key"/> reported, as "code:reason:wasClean".</summary>
    public static IReadOnlyCollection<string> Closes(string key) => s_closes.GetOrAdd(key, static _ => new());

    /// <summary>Answers; for tests that need the object live.</summary>
    public Task<int> Ping() => Task.FromResult(1);

    private static TaskCompletionSource Gate(string key) => s_gates.GetOrAdd(key, static _ => new(TaskCreationOptions.RunContinuationsAsynchronously));

    protected override Task<HttpResponseMessage> Fetch(HttpRequestMessage request)
    {
        if (request.GetWebSocket() is not { } socket)
        {
            return Task.FromResult(new HttpResponseMessage(HttpStatusCode.BadRequest));
        }
        Ctx.AcceptWebSocket(socket);
        socket.SerializeAttachment(HttpUtility.ParseQueryString(request.RequestUri!.Query)["key"] ?? "");
        return Task.FromResult(new HttpResponseMessage(HttpStatusCode.SwitchingProtocols));
    }

    protected override async Task WebSocketMessage(DurableWebSocket socket, DurableWebSocketMessage message)
    {
        if (message.Text.StartsWith("hold:", StringComparison.Ordinal))
        {
            socket.Send("holding");
            await Gate(message.Text["hold:".Length..]).Task;
        }
        socket.Send("done:" + message.Text);
    }

    protected override Task WebSocketClose(DurableWebSocket socket, int code, string reason, bool wasClean)
    {
        ((ConcurrentQueue<string>)Closes(socket.DeserializeAttachment<string>() ?? ""))!.Enqueue($"{code}:{reason}:{wasClean}");
        return Task.CompletedTask;
    }
}
