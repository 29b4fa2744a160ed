using Google.Protobuf;
using SourceGenDO.Serialization;
using SourceGenDO.Transport;
using SourceGenDO.Wire;

namespace SourceGenDO.Runtime.Tests;

/// <summary>
/// The frame codec's bounds: entries are sized exactly as they are encoded, and a client frame with too
/// many entries is refused before anything is allocated per entry.
/// </summary>
public sealed class FrameCodecLimitTests
{
    private static readonly Error LongError = new()
    {
        Type = "System.InvalidOperationException",
        Message = new string('é', 300) + "✓ 𝄞",
        Remote = true,
        Retryable = true,
    };

    public static TheoryData<int> ClientEntryKinds => new() { 0, 1, 2, 3, 4, 5, 6 };

    private static ClientEntry ClientEntryOfKind(int kind) => kind switch
    {
        0 => new ClientEntry(Open: new OpenChannel { Channel = 70_000, Namespace = "COUNTERS", Id = new string('a', 64), Name = ByteString.CopyFromUtf8(new string('n', 1024)) }),
        1 => new ClientEntry(1, 1, "M", ReadOnlyMemory<byte>.Empty),
        2 => new ClientEntry(ulong.MaxValue, uint.MaxValue, new string('m', 200) + "é", new byte[300], Cancellable: true),
        3 => new ClientEntry(300, 5, "Increment", new byte[200_000]),
        4 => new ClientEntry(CallId: ulong.MaxValue, IsCancel: true),
        5 => new ClientEntry(Channel: 128, IsClose: true),
        _ => new ClientEntry(CallId: 0, IsCancel: true),
    };

    public static TheoryData<int> ServerEntryKinds => new() { 0, 1, 2, 3, 4, 5 };

    private static ServerEntry ServerEntryOfKind(int kind) => kind switch
    {
        0 => new ServerEntry(1, ReadOnlyMemory<byte>.Empty, null),
        1 => new ServerEntry(ulong.MaxValue, new byte[200_000], null),
        2 => new ServerEntry(12345, default, LongError),
        3 => new ServerEntry(0, default, null, new ChannelClosed { Channel = 9, Error = LongError }),
        4 => new ServerEntry(0, default, null, new ChannelClosed { Channel = uint.MaxValue }),
        _ => new ServerEntry(127, new byte[127], null),
    };

    [Theory]
    [MemberData(nameof(ClientEntryKinds))]
    public void AClientEntryIsSizedAsExactlyTheBytesItsEncodingTakes(int kind)
    {
        var entry = ClientEntryOfKind(kind);
        var frame = new OutgoingClientFrame(new WireWriter());
        frame.Entries.Add(entry);
        FrameCodec.Encode(frame);
        Assert.Equal(frame.Encoder.Length, FrameCodec.SizeOf(entry));
    }

    [Theory]
    [MemberData(nameof(ServerEntryKinds))]
    public void AServerEntryIsSizedAsExactlyTheBytesItsEncodingTakes(int kind)
    {
        var entry = ServerEntryOfKind(kind);
        var frame = new OutgoingServerFrame(new WireWriter());
        frame.Entries.Add(entry);
        FrameCodec.Encode(frame);
        Assert.Equal(frame.Encoder.Length, FrameCodec.SizeOf(entry));
    }

    [Fact]
    public void AFrameIsTheSumOfItsEntriesAndGoogleProtobufReadsItBack()
    {
        var frame = new OutgoingServerFrame(new WireWriter());
        for (var kind = 0; kind < 6; kind++)
        {
            frame.Entries.Add(ServerEntryOfKind(kind));
        }
        FrameCodec.Encode(frame);
        Assert.Equal(frame.Entries.Sum(entry => FrameCodec.SizeOf(entry)), frame.Encoder.Length);
        var parsed = ServerFrame.Parser.ParseFrom(frame.Encoder.ToArray());
        Assert.Equal(4, parsed.Results.Count);
        Assert.Equal(LongError, parsed.Results[2].Error);
    }

    [Fact]
    public void AClientFrameOfMoreCallsThanTheLimitIsMalformedAndSaysHowMany()
    {
        // An empty call is two bytes (key 0x12, length 0): 65,537 of them make 131 KB.
        var payload = EmptyCalls(PayloadLimits.MaxEntriesPerClientFrame + 1);
        var thrown = Assert.Throws<WireFormatException>(() => FrameCodec.DecodeClientFrame(payload));
        Assert.Equal("A frame carries 65,537 calls, over the limit of 65,536.", thrown.Message);
    }

    [Fact]
    public void AClientFrameAtTheLimitDecodes()
    {
        var frame = FrameCodec.DecodeClientFrame(EmptyCalls(PayloadLimits.MaxEntriesPerClientFrame));
        Assert.Equal(PayloadLimits.MaxEntriesPerClientFrame, frame.Calls.Count);
        frame.Release();
    }

    [Fact]
    public void PackedCancelsCountEachValueTowardsTheLimit()
    {
        // One packed field of 70,000 one-byte varints: a single key, 70,000 entries.
        var writer = new WireWriter();
        writer.WriteTag(3, WireType.LengthDelimited);
        writer.WriteVarint(70_000);
        for (var i = 0; i < 70_000; i++)
        {
            writer.WriteVarint(1);
        }
        var thrown = Assert.Throws<WireFormatException>(() => FrameCodec.DecodeClientFrame(writer.ToArray()));
        Assert.Equal("A frame carries 70,000 entries (opens, calls, cancels and closes), over the limit of 65,536.", thrown.Message);
    }

    internal static byte[] EmptyCalls(int count)
    {
        var payload = new byte[count * 2];
        for (var i = 0; i < payload.Length; i += 2)
        {
            payload[i] = 0x12;
        }
        return payload;
    }
}
