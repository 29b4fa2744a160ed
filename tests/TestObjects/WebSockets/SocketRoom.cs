using System.Globalization;
using System.Net;
using System.Text;
using System.Web;

namespace SourceGenDO.TestObjects;

/// <summary>
/// A room the WebSocket tests drive through text commands (one per message), and an HTTP echo for the
/// route tests: it answers with what it received, so that method, URL, headers and body can be compared.
/// </summary>
public sealed class SocketRoom(DurableObjectState ctx) : DurableObject(ctx)
{
    private static int s_constructed;

    /// <summary>Which construction this instance is, over the whole process: a new number means a fresh instance.</summary>
    private readonly int _instance = Interlocked.Increment(ref s_constructed);

    /// <summary>The number of accepted open sockets; through RPC.</summary>
    public Task<int> SocketCount(string? tag) => Task.FromResult(Ctx.GetWebSockets(tag).Count);

    /// <summary>This instance's construction number; through RPC.</summary>
    public Task<int> Instance() => Task.FromResult(_instance);

    /// <summary>What the socket handlers recorded (closes and errors), in order.</summary>
    public async Task<string[]> Log()
    {
        var entries = await Ctx.Storage.ListAsync<string>(new ListOptions { Prefix = "log:" });
        return [.. entries.Values];
    }

    protected override async Task<HttpResponseMessage> Fetch(HttpRequestMessage request)
    {
        var query = HttpUtility.ParseQueryString(request.RequestUri!.Query);
        if (request.GetWebSocket() is { } socket)
        {
            if (query["refuse"] is { } refusal)
            {
                return new HttpResponseMessage(HttpStatusCode.Forbidden) { Content = new StringContent("refused: " + refusal) };
            }
            if (query["noaccept"] is null)
            {
                var tags = query["tags"] is { } list ? list.Split(',') : [];
                try
                {
                    Ctx.AcceptWebSocket(socket, tags);
                }
                catch (InvalidOperationException e)
                {
                    return new HttpResponseMessage(HttpStatusCode.TooManyRequests) { Content = new StringContent("not accepted: " + e.Message) };
                }
                if (query["throwafter"] is not null)
                {
                    throw new InvalidOperationException("The room was asked to throw after accepting.");
                }
                socket.SerializeAttachment(new SocketUser(query["user"] ?? "anonymous", _instance));
                if (query["greet"] is not null)
                {
                    socket.Send("hello " + (query["user"] ?? "anonymous"));
                }
            }
            return new HttpResponseMessage(HttpStatusCode.SwitchingProtocols);
        }
        if (request.RequestUri.AbsolutePath.EndsWith("/throw", StringComparison.Ordinal))
        {
            throw new InvalidOperationException("The room was asked to throw.");
        }
        if (request.RequestUri.AbsolutePath.EndsWith("/write", StringComparison.Ordinal))
        {
            Ctx.Storage.Put("written", "yes");
            return new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent("written") };
        }
        if (request.RequestUri.AbsolutePath.EndsWith("/wait-abort", StringComparison.Ordinal))
        {
            // Waits until the client went away, and logs that it saw it.
            try
            {
                await Task.Delay(Timeout.Infinite, request.GetCancellationToken());
            }
            catch (OperationCanceledException)
            {
                Ctx.Storage.Put("log:" + DateTime.UtcNow.Ticks.ToString("D20", CultureInfo.InvariantCulture), "fetch-aborted");
            }
            return new HttpResponseMessage(HttpStatusCode.NoContent);
        }
        var body = request.Content is null ? [] : await request.Content.ReadAsByteArrayAsync();
        var response = new HttpResponseMessage(request.Method == HttpMethod.Post ? HttpStatusCode.Created : HttpStatusCode.OK)
        {
            Content = new ByteArrayContent(body),
        };
        response.Headers.Add("X-Method", request.Method.Method);
        response.Headers.Add("X-Url", request.RequestUri.ToString());
        response.Headers.Add("X-Echo", request.Headers.TryGetValues("X-Test", out var values) ? string.Join(",", values) : "");
        response.Headers.Add("X-Instance", _instance.ToString(CultureInfo.InvariantCulture));
        response.Headers.Add("X-Headers", string.Join(",", request.Headers.Select(static header => header.Key)));
        response.Content.Headers.ContentType = request.Content?.Headers.ContentType;
        return response;
    }

    protected override async Task WebSocketMessage(DurableWebSocket socket, DurableWebSocketMessage message)
    {
        if (!message.IsText)
        {
            socket.Send(message.Data);
            return;
        }
        var parts = message.Text.Split(':', 4);
        switch (parts[0])
        {
            case "whoami":
                var user = socket.DeserializeAttachment<SocketUser>()!;
                socket.Send($"me:{user.Name}:{user.AcceptedBy}:{_instance}");
                break;
            case "rename":
                socket.SerializeAttachment(new SocketUser(parts[1], _instance));
                socket.Send("renamed");
                break;
            case "broadcast":
                foreach (var peer in Ctx.GetWebSockets(parts[1]))
                {
                    peer.Send(parts[2]);
                }
                break;
            case "count":
                socket.Send("count:" + Ctx.GetWebSockets(parts.Length > 1 ? parts[1] : null).Count.ToString(CultureInfo.InvariantCulture));
                break;
            case "close":
                socket.Close(int.Parse(parts[1], CultureInfo.InvariantCulture), parts.Length > 2 ? parts[2] : null);
                break;
            case "throw":
                throw new InvalidOperationException("The handler was asked to throw.");
            case "read":
                // A read of a key not cached: the input gate holds other events while it is pending.
                var value = await Ctx.Storage.GetAsync<string>("cold:" + parts[1]);
                socket.Send("read:" + parts[1] + ":" + (value ?? "none"));
                break;
            case "write-then-send":
                Ctx.Storage.Put("key:" + parts[1], parts[1]);
                socket.Send("sent:" + parts[1]);
                break;
            case "flood":
                // flood:<tag>:<count>:<size> sends to the sockets of the tag without waiting for them.
                var payload = new string('x', int.Parse(parts[3], CultureInfo.InvariantCulture));
                foreach (var target in Ctx.GetWebSockets(parts[1]))
                {
                    for (var i = 0; i < int.Parse(parts[2], CultureInfo.InvariantCulture); i++)
                    {
                        if (target.ReadyState != DurableWebSocketState.Open)
                        {
                            break;
                        }
                        target.Send(payload);
                    }
                }
                socket.Send("flooded");
                break;
            case "send-big":
                // send-big:<size> sends one message of that many bytes, or reports why it cannot.
                try
                {
                    socket.Send(new string('b', int.Parse(parts[1], CultureInfo.InvariantCulture)));
                }
                catch (ArgumentException e)
                {
                    socket.Send("refused:" + e.Message);
                }
                break;
            case "auto":
                Ctx.SetWebSocketAutoResponse(parts[1], parts[2]);
                socket.Send("auto-set");
                break;
            case "noauto":
                Ctx.ClearWebSocketAutoResponse();
                socket.Send("auto-cleared");
                break;
            case "tags":
                // tags:<count>:<length> tries to accept nothing; it reports what the tag check says.
                socket.Send(TryTags(int.Parse(parts[1], CultureInfo.InvariantCulture), int.Parse(parts[2], CultureInfo.InvariantCulture)));
                break;
            case "big-attachment":
                try
                {
                    socket.SerializeAttachment(new string('a', int.Parse(parts[1], CultureInfo.InvariantCulture)));
                    socket.Send("attached");
                }
                catch (ArgumentException e)
                {
                    socket.Send("refused:" + e.Message);
                }
                break;
            default:
                socket.Send("echo:" + message.Text);
                break;
        }
        await Task.CompletedTask;
    }

    protected override async Task WebSocketClose(DurableWebSocket socket, int code, string reason, bool wasClean)
    {
        var name = socket.DeserializeAttachment<SocketUser>()?.Name ?? "?";
        var line = $"close:{name}:{code}:{wasClean}";
        Ctx.Storage.Put("log:" + DateTime.UtcNow.Ticks.ToString("D20", CultureInfo.InvariantCulture) + Guid.NewGuid().ToString("n"), line + ":" + reason);
        foreach (var peer in Ctx.GetWebSockets())
        {
            peer.Send("left:" + line);
        }
        await Task.CompletedTask;
    }

    protected override Task WebSocketError(DurableWebSocket socket, Exception error)
    {
        var name = socket.DeserializeAttachment<SocketUser>()?.Name ?? "?";
        Ctx.Storage.Put("log:" + DateTime.UtcNow.Ticks.ToString("D20", CultureInfo.InvariantCulture) + Guid.NewGuid().ToString("n"), $"error:{name}:{error.GetType().Name}");
        return Task.CompletedTask;
    }

    private string TryTags(int count, int length)
    {
        var tags = Enumerable.Range(0, count).Select(i => new string((char)('a' + (i % 26)), length));
        try
        {
            // A socket of this object that is open already: accepting it again is refused after the tag check.
            Ctx.AcceptWebSocket(Ctx.GetWebSockets()[0], tags);
            return "accepted";
        }
        catch (ArgumentException e)
        {
            return "argument:" + e.Message;
        }
        catch (InvalidOperationException e)
        {
            return "invalid:" + e.Message;
        }
    }
}

/// <summary>The attachment of a <see cref="SocketRoom"/> socket: the user's name, and which instance accepted it.</summary>
public sealed record SocketUser(string Name, int AcceptedBy);
