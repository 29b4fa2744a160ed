using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using SourceGenDO;

namespace ChatSample;

/// <summary>
/// One chat room, reached at <c>/rooms/{name}/websocket</c>. Browsers connect with a WebSocket, send their
/// name, receive the last <see cref="HistoryLength"/> messages and then every message anyone in the room
/// sends. The room keeps nothing in fields: the messages are in storage and each user's name is their
/// socket's attachment, so the instance can be evicted (hibernate) while the sockets stay open, and the
/// next message wakes a fresh instance that knows who is who.
/// </summary>
public sealed class ChatRoom : DurableObject
{
    /// <summary>The messages a room keeps and sends to whoever joins.</summary>
    public const int HistoryLength = 100;

    /// <summary>The longest name, in UTF-16 characters.</summary>
    public const int MaxNameLength = 32;

    /// <summary>The longest message text, in UTF-16 characters.</summary>
    public const int MaxTextLength = 1000;

    /// <summary>The largest WebSocket message a client may send, in bytes of JSON.</summary>
    public const int MaxMessageBytes = 8 * 1024;

    /// <summary>The longest room name; a room name is letters, digits, '-' and '_'.</summary>
    public const int MaxRoomNameLength = 64;

    private const string MessagePrefix = "msg:";
    private const string NextSequenceKey = "next";

    private readonly TimeProvider _time;
    private readonly ILogger<ChatRoom> _logger;

    /// <summary>Runs when the room's first event arrives, and again for the first event after each hibernation.</summary>
    public ChatRoom(DurableObjectState ctx, TimeProvider time, ILogger<ChatRoom> logger) : base(ctx)
    {
        _time = time;
        _logger = logger;
        ChatLog.RoomLive(logger, RoomName);
    }

    private string RoomName => Ctx.Id.Name ?? Ctx.Id.ToString();

    /// <summary>Accepts a WebSocket upgrade at <c>/rooms/{name}/websocket</c>; anything else is answered with a clear status.</summary>
    protected override Task<HttpResponseMessage> Fetch(HttpRequestMessage request)
    {
        if (!IsValidRoomName(Ctx.Id.Name))
        {
            return Answer(HttpStatusCode.BadRequest,
                $"A room name is 1 to {MaxRoomNameLength} letters, digits, '-' or '_'.");
        }
        if (request.RequestUri?.AbsolutePath.EndsWith("/websocket", StringComparison.Ordinal) != true)
        {
            return Answer(HttpStatusCode.NotFound, $"Room \"{Ctx.Id.Name}\" has one address: /rooms/{Ctx.Id.Name}/websocket (a WebSocket).");
        }
        if (request.GetWebSocket() is not { } socket)
        {
            return Answer(HttpStatusCode.UpgradeRequired, "This address takes a WebSocket upgrade (GET with Upgrade: websocket).");
        }
        // No tags: every socket of the room gets every message. Who it is comes with its first message.
        Ctx.AcceptWebSocket(socket);
        return Task.FromResult(new HttpResponseMessage(HttpStatusCode.SwitchingProtocols));
    }

    /// <summary>A client's message: its name first (then it gets the history), then texts to broadcast.</summary>
    protected override async Task WebSocketMessage(DurableWebSocket socket, DurableWebSocketMessage message)
    {
        var (client, error) = Parse(message);
        if (client is null)
        {
            SendError(socket, error!);
            return;
        }
        var member = socket.DeserializeAttachment<ChatMember>();
        if (member is null)
        {
            await Join(socket, client);
        }
        else
        {
            await Say(socket, member, client);
        }
    }

    /// <summary>A socket closed: the others are told who left.</summary>
    protected override Task WebSocketClose(DurableWebSocket socket, int code, string reason, bool wasClean)
    {
        if (socket.DeserializeAttachment<ChatMember>() is { } member)
        {
            Broadcast(new ServerMessage { Type = "left", Name = member.Name }, except: socket);
        }
        return Task.CompletedTask;
    }

    /// <summary>A socket failed (the runtime closes it): logged; the others are told who left.</summary>
    protected override Task WebSocketError(DurableWebSocket socket, Exception error)
    {
        ChatLog.SocketFailed(_logger, error, RoomName);
        return WebSocketClose(socket, 1011, error.Message, wasClean: false);
    }

    private async Task Join(DurableWebSocket socket, ClientMessage client)
    {
        if (client.Name is null)
        {
            SendError(socket, "Join first: send {\"name\":\"your name\"}.");
            return;
        }
        var name = client.Name.Trim();
        if (name.Length is 0 or > MaxNameLength || name.Any(char.IsControl))
        {
            SendError(socket, $"A name is 1 to {MaxNameLength} characters without control characters; this one has {name.Length}.");
            return;
        }
        socket.SerializeAttachment(new ChatMember(name));

        var history = await Ctx.Storage.ListAsync<ChatEntry>(new ListOptions { Prefix = MessagePrefix, Reverse = true, Limit = HistoryLength });
        foreach (var entry in history.OrderBy(pair => pair.Key, StringComparer.Ordinal))
        {
            TrySend(socket, ServerMessage.From(entry.Value).ToJson());
        }
        var members = Ctx.GetWebSockets()
            .Select(other => other.DeserializeAttachment<ChatMember>()?.Name)
            .OfType<string>()
            .ToList();
        TrySend(socket, new ServerMessage { Type = "ready", Name = name, Members = members }.ToJson());
        Broadcast(new ServerMessage { Type = "joined", Name = name }, except: socket);
    }

    private async Task Say(DurableWebSocket socket, ChatMember member, ClientMessage client)
    {
        if (client.Name is not null)
        {
            SendError(socket, $"You have joined as \"{member.Name}\"; send {{\"text\":\"...\"}} to talk.");
            return;
        }
        var text = client.Text?.Trim();
        if (string.IsNullOrEmpty(text))
        {
            SendError(socket, "Send {\"text\":\"...\"} with some text to talk.");
            return;
        }
        if (text.Length > MaxTextLength)
        {
            SendError(socket, $"A message is at most {MaxTextLength} characters; this one has {text.Length}.");
            return;
        }

        var entry = new ChatEntry(member.Name, text, _time.GetUtcNow().ToUnixTimeMilliseconds());
        // Not awaited but ordered: the output gate holds the broadcast below until these writes are durable.
        var sequence = await Ctx.Storage.GetAsync(NextSequenceKey, 0L);
        Ctx.Storage.Put(MessageKey(sequence), entry);
        Ctx.Storage.Put(NextSequenceKey, sequence + 1);
        if (sequence >= HistoryLength)
        {
            await Ctx.Storage.DeleteAsync(MessageKey(sequence - HistoryLength));
        }
        Broadcast(ServerMessage.From(entry), except: null);
    }

    // The client's message, or what is wrong with it.
    private static (ClientMessage? Message, string? Error) Parse(DurableWebSocketMessage message)
    {
        const string Shape = "JSON such as {\"name\":\"alice\"} or {\"text\":\"hello\"}";
        if (!message.IsText)
        {
            return (null, $"The chat takes text messages: {Shape}.");
        }
        if (message.Data.Length > MaxMessageBytes)
        {
            return (null, $"A message is at most {MaxMessageBytes} bytes of JSON; this one has {message.Data.Length}.");
        }
        try
        {
            return JsonSerializer.Deserialize(message.Data.Span, ChatJson.Default.ClientMessage) is { } client
                ? (client, null)
                : (null, $"Send {Shape}, not null.");
        }
        catch (JsonException e)
        {
            return (null, $"Send {Shape}: {e.Message}");
        }
    }

    private void Broadcast(ServerMessage message, DurableWebSocket? except)
    {
        var json = message.ToJson();
        foreach (var socket in Ctx.GetWebSockets())
        {
            if (!ReferenceEquals(socket, except))
            {
                TrySend(socket, json);
            }
        }
    }

    private static void SendError(DurableWebSocket socket, string error) =>
        TrySend(socket, new ServerMessage { Type = "error", Error = error }.ToJson());

    // A socket can close between being listed and being sent to; its close event follows, so skip it.
    private static void TrySend(DurableWebSocket socket, string json)
    {
        try
        {
            socket.Send(json);
        }
        catch (InvalidOperationException) when (socket.ReadyState != DurableWebSocketState.Open)
        {
        }
    }

    private static string MessageKey(long sequence) =>
        MessagePrefix + sequence.ToString("D12", CultureInfo.InvariantCulture);

    private static bool IsValidRoomName(string? name) =>
        name is { Length: > 0 and <= MaxRoomNameLength } && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_');

    private static Task<HttpResponseMessage> Answer(HttpStatusCode status, string text) =>
        Task.FromResult(new HttpResponseMessage(status) { Content = new StringContent(text, Encoding.UTF8, "text/plain") });
}
