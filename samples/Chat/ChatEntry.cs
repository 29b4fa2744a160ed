namespace ChatSample;

/// <summary>One message as the room stores it (key <c>msg:</c> + a 12-digit sequence number); the room keeps the last 100.</summary>
/// <param name="Name">Who sent it.</param>
/// <param name="Text">What they said.</param>
/// <param name="Time">When the room received it, in milliseconds since the Unix epoch.</param>
public sealed record ChatEntry(string Name, string Text, long Time);

/// <summary>
/// Who is behind a socket: the socket's attachment, kept by the runtime beside the socket, so a room
/// woken from hibernation still knows every user's name without having kept anything in memory.
/// </summary>
/// <param name="Name">The name the user joined with.</param>
public sealed record ChatMember(string Name);
