namespace ChatSample;

/// <summary>The chat's log messages, by the logging source generator.</summary>
internal static partial class ChatLog
{
    /// <summary>A room's instance was constructed: its first event, or the first after it hibernated.</summary>
    [LoggerMessage(1, LogLevel.Information, "Room {Room} is live (a new instance)")]
    public static partial void RoomLive(ILogger logger, string room);

    /// <summary>A socket of the room failed.</summary>
    [LoggerMessage(2, LogLevel.Warning, "A socket of room {Room} failed")]
    public static partial void SocketFailed(ILogger logger, Exception error, string room);
}
