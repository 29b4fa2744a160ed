using System.Buffers.Binary;
using Grpc.Core;
using SourceGenDO.Transport;
using SourceGenDO.Transport.Http2;
using SourceGenDO.Wire;

namespace SourceGenDO.Runtime.Tests;

/// <summary>
/// The HTTP/2 client against a scripted server that breaks the rules or goes quiet: floods of frames
/// that need answers while it reads none, DATA past the windows, windows opened past 2^31-1, a window
/// that never opens, silence, and the GOAWAY of a stopping server.
/// </summary>
public sealed class Http2HostilePeerTests
{
    private static readonly Marshaller<byte[]> Raw = Marshallers.Create(static bytes => bytes, static bytes => bytes);
    private static readonly Method<byte[], byte[]> RawUnary = new(MethodType.Unary, "test.Raw", "Unary", Raw, Raw);
    private static readonly Method<byte[], byte[]> RawDuplex = new(MethodType.DuplexStreaming, "test.Raw", "Duplex", Raw, Raw);

    [Theory]
    [InlineData((byte)FrameType.Ping)]
    [InlineData((byte)FrameType.Settings)]
    public async Task AFloodOfFramesThatNeedAnswersFromAServerThatReadsNoneFailsTheConnectionWithinBoundedMemory(byte frameType)
    {
        var type = (FrameType)frameType;
        await using var peer = await Http2ScriptedPeer.StartAsync(receiveBufferSize: 4096);
        using var invoker = new Http2CallInvoker(peer.Address, TimeSpan.FromSeconds(5));
        var call = invoker.AsyncUnaryCall(FrameCodec.Handshake, null, new CallOptions(), new HandshakeRequest());
        await peer.SendAsync(FrameType.Settings, 0, 0, []);
        await peer.ReadUntilAsync(frame => frame.Type == FrameType.Headers);
        var before = GC.GetTotalMemory(forceFullCollection: true);

        // From here on the peer reads nothing: every answer stays with the client.
        const int FramesPerBatch = 1_000;
        var frame = Http2Protocol.Frame(type, 0, 0, type == FrameType.Ping ? new byte[8] : []);
        var batch = new byte[frame.Length * FramesPerBatch];
        for (var i = 0; i < FramesPerBatch; i++)
        {
            frame.CopyTo(batch, i * frame.Length);
        }
        try
        {
            // Up to 3,000,000 frames, far more than the kernel's buffers hold answers for.
            for (var i = 0; i < 3_000 && !call.ResponseAsync.IsCompleted; i++)
            {
                await peer.SendRawAsync(batch).WaitAsync(TimeSpan.FromSeconds(30));
            }
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException)
        {
            // The client closed the connection under the flood.
        }

        var failure = await Assert.ThrowsAsync<RpcException>(() => call.ResponseAsync.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(StatusCode.Unavailable, failure.StatusCode);
        Assert.Contains("ENHANCE_YOUR_CALM", failure.Status.Detail);
        Assert.Contains("without reading the answers", failure.Status.Detail);
        var growth = GC.GetTotalMemory(forceFullCollection: true) - before;
        Assert.True(growth < 16 * 1024 * 1024, $"The client's managed heap grew by {growth:N0} bytes under the flood.");
    }

    [Fact]
    public async Task DataPastTheReceiveWindowFromAServerThatReadsNothingIsAFlowControlError()
    {
        await using var peer = await Http2ScriptedPeer.StartAsync(receiveBufferSize: 4096);
        using var invoker = new Http2CallInvoker(peer.Address, TimeSpan.FromSeconds(5));
        var call = invoker.AsyncDuplexStreamingCall(RawDuplex, null, new CallOptions());
        // Windows wide open towards the server, so that the client's request goes out in one write.
        await peer.SendAsync(FrameType.Settings, 0, 0, [0, (byte)Http2Protocol.SettingsInitialWindowSize, 0x7f, 0xff, 0xff, 0xff]);
        await peer.SendAsync(FrameType.WindowUpdate, 0, 0, UInt32(int.MaxValue - Http2Protocol.DefaultWindowSize));
        var opened = await peer.SeenOrReadAsync(frame => frame.Type == FrameType.Headers);
        await peer.SeenOrReadAsync(frame => frame.Type == FrameType.Settings && frame.Flags == Http2Protocol.Ack);

        // A request larger than the kernel buffers: its write holds the socket while the peer reads nothing,
        // so the client's window updates cannot leave, and the server knows of no window past the first.
        var write = call.RequestStream.WriteAsync(new byte[24 * 1024 * 1024]);
        var data = await peer.ReadHeaderAsync();
        Assert.Equal(FrameType.Data, data.Type);

        await peer.SendAsync(FrameType.Headers, Http2Protocol.EndHeaders, opened.StreamId, Http2ScriptedPeer.ResponseHeaders);
        var chunk = new byte[Http2Protocol.DefaultMaxFrameSize];
        BinaryPrimitives.WriteInt32BigEndian(chunk.AsSpan(1), 30 * 1024 * 1024);
        var frame = Http2Protocol.Frame(FrameType.Data, 0, opened.StreamId, chunk);
        try
        {
            // 16 MiB is the window; one frame more breaks it.
            for (var sent = 0; sent <= 16 * 1024 * 1024 && !write.IsCompleted; sent += chunk.Length)
            {
                await peer.SendRawAsync(frame).WaitAsync(TimeSpan.FromSeconds(10));
            }
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException)
        {
            // The client closed the connection.
        }

        var failure = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(StatusCode.Unavailable, failure.StatusCode);
        Assert.Contains("FLOW_CONTROL_ERROR", failure.Status.Detail);
        Assert.Contains("connection's flow-control window", failure.Status.Detail);
        await Assert.ThrowsAsync<RpcException>(() => write.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task AWindowUpdatePast2To31FailsItsStreamWithAResetAndTheConnectionCarriesOn()
    {
        await using var peer = await Http2ScriptedPeer.StartAsync();
        using var invoker = new Http2CallInvoker(peer.Address, TimeSpan.FromSeconds(5));
        var first = invoker.AsyncUnaryCall(FrameCodec.Handshake, null, new CallOptions(), new HandshakeRequest());
        await peer.SendAsync(FrameType.Settings, 0, 0, []);
        var opened = await peer.ReadUntilAsync(frame => frame.Type == FrameType.Headers);

        // The stream's window is 65,535: this takes it past 2^31-1.
        await peer.SendAsync(FrameType.WindowUpdate, 0, opened.StreamId, UInt32(int.MaxValue));
        var failure = await Assert.ThrowsAsync<RpcException>(() => first.ResponseAsync.WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.Contains("FLOW_CONTROL_ERROR", failure.Status.Detail);
        Assert.Contains($"stream {opened.StreamId}", failure.Status.Detail);
        var reset = await peer.ReadUntilAsync(frame => frame.Type == FrameType.RstStream);
        Assert.Equal(opened.StreamId, reset.StreamId);
        Assert.Equal((uint)Http2ErrorCode.FlowControlError, BinaryPrimitives.ReadUInt32BigEndian(reset.Payload));

        // The connection lives on.
        var second = invoker.AsyncUnaryCall(FrameCodec.Handshake, null, new CallOptions(), new HandshakeRequest());
        var next = await peer.ReadUntilAsync(frame => frame.Type == FrameType.Headers);
        await peer.SendAsync(FrameType.Headers, Http2Protocol.EndHeaders | Http2Protocol.EndStream, next.StreamId,
            [.. Http2ScriptedPeer.ResponseHeaders, 0x00, 11, .. "grpc-status"u8, 1, (byte)'5']);
        var notFound = await Assert.ThrowsAsync<RpcException>(() => second.ResponseAsync.WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.Equal(StatusCode.NotFound, notFound.StatusCode);

        // The connection's own window past 2^31-1 is a connection error.
        await peer.SendAsync(FrameType.WindowUpdate, 0, 0, UInt32(int.MaxValue));
        Assert.True(await peer.ClientClosesAsync());
    }

    [Fact]
    public async Task AWriteTheServerNeverOpensAWindowForFailsOnceTheServerSaidNothingOnItsStreamForTheStallTimeout()
    {
        var time = new ManualTimeProvider();
        var settings = new Http2Connection.KeepAlive(TimeSpan.FromHours(1), TimeSpan.FromSeconds(20)) { StallTimeout = TimeSpan.FromMinutes(2), Time = time };
        await using var peer = await Http2ScriptedPeer.StartAsync();
        using var invoker = new Http2CallInvoker(peer.Address, TimeSpan.FromSeconds(5), settings);
        var call = invoker.AsyncDuplexStreamingCall(RawDuplex, null, new CallOptions());
        // A window of 0 for every stream, for good.
        await peer.SendAsync(FrameType.Settings, 0, 0, [0, (byte)Http2Protocol.SettingsInitialWindowSize, 0, 0, 0, 0]);
        var opened = await peer.SeenOrReadAsync(frame => frame.Type == FrameType.Headers);
        await peer.SeenOrReadAsync(frame => frame.Type == FrameType.Settings && frame.Flags == Http2Protocol.Ack);
        var write = call.RequestStream.WriteAsync([1, 2, 3]);

        // A server that still says something on the stream is slow, not stuck: the write waits on.
        Advance(time, TimeSpan.FromSeconds(100));
        await peer.SendAsync(FrameType.Headers, Http2Protocol.EndHeaders, opened.StreamId, Http2ScriptedPeer.ResponseHeaders);
        await call.ResponseHeadersAsync.WaitAsync(TimeSpan.FromSeconds(5));
        Advance(time, TimeSpan.FromSeconds(100));
        Assert.False(write.IsCompleted);

        // Then two minutes of nothing on the stream.
        Advance(time, TimeSpan.FromSeconds(25));
        var failure = await Assert.ThrowsAsync<RpcException>(() => write.WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.Equal(StatusCode.Unavailable, failure.StatusCode);
        Assert.Contains("waited 120 s for the server's flow-control window", failure.Status.Detail);
        var reset = await peer.ReadUntilAsync(frame => frame.Type == FrameType.RstStream);
        Assert.Equal(opened.StreamId, reset.StreamId);
    }

    [Fact]
    public async Task ASilentServerFailsTheConnectionOnceAPingGoesUnansweredForTheTimeoutAfterTheDelay()
    {
        var time = new ManualTimeProvider();
        // README's figures: pinged after 30 s of quiet, failed when the answer takes more than 20 s.
        var settings = new Http2Connection.KeepAlive(TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(20)) { Time = time };
        await using var peer = await Http2ScriptedPeer.StartAsync();
        using var invoker = new Http2CallInvoker(peer.Address, TimeSpan.FromSeconds(5), settings);
        var call = invoker.AsyncUnaryCall(FrameCodec.Handshake, null, new CallOptions(), new HandshakeRequest());
        await peer.SendAsync(FrameType.Settings, 0, 0, []);
        await peer.SeenOrReadAsync(frame => frame.Type == FrameType.Settings && frame.Flags == Http2Protocol.Ack);

        // Within a second (the check's period) of the delay, the ping is out.
        Advance(time, TimeSpan.FromSeconds(31));
        var ping = await peer.ReadUntilAsync(frame => frame.Type == FrameType.Ping);
        Assert.Equal(0, ping.Flags);
        Assert.False(call.ResponseAsync.IsCompleted);

        // And within a second of the timeout, the connection has failed.
        Advance(time, TimeSpan.FromSeconds(21));
        var lost = await Assert.ThrowsAsync<RpcException>(() => call.ResponseAsync.WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.Equal(StatusCode.Unavailable, lost.StatusCode);
        Assert.Contains("did not answer a keep-alive ping within 20 s", lost.Status.Detail);
    }

    [Fact]
    public async Task AfterGoAwayTheClientClosesTheConnectionOnceItsLastStreamEnds()
    {
        await using var peer = await Http2ScriptedPeer.StartAsync();
        using var invoker = new Http2CallInvoker(peer.Address, TimeSpan.FromSeconds(5));
        var call = invoker.AsyncUnaryCall(FrameCodec.Handshake, null, new CallOptions(), new HandshakeRequest());
        await peer.SendAsync(FrameType.Settings, 0, 0, []);
        var opened = await peer.ReadUntilAsync(frame => frame.Type == FrameType.Headers);

        // As Kestrel stops: GOAWAY naming the streams it will finish, then their ends; it waits for the
        // client to close the connection.
        await peer.SendAsync(FrameType.GoAway, 0, 0, [.. UInt32((uint)opened.StreamId), 0, 0, 0, 0]);
        await peer.SendAsync(FrameType.Headers, Http2Protocol.EndHeaders | Http2Protocol.EndStream, opened.StreamId,
            [.. Http2ScriptedPeer.ResponseHeaders, 0x00, 11, .. "grpc-status"u8, 1, (byte)'5']);
        var ended = await Assert.ThrowsAsync<RpcException>(() => call.ResponseAsync.WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.Equal(StatusCode.NotFound, ended.StatusCode);
        Assert.True(await peer.ClientClosesAsync(), "The client kept the connection open after GOAWAY and its last stream's end.");
    }

    [Fact]
    public async Task AfterOneLargeResultTheClientKeepsNoLargeBuffers()
    {
        await using var peer = await Http2ScriptedPeer.StartAsync();
        using var invoker = new Http2CallInvoker(peer.Address, TimeSpan.FromSeconds(5));
        // Warm up: the connection's own buffers exist before the measurement.
        var warmUp = invoker.AsyncUnaryCall(RawUnary, null, new CallOptions(), [1]);
        await peer.SendAsync(FrameType.Settings, 0, 0, []);
        var first = await peer.ReadUntilAsync(frame => frame.Type == FrameType.Headers);
        var connectionWindow = new System.Runtime.CompilerServices.StrongBox<long>(16 * 1024 * 1024);
        await AnswerAsync(peer, first.StreamId, 100, connectionWindow);
        Assert.Equal(100, (await warmUp.ResponseAsync.WaitAsync(TimeSpan.FromSeconds(10))).Length);
        var before = GC.GetTotalMemory(forceFullCollection: true);

        Assert.Equal(30 * 1024 * 1024, await ReceiveLargeResultAsync(invoker, peer, connectionWindow));

        // Polled: this continuation may run on the connection's reading thread while it still lists the call.
        long growth = 0;
        await SourceGenDO.EndToEnd.Tests.Eventually.True(() => (growth = GC.GetTotalMemory(forceFullCollection: true) - before) < 8 * 1024 * 1024,
            "the client's managed heap is back within 8 MiB of where it was before a 30 MB result", timeoutSeconds: 10);
    }

    /// <summary>One call whose result is 30 MB; only its length is kept.</summary>
    private static async Task<int> ReceiveLargeResultAsync(Http2CallInvoker invoker, Http2ScriptedPeer peer, System.Runtime.CompilerServices.StrongBox<long> connectionWindow)
    {
        using var call = invoker.AsyncUnaryCall(RawUnary, null, new CallOptions(), [1]);
        var opened = await peer.ReadUntilAsync(frame => frame.Type == FrameType.Headers);
        await AnswerAsync(peer, opened.StreamId, 30 * 1024 * 1024, connectionWindow);
        return (await call.ResponseAsync.WaitAsync(TimeSpan.FromSeconds(30))).Length;
    }

    /// <summary>Answers a stream with one message of <paramref name="length"/> zeros, as the client's windows allow, then OK.</summary>
    private static async Task AnswerAsync(Http2ScriptedPeer peer, int streamId, int length, System.Runtime.CompilerServices.StrongBox<long> connection)
    {
        await peer.SendAsync(FrameType.Headers, Http2Protocol.EndHeaders, streamId, Http2ScriptedPeer.ResponseHeaders);
        // The client's windows: 16 MiB for the connection and each stream, given back as it reads.
        var connectionWindow = connection.Value;
        long streamWindow = 16 * 1024 * 1024;
        var total = 5 + length;
        var chunk = new byte[Http2Protocol.DefaultMaxFrameSize];
        for (var sent = 0; sent < total;)
        {
            var size = Math.Min(chunk.Length, total - sent);
            while (Math.Min(connectionWindow, streamWindow) < size)
            {
                var update = await peer.ReadUntilAsync(frame => frame.Type == FrameType.WindowUpdate, TimeSpan.FromSeconds(20));
                var increment = BinaryPrimitives.ReadInt32BigEndian(update.Payload);
                if (update.StreamId == 0)
                {
                    connectionWindow += increment;
                }
                else if (update.StreamId == streamId)
                {
                    streamWindow += increment;
                }
            }
            Array.Clear(chunk);
            if (sent == 0)
            {
                BinaryPrimitives.WriteInt32BigEndian(chunk.AsSpan(1), length);
            }
            await peer.SendRawAsync(Http2Protocol.Frame(FrameType.Data, 0, streamId, chunk.AsSpan(0, size)));
            connectionWindow -= size;
            streamWindow -= size;
            sent += size;
        }
        connection.Value = connectionWindow;
        await peer.SendAsync(FrameType.Headers, Http2Protocol.EndHeaders | Http2Protocol.EndStream, streamId, [0x00, 11, .. "grpc-status"u8, 1, (byte)'0']);
    }

    /// <summary>Moves the clock a second at a time, as the keep-alive timer would see it, letting the client run between.</summary>
    private static void Advance(ManualTimeProvider time, TimeSpan by)
    {
        for (var moved = TimeSpan.Zero; moved < by; moved += TimeSpan.FromSeconds(1))
        {
            time.Advance(TimeSpan.FromSeconds(1));
        }
    }

    private static byte[] UInt32(uint value)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, value);
        return bytes;
    }

    private static byte[] UInt32(int value) => UInt32((uint)value);
}
