using System.Diagnostics;
using System.Text;
using Google.Protobuf;
using SourceGenDO.Serialization;
using SourceGenDO.Transport;
using SourceGenDO.Wire;

namespace SourceGenDO.Runtime.Tests;

/// <summary>
/// The W3C trace context on the wire (Call.traceparent and Call.tracestate of protos/sourcegendo.proto):
/// written for a traced call only, sized exactly, and read back by Google.Protobuf and by the server's decoder.
/// </summary>
public sealed class TraceContextWireTests
{
    private static byte[] Encode(in ClientEntry entry)
    {
        var frame = new OutgoingClientFrame(new WireWriter());
        frame.Entries.Add(entry);
        FrameCodec.Encode(frame);
        Assert.Equal(frame.Encoder.Length, FrameCodec.SizeOf(entry));
        return frame.Encoder.ToArray();
    }

    [Fact]
    public void ATracedCallCarriesItsSpansTraceparentAndTracestate()
    {
        using var span = new Activity("call").SetIdFormat(ActivityIdFormat.W3C);
        span.TraceStateString = "vendor=opaque,other=1";
        span.ActivityTraceFlags = ActivityTraceFlags.Recorded;
        span.Start();

        var bytes = Encode(new ClientEntry(7, 3, "Increment", new byte[] { 8, 1 }, Trace: span));

        var call = ClientFrame.Parser.ParseFrom(bytes).Calls.Single();
        Assert.Equal(span.Id, call.Traceparent);
        Assert.Matches("^00-[0-9a-f]{32}-[0-9a-f]{16}-01$", call.Traceparent);
        Assert.Equal("vendor=opaque,other=1", call.Tracestate);
        var decoded = FrameCodec.DecodeClientFrame(bytes).Calls.Single();
        Assert.Equal(span.Id, Encoding.ASCII.GetString(decoded.TraceParent.Span));
        Assert.Equal("vendor=opaque,other=1", Encoding.UTF8.GetString(decoded.TraceState.Span));
        Assert.Equal("Increment", decoded.Method);
        Assert.Equal(new byte[] { 8, 1 }, decoded.Args.ToArray());
    }

    [Fact]
    public void AnUntracedCallSendsNotOneByteMoreThanBefore()
    {
        var bytes = Encode(new ClientEntry(7, 3, "Increment", new byte[] { 8, 1 }, Cancellable: true));

        // The same call as Google.Protobuf writes it without the trace fields.
        var expected = new ClientFrame { Calls = { new Call { CallId = 7, Channel = 3, Method = "Increment", Args = ByteString.CopyFrom(8, 1), Cancellable = true } } };
        Assert.Equal(expected.ToByteArray(), bytes);
        var decoded = FrameCodec.DecodeClientFrame(bytes).Calls.Single();
        Assert.True(decoded.TraceParent.IsEmpty);
        Assert.True(decoded.TraceState.IsEmpty);
    }

    [Fact]
    public void ACallFromAnotherLanguagesClientWithATraceparentDecodes()
    {
        var traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
        var frame = new ClientFrame { Calls = { new Call { CallId = 1, Channel = 1, Method = "Get", Traceparent = traceparent } } };

        var decoded = FrameCodec.DecodeClientFrame(frame.ToByteArray()).Calls.Single();

        Assert.Equal(traceparent, Encoding.ASCII.GetString(decoded.TraceParent.Span));
        Assert.True(decoded.TraceState.IsEmpty);
        Assert.True(ActivityContext.TryParse(traceparent, null, out var context));
        Assert.Equal("b7ad6b7169203331", context.SpanId.ToHexString());
    }
}
