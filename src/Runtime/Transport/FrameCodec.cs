using System.Buffers;
using System.Globalization;
using System.Numerics;
using System.Text;
using Google.Protobuf;
using Grpc.Core;
using SourceGenDO.Pooling;
using SourceGenDO.Serialization;
using SourceGenDO.Wire;

namespace SourceGenDO.Transport;

/// <summary>
/// Encodes and decodes the Connect stream's frames in the protobuf encoding of ClientFrame and
/// ServerFrame (protos/sourcegendo.proto), and provides the gRPC method definitions that use them.
/// A decoded frame copies the payload once; calls' arguments and results' values are slices of it.
/// The senders size their frames with <see cref="SizeOf(in ClientEntry)"/> and
/// <see cref="SizeOf(in ServerEntry)"/>, which count exactly the bytes <c>Encode</c> writes.
/// </summary>
internal static class FrameCodec
{
    public const string ServiceName = "sourcegendo.v1.DurableObjects";

    // Field numbers of protos/sourcegendo.proto.
    private const int ClientOpens = 1, ClientCalls = 2, ClientCancels = 3, ClientCloses = 4, ClientChunks = 5, ClientCredits = 6;
    private const int CallId = 1, CallChannel = 2, CallMethod = 3, CallArgs = 4, CallCancellable = 5, CallTraceParent = 6, CallTraceState = 7;
    private const int ServerResults = 1, ServerClosed = 2, ServerChunks = 3, ServerCredits = 4;
    private const int ResultCallId = 1, ResultValue = 2, ResultError = 3;
    private const int ChunkCallId = 1, ChunkData = 2, ChunkEnd = 3, ChunkError = 4;
    private const int CreditCallId = 1, CreditBytes = 2, CreditStop = 3;

    /// <summary>The Connect method as clients call it.</summary>
    public static readonly Method<OutgoingClientFrame, IncomingServerFrame> ClientConnect = new(
        MethodType.DuplexStreaming, ServiceName, "Connect",
        new Marshaller<OutgoingClientFrame>(Serialize, WrongDirection<OutgoingClientFrame>),
        new Marshaller<IncomingServerFrame>(WrongDirection, DeserializeServerFrame));

    /// <summary>The Connect method as the server binds it.</summary>
    public static readonly Method<IncomingClientFrame, OutgoingServerFrame> ServerConnect = new(
        MethodType.DuplexStreaming, ServiceName, "Connect",
        new Marshaller<IncomingClientFrame>(WrongDirection, DeserializeClientFrame),
        new Marshaller<OutgoingServerFrame>(Serialize, WrongDirection<OutgoingServerFrame>));

    /// <summary>The Handshake method, with the generated protobuf messages.</summary>
    public static readonly Method<HandshakeRequest, HandshakeResponse> Handshake = new(
        MethodType.Unary, ServiceName, "Handshake",
        Marshallers.Create(static (HandshakeRequest message) => message.ToByteArray(), HandshakeRequest.Parser.ParseFrom),
        Marshallers.Create(static (HandshakeResponse message) => message.ToByteArray(), HandshakeResponse.Parser.ParseFrom));

    /// <summary>
    /// The bytes <see cref="Encode(OutgoingClientFrame)"/> writes for <paramref name="entry"/>: a frame's
    /// length is the sum over its entries, since the entries are its top-level fields.
    /// </summary>
    public static int SizeOf(in ClientEntry entry)
    {
        if (entry.Open is { } open)
        {
            return FieldSize(open.CalculateSize());
        }
        if (entry.IsCancel)
        {
            return 1 + VarintSize(entry.CallId);
        }
        if (entry.IsClose)
        {
            return 1 + VarintSize(entry.Channel);
        }
        if (entry.Part != BodyPart.None)
        {
            return SizeOfBody(entry.Part, entry.CallId, entry.Args.Length, entry.Body);
        }
        var call = 2 + VarintSize(entry.CallId) + VarintSize(entry.Channel)
            + FieldSize(Encoding.UTF8.GetByteCount(entry.Method!)) + FieldSize(entry.Args.Length)
            + (entry.Cancellable ? 2 : 0)
            + (entry.Trace is { } trace ? SizeOfTrace(trace) : 0);
        return FieldSize(call);
    }

    // A W3C traceparent is ASCII; a tracestate is ASCII too by the W3C's rules, but counted as UTF-8 all the same.
    private static int SizeOfTrace(System.Diagnostics.Activity trace) =>
        FieldSize(trace.Id!.Length) + (trace.TraceStateString is { Length: > 0 } state ? FieldSize(Encoding.UTF8.GetByteCount(state)) : 0);

    /// <summary>The bytes <see cref="Encode(OutgoingServerFrame)"/> writes for <paramref name="entry"/>.</summary>
    public static int SizeOf(in ServerEntry entry)
    {
        if (entry.Closed is { } closed)
        {
            return FieldSize(closed.CalculateSize());
        }
        if (entry.Part != BodyPart.None)
        {
            return SizeOfBody(entry.Part, entry.CallId, entry.Value.Length, entry.Body);
        }
        var outcome = entry.Error is { } error ? error.CalculateSize() : entry.Value.Length;
        return FieldSize(1 + VarintSize(entry.CallId) + FieldSize(outcome));
    }

    /// <summary>
    /// An entry of <paramref name="size"/> bytes that cannot go out in the form it came: an error whose
    /// text is over its bound is cut (<see cref="PayloadLimits.FitError"/>; most are cut where they are
    /// made already), and a value over the frame limit, which the payload limit keeps from happening,
    /// fails its call instead of the stream.
    /// </summary>
    public static ServerEntry Fit(in ServerEntry entry, int size)
    {
        if (entry.Closed is { } closed)
        {
            return closed.Error is null ? entry : entry with { Closed = new ChannelClosed { Channel = closed.Channel, Error = PayloadLimits.FitError(closed.Error) } };
        }
        if (entry.Error is { } error)
        {
            return entry with { Error = PayloadLimits.FitError(error) };
        }
        return new ServerEntry(entry.CallId, default, RemoteErrors.FromRuntime(string.Create(CultureInfo.InvariantCulture,
            $"The result of call {entry.CallId} takes {size:N0} bytes in its frame, over the frame limit of {PayloadLimits.MaxFrameBytes:N0} bytes.")));
    }

    private static int SizeOfBody(BodyPart part, ulong callId, int dataLength, in BodySignal body)
    {
        var inner = 1 + VarintSize(callId) + (body.Last ? 2 : 0);
        inner += part == BodyPart.Chunk
            ? FieldSize(dataLength) + (body.Error is { } error ? FieldSize(error.CalculateSize()) : 0)
            : 1 + VarintSize(body.Credit);
        return FieldSize(inner);
    }

    private static void WriteBody(WireWriter writer, int chunkField, int creditField, BodyPart part, ulong callId, ReadOnlySpan<byte> data, in BodySignal body)
    {
        if (part == BodyPart.Chunk)
        {
            var start = writer.BeginMessage(chunkField);
            writer.WriteUInt64(ChunkCallId, callId);
            writer.WriteBytes(ChunkData, data);
            if (body.Last)
            {
                writer.WriteBool(ChunkEnd, true);
            }
            writer.WriteProtobuf(ChunkError, body.Error);
            writer.EndMessage(start);
            return;
        }
        var credit = writer.BeginMessage(creditField);
        writer.WriteUInt64(CreditCallId, callId);
        writer.WriteUInt32(CreditBytes, body.Credit);
        if (body.Last)
        {
            writer.WriteBool(CreditStop, true);
        }
        writer.EndMessage(credit);
    }

    /// <summary>A length-delimited field of <paramref name="length"/> bytes with a one-byte key (every field number here is below 16).</summary>
    private static int FieldSize(int length) => 1 + VarintSize((uint)length) + length;

    private static int VarintSize(ulong value) => BitOperations.Log2(value | 1) / 7 + 1;

    public static void Encode(OutgoingClientFrame frame)
    {
        var writer = frame.Encoder;
        writer.Reset();
        foreach (var entry in frame.Entries)
        {
            if (entry.Open is { } open)
            {
                writer.WriteProtobuf(ClientOpens, open);
            }
            else if (entry.IsCancel)
            {
                writer.WriteUInt64(ClientCancels, entry.CallId);
            }
            else if (entry.IsClose)
            {
                writer.WriteUInt32(ClientCloses, entry.Channel);
            }
            else if (entry.Part != BodyPart.None)
            {
                WriteBody(writer, ClientChunks, ClientCredits, entry.Part, entry.CallId, entry.Args.Span, entry.Body);
            }
            else
            {
                var start = writer.BeginMessage(ClientCalls);
                writer.WriteUInt64(CallId, entry.CallId);
                writer.WriteUInt32(CallChannel, entry.Channel);
                writer.WriteString(CallMethod, entry.Method);
                writer.WriteBytes(CallArgs, entry.Args.Span);
                if (entry.Cancellable)
                {
                    writer.WriteBool(CallCancellable, true);
                }
                if (entry.Trace is { } trace)
                {
                    writer.WriteString(CallTraceParent, trace.Id);
                    if (trace.TraceStateString is { Length: > 0 } state)
                    {
                        writer.WriteString(CallTraceState, state);
                    }
                }
                writer.EndMessage(start);
            }
        }
    }

    public static void Encode(OutgoingServerFrame frame)
    {
        var writer = frame.Encoder;
        writer.Reset();
        foreach (var entry in frame.Entries)
        {
            if (entry.Closed is { } closed)
            {
                writer.WriteProtobuf(ServerClosed, closed);
                continue;
            }
            if (entry.Part != BodyPart.None)
            {
                WriteBody(writer, ServerChunks, ServerCredits, entry.Part, entry.CallId, entry.Value.Span, entry.Body);
                continue;
            }
            var start = writer.BeginMessage(ServerResults);
            writer.WriteUInt64(ResultCallId, entry.CallId);
            if (entry.Error is { } error)
            {
                writer.WriteProtobuf(ResultError, error);
            }
            else
            {
                writer.WriteBytes(ResultValue, entry.Value.Span);
            }
            writer.EndMessage(start);
        }
    }

    /// <exception cref="WireFormatException">The frame is malformed, or carries more than <see cref="PayloadLimits.MaxEntriesPerClientFrame"/> entries.</exception>
    public static IncomingClientFrame DecodeClientFrame(byte[] payload)
    {
        // Counted before anything is allocated per entry: a 32 MiB frame holds 16 million empty calls.
        var entries = CountClientEntries(payload, out var calls);
        if (calls > PayloadLimits.MaxEntriesPerClientFrame)
        {
            throw new WireFormatException(string.Create(CultureInfo.InvariantCulture,
                $"A frame carries {calls:N0} calls, over the limit of {PayloadLimits.MaxEntriesPerClientFrame:N0}."));
        }
        if (entries > PayloadLimits.MaxEntriesPerClientFrame)
        {
            throw new WireFormatException(string.Create(CultureInfo.InvariantCulture,
                $"A frame carries {entries:N0} entries (opens, calls, cancels and closes), over the limit of {PayloadLimits.MaxEntriesPerClientFrame:N0}."));
        }
        var frame = IncomingClientFrame.Rent(calls);
        var reader = new WireReader(payload);
        while (reader.ReadTag(out var field))
        {
            switch (field)
            {
                case ClientOpens:
                    var (openOffset, openLength) = reader.ReadLengthDelimitedRange();
                    frame.Opens.Add(ParseProtobuf(OpenChannel.Parser, payload, openOffset, openLength));
                    break;
                case ClientCalls:
                    var (callOffset, callLength) = reader.ReadLengthDelimitedRange();
                    frame.Calls.Add(DecodeCall(payload, callOffset, callLength));
                    break;
                case ClientCancels:
                    ReadRepeatedVarints(ref reader, payload, frame.Cancels, static value => value);
                    break;
                case ClientCloses:
                    ReadRepeatedVarints(ref reader, payload, frame.Closes, static value => checked((uint)value));
                    break;
                case ClientChunks:
                    var (chunkOffset, chunkLength) = reader.ReadLengthDelimitedRange();
                    frame.Chunks.Add(DecodeChunk(payload, chunkOffset, chunkLength));
                    break;
                case ClientCredits:
                    var (creditOffset, creditLength) = reader.ReadLengthDelimitedRange();
                    frame.Credits.Add(DecodeCredit(payload.AsSpan(creditOffset, creditLength)));
                    break;
                default:
                    reader.Skip();
                    break;
            }
        }
        return frame;
    }

    /// <summary>Decodes the first <paramref name="length"/> bytes of <paramref name="payload"/>.</summary>
    /// <exception cref="WireFormatException">The frame is malformed, or carries more than <see cref="PayloadLimits.MaxEntriesPerServerFrame"/> entries.</exception>
    public static IncomingServerFrame DecodeServerFrame(byte[] payload, int length)
    {
        var results = CountFields(payload.AsSpan(0, length), ServerResults, out var entries);
        if (entries > PayloadLimits.MaxEntriesPerServerFrame)
        {
            throw new WireFormatException(string.Create(CultureInfo.InvariantCulture,
                $"A frame carries {entries:N0} results and closed channels, over the limit of {PayloadLimits.MaxEntriesPerServerFrame:N0}."));
        }
        var frame = IncomingServerFrame.Rent(results);
        var reader = new WireReader(payload.AsSpan(0, length));
        while (reader.ReadTag(out var field))
        {
            switch (field)
            {
                case ServerResults:
                    var (resultOffset, resultLength) = reader.ReadLengthDelimitedRange();
                    frame.Results.Add(DecodeResult(payload, resultOffset, resultLength));
                    break;
                case ServerClosed:
                    var (closedOffset, closedLength) = reader.ReadLengthDelimitedRange();
                    frame.Closed.Add(ParseProtobuf(ChannelClosed.Parser, payload, closedOffset, closedLength));
                    break;
                case ServerChunks:
                    var (chunkOffset, chunkLength) = reader.ReadLengthDelimitedRange();
                    frame.Chunks.Add(DecodeChunk(payload, chunkOffset, chunkLength));
                    break;
                case ServerCredits:
                    var (creditOffset, creditLength) = reader.ReadLengthDelimitedRange();
                    frame.Credits.Add(DecodeCredit(payload.AsSpan(creditOffset, creditLength)));
                    break;
                default:
                    reader.Skip();
                    break;
            }
        }
        return frame;
    }

    private static IncomingCallData DecodeCall(byte[] payload, int offset, int length)
    {
        ulong callId = 0;
        uint channel = 0;
        var method = "";
        ReadOnlyMemory<byte> args = default;
        var cancellable = false;
        ReadOnlyMemory<byte> traceParent = default, traceState = default;
        var reader = new WireReader(payload.AsSpan(offset, length));
        while (reader.ReadTag(out var field))
        {
            switch (field)
            {
                case CallId:
                    callId = reader.ReadUInt64();
                    break;
                case CallChannel:
                    channel = reader.ReadUInt32();
                    break;
                case CallMethod:
                    var (methodOffset, methodLength) = reader.ReadLengthDelimitedRange();
                    method = MethodNames.Get(payload.AsSpan(offset + methodOffset, methodLength));
                    break;
                case CallArgs:
                    var (argsOffset, argsLength) = reader.ReadLengthDelimitedRange();
                    args = payload.AsMemory(offset + argsOffset, argsLength);
                    break;
                case CallCancellable:
                    cancellable = reader.ReadBool();
                    break;
                case CallTraceParent:
                    var (parentOffset, parentLength) = reader.ReadLengthDelimitedRange();
                    traceParent = payload.AsMemory(offset + parentOffset, parentLength);
                    break;
                case CallTraceState:
                    var (stateOffset, stateLength) = reader.ReadLengthDelimitedRange();
                    traceState = payload.AsMemory(offset + stateOffset, stateLength);
                    break;
                default:
                    reader.Skip();
                    break;
            }
        }
        return new IncomingCallData(callId, channel, method, args, cancellable, traceParent, traceState);
    }

    private static IncomingBodyChunk DecodeChunk(byte[] payload, int offset, int length)
    {
        ulong callId = 0;
        ReadOnlyMemory<byte> data = default;
        var end = false;
        Error? error = null;
        var reader = new WireReader(payload.AsSpan(offset, length));
        while (reader.ReadTag(out var field))
        {
            switch (field)
            {
                case ChunkCallId:
                    callId = reader.ReadUInt64();
                    break;
                case ChunkData:
                    var (dataOffset, dataLength) = reader.ReadLengthDelimitedRange();
                    data = payload.AsMemory(offset + dataOffset, dataLength);
                    break;
                case ChunkEnd:
                    end = reader.ReadBool();
                    break;
                case ChunkError:
                    var (errorOffset, errorLength) = reader.ReadLengthDelimitedRange();
                    error = ParseProtobuf(Error.Parser, payload, offset + errorOffset, errorLength);
                    break;
                default:
                    reader.Skip();
                    break;
            }
        }
        return new IncomingBodyChunk(callId, data, end, error);
    }

    private static IncomingBodyCredit DecodeCredit(ReadOnlySpan<byte> bytes)
    {
        ulong callId = 0;
        uint credit = 0;
        var stop = false;
        var reader = new WireReader(bytes);
        while (reader.ReadTag(out var field))
        {
            switch (field)
            {
                case CreditCallId:
                    callId = reader.ReadUInt64();
                    break;
                case CreditBytes:
                    credit = reader.ReadUInt32();
                    break;
                case CreditStop:
                    stop = reader.ReadBool();
                    break;
                default:
                    reader.Skip();
                    break;
            }
        }
        return new IncomingBodyCredit(callId, credit, stop);
    }

    private static IncomingResult DecodeResult(byte[] payload, int offset, int length)
    {
        ulong callId = 0;
        ReadOnlyMemory<byte> value = default;
        Error? error = null;
        var reader = new WireReader(payload.AsSpan(offset, length));
        while (reader.ReadTag(out var field))
        {
            switch (field)
            {
                case ResultCallId:
                    callId = reader.ReadUInt64();
                    break;
                case ResultValue:
                    var (valueOffset, valueLength) = reader.ReadLengthDelimitedRange();
                    value = payload.AsMemory(offset + valueOffset, valueLength);
                    break;
                case ResultError:
                    var (errorOffset, errorLength) = reader.ReadLengthDelimitedRange();
                    error = ParseProtobuf(Error.Parser, payload, offset + errorOffset, errorLength);
                    break;
                default:
                    reader.Skip();
                    break;
            }
        }
        return new IncomingResult(callId, value, error);
    }

    /// <summary>
    /// How many times <paramref name="field"/> occurs at the top level, which sizes a frame's list at
    /// once, and in <paramref name="all"/> how many top-level fields there are.
    /// </summary>
    private static int CountFields(ReadOnlySpan<byte> payload, int field, out int all)
    {
        var count = 0;
        all = 0;
        var reader = new WireReader(payload);
        while (reader.ReadTag(out var number))
        {
            count += number == field ? 1 : 0;
            all++;
            reader.Skip();
        }
        return count;
    }

    /// <summary>
    /// How many entries a client frame carries (a packed cancel or close field counts each of its
    /// values), and in <paramref name="calls"/> how many of them are calls.
    /// </summary>
    private static int CountClientEntries(ReadOnlySpan<byte> payload, out int calls)
    {
        calls = 0;
        var entries = 0;
        var reader = new WireReader(payload);
        while (reader.ReadTag(out var number))
        {
            if (number is ClientCancels or ClientCloses && reader.WireType == WireType.LengthDelimited)
            {
                var (offset, length) = reader.ReadLengthDelimitedRange();
                entries += CountVarints(payload.Slice(offset, length));
                continue;
            }
            calls += number == ClientCalls ? 1 : 0;
            entries += number is >= ClientOpens and <= ClientCredits ? 1 : 0;
            reader.Skip();
        }
        return entries;
    }

    /// <summary>How many varints a packed field holds: each ends with a byte whose top bit is clear.</summary>
    private static int CountVarints(ReadOnlySpan<byte> packed)
    {
        var ends = 0;
        foreach (var b in packed)
        {
            ends += b < 0x80 ? 1 : 0;
        }
        return ends;
    }

    /// <summary>Reads a repeated varint field in either encoding protobuf allows: one per key, or packed.</summary>
    private static void ReadRepeatedVarints<T>(ref WireReader reader, byte[] payload, List<T> values, Func<ulong, T> convert)
    {
        if (reader.WireType == WireType.Varint)
        {
            values.Add(convert(reader.ReadUInt64()));
            return;
        }
        var (offset, length) = reader.ReadLengthDelimitedRange();
        var packed = new WireReader(payload.AsSpan(offset, length));
        while (!packed.IsAtEnd)
        {
            values.Add(convert(packed.ReadRawVarint()));
        }
    }

    private static T ParseProtobuf<T>(MessageParser<T> parser, byte[] payload, int offset, int length)
        where T : IMessage<T>
    {
        try
        {
            return parser.ParseFrom(payload, offset, length);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new WireFormatException($"Malformed frame: {e.Message}");
        }
    }

    private static IncomingClientFrame DeserializeClientFrame(DeserializationContext context) =>
        DecodeClientFrame(context.PayloadAsReadOnlySequence().ToArray());

    // The client decodes every result before it reads the next frame, so the payload's array goes back
    // to the pool then (IncomingServerFrame.Release); a frame over PooledBytes.MaxPooledBytes gets an array
    // of its own, which the GC takes back.
    private static IncomingServerFrame DeserializeServerFrame(DeserializationContext context)
    {
        var payload = context.PayloadAsReadOnlySequence();
        var length = checked((int)payload.Length);
        var array = PooledBytes.RentArray(length);
        payload.CopyTo(array);
        IncomingServerFrame frame;
        try
        {
            frame = DecodeServerFrame(array, length);
        }
        catch
        {
            PooledBytes.ReturnArray(array);
            throw;
        }
        frame.PooledPayload = array;
        return frame;
    }

    // Each side only sends one kind of frame and receives the other.
    private static void WrongDirection<T>(T frame, SerializationContext context) => throw new NotSupportedException();

    private static T WrongDirection<T>(DeserializationContext context) => throw new NotSupportedException();

    private static void Serialize(OutgoingClientFrame frame, SerializationContext context)
    {
        Encode(frame);
        Write(frame.Encoder, context);
    }

    private static void Serialize(OutgoingServerFrame frame, SerializationContext context)
    {
        Encode(frame);
        Write(frame.Encoder, context);
    }

    private static void Write(WireWriter encoder, SerializationContext context)
    {
        context.SetPayloadLength(encoder.Length);
        var output = context.GetBufferWriter();
        output.Write(encoder.WrittenSpan);
        context.Complete();
    }
}
