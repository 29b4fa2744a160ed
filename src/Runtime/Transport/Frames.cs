using SourceGenDO.Serialization;
using SourceGenDO.Wire;

namespace SourceGenDO.Transport;

// The frames of the Connect stream (protos/sourcegendo.proto: ClientFrame, ServerFrame) as the two sides
// hold them. They are encoded and decoded by hand rather than through the generated message classes,
// so that a frame costs a few allocations instead of several per call: the bytes on the wire are the
// same, and clients built from the .proto talk to them unchanged.

/// <summary>One entry of a frame a client sends: an open, a call, a cancellation or a close.</summary>
internal readonly record struct ClientEntry(
    ulong CallId = 0,
    uint Channel = 0,
    string? Method = null,
    ReadOnlyMemory<byte> Args = default,
    bool Cancellable = false,
    OpenChannel? Open = null,
    bool IsCancel = false,
    bool IsClose = false);

/// <summary>A client frame on its way out; encoded with its stream's reusable <see cref="Encoder"/>.</summary>
internal sealed class OutgoingClientFrame(WireWriter encoder)
{
    public List<ClientEntry> Entries { get; } = [];

    public WireWriter Encoder { get; } = encoder;
}

/// <summary>A call as the server reads it; <see cref="Args"/> is a slice of its frame's bytes.</summary>
internal readonly record struct IncomingCallData(ulong CallId, uint Channel, string Method, ReadOnlyMemory<byte> Args, bool Cancellable);

/// <summary>A client frame as the server reads it, sorted into the order it is handled in.</summary>
internal sealed class IncomingClientFrame(int calls)
{
    public List<OpenChannel> Opens { get; } = [];

    public List<IncomingCallData> Calls { get; } = new(calls);

    public List<ulong> Cancels { get; } = [];

    public List<uint> Closes { get; } = [];
}

/// <summary>One entry of a frame the server sends: a result (a value or an error) or a closed channel.</summary>
internal readonly record struct ServerEntry(ulong CallId, ReadOnlyMemory<byte> Value, Error? Error, ChannelClosed? Closed = null);

/// <summary>A server frame on its way out; encoded with its stream's reusable <see cref="Encoder"/>.</summary>
internal sealed class OutgoingServerFrame(WireWriter encoder)
{
    public List<ServerEntry> Entries { get; } = [];

    public WireWriter Encoder { get; } = encoder;
}

/// <summary>A result as the client reads it; <see cref="Value"/> is a slice of its frame's bytes.</summary>
internal readonly record struct IncomingResult(ulong CallId, ReadOnlyMemory<byte> Value, Error? Error);

/// <summary>A server frame as the client reads it.</summary>
internal sealed class IncomingServerFrame(int results)
{
    public List<IncomingResult> Results { get; } = new(results);

    public List<ChannelClosed> Closed { get; } = [];
}
