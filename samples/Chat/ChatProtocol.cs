using System.Text.Json;
using System.Text.Json.Serialization;

namespace ChatSample;

/// <summary>
/// What a client sends, as a JSON text message: first <c>{"name":"alice"}</c> to join, then
/// <c>{"text":"hello"}</c> for each message.
/// </summary>
public sealed class ClientMessage
{
    /// <summary>The name to join with (the first message only).</summary>
    public string? Name { get; init; }

    /// <summary>A message to broadcast to the room (after joining).</summary>
    public string? Text { get; init; }
}

/// <summary>
/// What the room sends, as a JSON text message whose <c>type</c> says which fields are set:
/// <c>message</c> (name, text, time; history and live messages alike), <c>ready</c> (after the history, with
/// the members present), <c>joined</c> and <c>left</c> (name), <c>error</c> (error: what was wrong with the
/// client's last message; the socket stays open).
/// </summary>
public sealed class ServerMessage
{
    /// <summary><c>message</c>, <c>ready</c>, <c>joined</c>, <c>left</c> or <c>error</c>.</summary>
    public required string Type { get; init; }

    /// <summary>Who sent the message, joined or left.</summary>
    public string? Name { get; init; }

    /// <summary>The message.</summary>
    public string? Text { get; init; }

    /// <summary>When the room received the message, in milliseconds since the Unix epoch.</summary>
    public long? Time { get; init; }

    /// <summary>The names of the members in the room (on <c>ready</c>).</summary>
    public IReadOnlyList<string>? Members { get; init; }

    /// <summary>What was wrong with the client's last message.</summary>
    public string? Error { get; init; }

    /// <summary>A stored message as the room shows it.</summary>
    public static ServerMessage From(ChatEntry entry) =>
        new() { Type = "message", Name = entry.Name, Text = entry.Text, Time = entry.Time };

    /// <summary>This message as JSON text, by generated code.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, ChatJson.Default.ServerMessage);
}

/// <summary>The chat's JSON, serialized by System.Text.Json's source generator: no reflection, Native-AOT safe.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow)]
[JsonSerializable(typeof(ClientMessage))]
[JsonSerializable(typeof(ServerMessage))]
public sealed partial class ChatJson : JsonSerializerContext;
