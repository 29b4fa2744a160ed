using System.Buffers;
using Google.Protobuf;
using Grpc.Core;
using SourceGenDO.Serialization;
using SourceGenDO.Wire;

namespace SourceGenDO.Transport;

/// <summary>
/// Encodes and decodes the Connect stream's frames in the protobuf encoding of ClientFrame and
/// ServerFrame (protos/sourcegendo.proto), and provides the gRPC method definitions that use them.
/// A decoded frame copies the payload once; calls' arguments and results' values are slices of it.
/// </summary>
internal static class FrameCodec
{
    public const string ServiceName = "sourcegendo.v1.DurableObjects";

    // Field numbers of protos/sourcegendo.proto.
    private const int ClientOpens = 1, ClientCalls = 2, ClientCancels = 3, ClientCloses = 4;
    private const int CallId = 1, CallChannel = 2, CallMethod = 3, CallArgs = 4, CallCancellable = 5;
    private const int ServerResults = 1, ServerClosed = 2;
    private const int ResultCallId = 1, ResultValue = 2, ResultError = 3;

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

    public static IncomingClientFrame DecodeClientFrame(byte[] payload)
    {
        var frame = IncomingClientFrame.Rent(CountFields(payload, ClientCalls));
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
                default:
                    reader.Skip();
                    break;
            }
        }
        return frame;
    }

    /// <summary>Decodes the first <paramref name="length"/> bytes of <paramref name="payload"/>.</summary>
    public static IncomingServerFrame DecodeServerFrame(byte[] payload, int length)
    {
        var frame = IncomingServerFrame.Rent(CountFields(payload.AsSpan(0, length), ServerResults));
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
                default:
                    reader.Skip();
                    break;
            }
        }
        return new IncomingCallData(callId, channel, method, args, cancellable);
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

    /// <summary>How many times <paramref name="field"/> occurs at the top level: sizes a frame's list at once.</summary>
    private static int CountFields(ReadOnlySpan<byte> payload, int field)
    {
        var count = 0;
        var reader = new WireReader(payload);
        while (reader.ReadTag(out var number))
        {
            count += number == field ? 1 : 0;
            reader.Skip();
        }
        return count;
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
    // to the pool then (IncomingServerFrame.Release).
    private static IncomingServerFrame DeserializeServerFrame(DeserializationContext context)
    {
        var payload = context.PayloadAsReadOnlySequence();
        var length = checked((int)payload.Length);
        var array = ArrayPool<byte>.Shared.Rent(length);
        payload.CopyTo(array);
        var frame = DecodeServerFrame(array, length);
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
