using Google.Protobuf;
using SourceGenDO.Serialization;
using SourceGenDO.Transport;
using SourceGenDO.Wire;

namespace SourceGenDO.Runtime.Tests.Fetch;

/// <summary>The hand-written encoding of BodyChunk and BodyCredit entries: sized exactly, and the .proto's bytes both ways.</summary>
public sealed class BodyEntryCodecTests
{
    private static readonly Error Broken = new() { Type = "SourceGenDO.DurableObjectException", Message = "The request body broke off." };

    public static TheoryData<int> Kinds => [0, 1, 2, 3, 4, 5];

    private static BodySignal SignalOf(int kind) => kind switch
    {
        0 => default,
        1 => new BodySignal(Last: true),
        2 => new BodySignal(Last: true, Error: Broken),
        3 => new BodySignal(Credit: 65_536),
        4 => new BodySignal(Last: true),
        _ => new BodySignal(Credit: uint.MaxValue),
    };

    private static BodyPart PartOf(int kind) => kind < 3 ? BodyPart.Chunk : BodyPart.Credit;

    private static byte[] DataOf(int kind) => kind < 3 ? new byte[kind == 0 ? 65_536 : 3] : [];

    [Theory]
    [MemberData(nameof(Kinds))]
    public void BodyEntriesAreSizedAsExactlyTheBytesTheirEncodingTakes(int kind)
    {
        var client = new ClientEntry(CallId: ulong.MaxValue - (ulong)kind, Args: DataOf(kind), Part: PartOf(kind), Body: SignalOf(kind));
        var clientFrame = new OutgoingClientFrame(new WireWriter());
        clientFrame.Entries.Add(client);
        FrameCodec.Encode(clientFrame);
        Assert.Equal(clientFrame.Encoder.Length, FrameCodec.SizeOf(client));

        var server = new ServerEntry((ulong)kind, DataOf(kind), null) { Part = PartOf(kind), Body = SignalOf(kind) };
        var serverFrame = new OutgoingServerFrame(new WireWriter());
        serverFrame.Entries.Add(server);
        FrameCodec.Encode(serverFrame);
        Assert.Equal(serverFrame.Encoder.Length, FrameCodec.SizeOf(server));
    }

    [Fact]
    public void GoogleProtobufReadsTheEntriesAndTheCodecReadsGoogleProtobufs()
    {
        var frame = new OutgoingClientFrame(new WireWriter());
        frame.Entries.Add(new ClientEntry(CallId: 7, Args: "abc"u8.ToArray(), Part: BodyPart.Chunk));
        frame.Entries.Add(new ClientEntry(CallId: 7, Part: BodyPart.Chunk, Body: new BodySignal(Last: true, Error: Broken)));
        frame.Entries.Add(new ClientEntry(CallId: 8, Part: BodyPart.Credit, Body: new BodySignal(Credit: 1000)));
        frame.Entries.Add(new ClientEntry(CallId: 9, Part: BodyPart.Credit, Body: new BodySignal(Last: true)));
        FrameCodec.Encode(frame);
        var parsed = ClientFrame.Parser.ParseFrom(frame.Encoder.ToArray());
        Assert.Equal(2, parsed.BodyChunks.Count);
        Assert.Equal("abc", parsed.BodyChunks[0].Data.ToStringUtf8());
        Assert.False(parsed.BodyChunks[0].End);
        Assert.True(parsed.BodyChunks[1].End);
        Assert.Equal(Broken, parsed.BodyChunks[1].Error);
        Assert.Equal([(8ul, 1000u, false), (9ul, 0u, true)], parsed.BodyCredits.Select(credit => (credit.CallId, credit.Bytes, credit.Stop)));

        // The server reads what a client built from the .proto sends.
        var decoded = FrameCodec.DecodeClientFrame(parsed.ToByteArray());
        Assert.Equal([(7ul, 3, false, false), (7ul, 0, true, true)], decoded.Chunks.Select(chunk => (chunk.CallId, chunk.Data.Length, chunk.End, chunk.Error is not null)));
        Assert.Equal([(8ul, 1000u, false), (9ul, 0u, true)], decoded.Credits.Select(credit => (credit.CallId, credit.Bytes, credit.Stop)));

        var server = new ServerFrame();
        server.BodyChunks.Add(new BodyChunk { CallId = 3, Data = ByteString.CopyFromUtf8("xyz"), End = true });
        server.BodyCredits.Add(new BodyCredit { CallId = 4, Bytes = 65_536 });
        var bytes = server.ToByteArray();
        var read = FrameCodec.DecodeServerFrame(bytes, bytes.Length);
        Assert.Equal("xyz", System.Text.Encoding.UTF8.GetString(Assert.Single(read.Chunks).Data.Span));
        Assert.Equal((4ul, 65_536u, false), (read.Credits[0].CallId, read.Credits[0].Bytes, read.Credits[0].Stop));
    }
}
