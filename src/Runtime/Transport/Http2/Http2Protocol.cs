using System.Buffers.Binary;

namespace SourceGenDO.Transport.Http2;

/// <summary>The HTTP/2 frame types this client reads or writes (RFC 9113, section 6).</summary>
internal enum FrameType : byte
{
    Data = 0x0,
    Headers = 0x1,
    Priority = 0x2,
    RstStream = 0x3,
    Settings = 0x4,
    PushPromise = 0x5,
    Ping = 0x6,
    GoAway = 0x7,
    WindowUpdate = 0x8,
    Continuation = 0x9,
}

/// <summary>HTTP/2 error codes (RFC 9113, section 7).</summary>
internal enum Http2ErrorCode : uint
{
    NoError = 0x0,
    ProtocolError = 0x1,
    InternalError = 0x2,
    FlowControlError = 0x3,
    StreamClosed = 0x5,
    FrameSizeError = 0x6,
    RefusedStream = 0x7,
    Cancel = 0x8,
    CompressionError = 0x9,
    EnhanceYourCalm = 0xb,
}

/// <summary>Frame layout, flags and limits of HTTP/2 (RFC 9113, section 4).</summary>
internal static class Http2Protocol
{
    public const int FrameHeaderLength = 9;

    /// <summary>The largest frame either side may send until told otherwise; this client never raises it.</summary>
    public const int DefaultMaxFrameSize = 16 * 1024;

    public const int DefaultWindowSize = 65_535;

    public const int MaxWindowSize = int.MaxValue;

    public const byte EndStream = 0x1;
    public const byte Ack = 0x1;
    public const byte EndHeaders = 0x4;
    public const byte Padded = 0x8;
    public const byte PriorityFlag = 0x20;

    public const ushort SettingsEnablePush = 0x2;
    public const ushort SettingsMaxConcurrentStreams = 0x3;
    public const ushort SettingsInitialWindowSize = 0x4;
    public const ushort SettingsMaxFrameSize = 0x5;

    /// <summary>What a client sends first on a connection.</summary>
    public static ReadOnlySpan<byte> ConnectionPreface => "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8;

    public static void WriteFrameHeader(Span<byte> destination, int length, FrameType type, byte flags, int streamId)
    {
        destination[0] = (byte)(length >> 16);
        destination[1] = (byte)(length >> 8);
        destination[2] = (byte)length;
        destination[3] = (byte)type;
        destination[4] = flags;
        BinaryPrimitives.WriteInt32BigEndian(destination[5..], streamId & int.MaxValue);
    }

    /// <summary>A whole frame in a new array: for the few small frames that are not messages.</summary>
    public static byte[] Frame(FrameType type, byte flags, int streamId, ReadOnlySpan<byte> payload)
    {
        var frame = new byte[FrameHeaderLength + payload.Length];
        WriteFrameHeader(frame, payload.Length, type, flags, streamId);
        payload.CopyTo(frame.AsSpan(FrameHeaderLength));
        return frame;
    }

    /// <summary>A frame whose payload is one 32-bit number (WINDOW_UPDATE, RST_STREAM).</summary>
    public static byte[] Frame(FrameType type, int streamId, uint value)
    {
        Span<byte> payload = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(payload, value);
        return Frame(type, 0, streamId, payload);
    }

    public static FrameHeader ReadFrameHeader(ReadOnlySpan<byte> source) => new(
        (source[0] << 16) | (source[1] << 8) | source[2],
        (FrameType)source[3],
        source[4],
        BinaryPrimitives.ReadInt32BigEndian(source[5..]) & int.MaxValue);

    /// <summary>The payload of a DATA or HEADERS frame without its padding, or a protocol error when the padding does not fit.</summary>
    public static ReadOnlySpan<byte> WithoutPadding(ReadOnlySpan<byte> payload, byte flags, out int start)
    {
        start = 0;
        if ((flags & Padded) == 0)
        {
            return payload;
        }
        if (payload.IsEmpty || payload[0] >= payload.Length)
        {
            throw new Http2ProtocolException(Http2ErrorCode.ProtocolError, "A padded frame's padding is longer than the frame.");
        }
        start = 1;
        return payload[1..^payload[0]];
    }
}

/// <summary>The nine bytes in front of every HTTP/2 frame.</summary>
internal readonly record struct FrameHeader(int Length, FrameType Type, byte Flags, int StreamId)
{
    public bool Has(byte flag) => (Flags & flag) != 0;
}

/// <summary>The peer broke the HTTP/2 protocol: the connection ends with <see cref="Code"/>.</summary>
internal sealed class Http2ProtocolException(Http2ErrorCode code, string message) : Exception(message)
{
    public Http2ErrorCode Code { get; } = code;
}
