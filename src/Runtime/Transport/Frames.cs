using System.Diagnostics;
using SourceGenDO.Pooling;
using SourceGenDO.Serialization;
using SourceGenDO.Wire;

namespace SourceGenDO.Transport;

// The frames of the Connect stream (protos/sourcegendo.proto: ClientFrame, ServerFrame) as the two sides
// hold them. They are encoded and decoded by hand rather than through the generated message classes,
// so that a frame costs a few allocations instead of several per call: the bytes on the wire are the
// same, and clients built from the .proto talk to them unchanged.

/// <summary>
/// One entry of a frame a client sends: an open, a call, a cancellation, a close, or a piece of a fetch
/// body (<see cref="Part"/>: a chunk of a request body in <see cref="Args"/>, or credit for a response body).
/// A call traced by a listener carries its span in <see cref="Trace"/>, whose W3C context goes on the wire.
/// </summary>
internal readonly record struct ClientEntry(
    ulong CallId = 0,
    uint Channel = 0,
    string? Method = null,
    ReadOnlyMemory<byte> Args = default,
    bool Cancellable = false,
    OpenChannel? Open = null,
    bool IsCancel = false,
    bool IsClose = false,
    BodyPart Part = BodyPart.None,
    BodySignal Body = default,
    Activity? Trace = null);

/// <summary>Which body entry (BodyChunk, BodyCredit of protos/sourcegendo.proto) an entry is; None for every other entry.</summary>
internal enum BodyPart : byte
{
    None,
    Chunk,
    Credit,
}

/// <summary>
/// The fields of a body entry besides its call id and data: a chunk's end and error, or a credit's
/// bytes and stop.
/// </summary>
internal readonly record struct BodySignal(bool Last = false, uint Credit = 0, Error? Error = null);

/// <summary>A piece of a streamed body as its receiver reads it; <see cref="Data"/> is a slice of its frame's bytes.</summary>
internal readonly record struct IncomingBodyChunk(ulong CallId, ReadOnlyMemory<byte> Data, bool End, Error? Error);

/// <summary>Credit (or a stop) for a streamed body, as its sender reads it.</summary>
internal readonly record struct IncomingBodyCredit(ulong CallId, uint Bytes, bool Stop);

/// <summary>A client frame on its way out; encoded with its stream's reusable <see cref="Encoder"/>.</summary>
internal sealed class OutgoingClientFrame(WireWriter encoder)
{
    public List<ClientEntry> Entries { get; } = [];

    public WireWriter Encoder { get; } = encoder;
}

/// <summary>The bounds of the received frames kept for reuse.</summary>
internal static class FramePool
{
    /// <summary>
    /// The most entries a kept frame's lists have room for: 1,024, as many as either side packs into a
    /// frame. A frame that carried more (a raw client's) is not kept, so its lists' room goes to the GC.
    /// </summary>
    public const int MaxKeptEntries = 1024;

    /// <summary>
    /// How many frames of each kind the shared cache keeps besides one per thread: a frame is only out
    /// while it is decoded and dispatched, so a few cover every stream. At most about 64 × 40 KiB.
    /// </summary>
    public const int SharedCapacity = 64;
}

/// <summary>
/// A call as the server reads it; <see cref="Args"/>, and the caller's W3C <see cref="TraceParent"/> and
/// <see cref="TraceState"/> when it sent them (empty otherwise), are slices of its frame's bytes.
/// </summary>
internal readonly record struct IncomingCallData(
    ulong CallId, uint Channel, string Method, ReadOnlyMemory<byte> Args, bool Cancellable,
    ReadOnlyMemory<byte> TraceParent = default, ReadOnlyMemory<byte> TraceState = default);

/// <summary>
/// A client frame as the server reads it, sorted into the order it is handled in. Frames are reused:
/// the server gives each back with <see cref="Release"/> once it has dispatched it. The payload the
/// calls' arguments are slices of is not part of that: the calls keep it until they have run.
/// </summary>
internal sealed class IncomingClientFrame
{
    private IncomingClientFrame()
    {
    }

    public List<OpenChannel> Opens { get; } = [];

    public List<IncomingCallData> Calls { get; } = [];

    public List<ulong> Cancels { get; } = [];

    public List<uint> Closes { get; } = [];

    public List<IncomingBodyChunk> Chunks { get; } = [];

    public List<IncomingBodyCredit> Credits { get; } = [];

    /// <summary>An empty frame with room for <paramref name="calls"/> calls.</summary>
    public static IncomingClientFrame Rent(int calls)
    {
        var frame = ObjectCache<IncomingClientFrame>.Take() ?? new IncomingClientFrame();
        frame.Calls.EnsureCapacity(calls);
        return frame;
    }

    /// <summary>
    /// Gives the frame back once it is dispatched; it may not be read afterwards. A frame whose lists
    /// grew past <see cref="FramePool.MaxKeptEntries"/> is left to the GC instead of being kept.
    /// </summary>
    public void Release()
    {
        if (Opens.Capacity > FramePool.MaxKeptEntries || Calls.Capacity > FramePool.MaxKeptEntries
            || Cancels.Capacity > FramePool.MaxKeptEntries || Closes.Capacity > FramePool.MaxKeptEntries
            || Chunks.Capacity > FramePool.MaxKeptEntries || Credits.Capacity > FramePool.MaxKeptEntries)
        {
            return;
        }
        Opens.Clear();
        Calls.Clear();
        Cancels.Clear();
        Closes.Clear();
        Chunks.Clear();
        Credits.Clear();
        ObjectCache<IncomingClientFrame>.Return(this, FramePool.SharedCapacity);
    }
}

/// <summary>
/// One entry of a frame the server sends: a result (a value or an error), a closed channel, or a piece
/// of a fetch body (<see cref="Part"/>: a chunk of a response body in <see cref="Value"/>, or credit for
/// a request body).
/// </summary>
/// <remarks>
/// <see cref="Weight"/> is what the entry counts towards its stream's bound of held bytes until it is
/// written (the server's backpressure); fixed when the entry is made, so that cutting the entry to fit
/// its frame cannot make the count drift.
/// </remarks>
internal readonly record struct ServerEntry(ulong CallId, ReadOnlyMemory<byte> Value, Error? Error, ChannelClosed? Closed = null)
{
    public long Weight { get; init; }

    public BodyPart Part { get; init; }

    public BodySignal Body { get; init; }
}

/// <summary>A server frame on its way out; encoded with its stream's reusable <see cref="Encoder"/>.</summary>
internal sealed class OutgoingServerFrame(WireWriter encoder)
{
    public List<ServerEntry> Entries { get; } = [];

    public WireWriter Encoder { get; } = encoder;
}

/// <summary>A result as the client reads it; <see cref="Value"/> is a slice of its frame's bytes.</summary>
internal readonly record struct IncomingResult(ulong CallId, ReadOnlyMemory<byte> Value, Error? Error);

/// <summary>
/// A server frame as the client reads it. Frames are reused: the reader gives each back with
/// <see cref="Release"/> once its results are decoded, and the next frame takes it with its lists.
/// </summary>
internal sealed class IncomingServerFrame
{
    private IncomingServerFrame()
    {
    }

    public List<IncomingResult> Results { get; } = [];

    public List<ChannelClosed> Closed { get; } = [];

    public List<IncomingBodyChunk> Chunks { get; } = [];

    public List<IncomingBodyCredit> Credits { get; } = [];

    /// <summary>The array from <see cref="PooledBytes.RentArray"/> the results' values are slices of, if the frame was read into one.</summary>
    public byte[]? PooledPayload { get; set; }

    /// <summary>An empty frame with room for <paramref name="results"/> results.</summary>
    public static IncomingServerFrame Rent(int results)
    {
        var frame = ObjectCache<IncomingServerFrame>.Take() ?? new IncomingServerFrame();
        frame.Results.EnsureCapacity(results);
        return frame;
    }

    /// <summary>
    /// Gives the frame and its payload's array back once every result has been decoded; neither may be
    /// read afterwards. A frame whose lists grew past <see cref="FramePool.MaxKeptEntries"/> is left to the GC.
    /// </summary>
    public void Release()
    {
        if (PooledPayload is { } payload)
        {
            PooledPayload = null;
            PooledBytes.ReturnArray(payload);
        }
        Results.Clear();
        Closed.Clear();
        Chunks.Clear();
        Credits.Clear();
        if (Results.Capacity <= FramePool.MaxKeptEntries && Closed.Capacity <= FramePool.MaxKeptEntries
            && Chunks.Capacity <= FramePool.MaxKeptEntries && Credits.Capacity <= FramePool.MaxKeptEntries)
        {
            ObjectCache<IncomingServerFrame>.Return(this, FramePool.SharedCapacity);
        }
    }
}
