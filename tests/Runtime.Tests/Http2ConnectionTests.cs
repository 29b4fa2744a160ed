using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Google.Protobuf;
using Grpc.Core;
using SourceGenDO.Transport;
using SourceGenDO.Transport.Http2;
using SourceGenDO.Wire;

namespace SourceGenDO.Runtime.Tests;

/// <summary>
/// The HTTP/2 client against a scripted peer, for the parts of the protocol Kestrel does not use with
/// it: pings, header blocks continued over several frames, padding, resets.
/// </summary>
public sealed class Http2ConnectionTests
{
    [Fact]
    public async Task ContinuedHeadersPaddedDataAndPingsAreHandledAsTheProtocolSays()
    {
        await using var peer = await ScriptedPeer.StartAsync();
        using var invoker = new Http2CallInvoker(peer.Address, TimeSpan.FromSeconds(5));
        var call = invoker.AsyncUnaryCall(FrameCodec.Handshake, null, new CallOptions(), new HandshakeRequest());

        await peer.SendAsync(FrameType.Settings, 0, 0, []);
        await peer.SendAsync(FrameType.Ping, 0, 0, [1, 2, 3, 4, 5, 6, 7, 8]);
        var request = await peer.ReadUntilAsync(frame => frame.Type == FrameType.Data && (frame.Flags & Http2Protocol.EndStream) != 0);
        var streamId = request.StreamId;
        // :status 200 in the HEADERS frame, content-type in its CONTINUATION.
        await peer.SendAsync(FrameType.Headers, 0, streamId, [0x88]);
        await peer.SendAsync(FrameType.Continuation, Http2Protocol.EndHeaders, streamId, [0x0f, 0x10, 16, .. "application/grpc"u8]);
        var message = new HandshakeResponse { Namespaces = { new NamespaceInfo { Name = "COUNTERS", ClassName = "Counter" } } }.ToByteArray();
        var data = new byte[1 + 5 + message.Length + 4];
        data[0] = 4;
        BinaryPrimitives.WriteInt32BigEndian(data.AsSpan(2), message.Length);
        message.CopyTo(data, 6);
        await peer.SendAsync(FrameType.Data, Http2Protocol.Padded, streamId, data);
        await peer.SendAsync(FrameType.Headers, Http2Protocol.EndHeaders | Http2Protocol.EndStream, streamId, [0x00, 11, .. "grpc-status"u8, 1, (byte)'0']);

        var response = await call.ResponseAsync.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal("COUNTERS", response.Namespaces.Single().Name);
        Assert.Equal(StatusCode.OK, call.GetStatus().StatusCode);
        var pong = await peer.ReadUntilAsync(frame => frame.Type == FrameType.Ping);
        Assert.Equal(Http2Protocol.Ack, pong.Flags);
        Assert.Equal(new byte[] { 1, 2, 3, 4, 5, 6, 7, 8 }, pong.Payload);
        Assert.Contains(peer.Received, frame => frame.Type == FrameType.Settings && frame.Flags == Http2Protocol.Ack);
    }

    [Fact]
    public async Task AResetFailsThatCallWithItsReasonAndTheConnectionCarriesTheNext()
    {
        await using var peer = await ScriptedPeer.StartAsync();
        using var invoker = new Http2CallInvoker(peer.Address, TimeSpan.FromSeconds(5));
        // The first call opens the connection.
        var first = invoker.AsyncUnaryCall(FrameCodec.Handshake, null, new CallOptions(), new HandshakeRequest());
        await peer.SendAsync(FrameType.Settings, 0, 0, []);
        var opened = await peer.ReadUntilAsync(frame => frame.Type == FrameType.Headers);
        await peer.SendAsync(FrameType.RstStream, 0, opened.StreamId, [0, 0, 0, (byte)Http2ErrorCode.RefusedStream]);
        var refused = await Assert.ThrowsAsync<RpcException>(() => first.ResponseAsync.WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.Equal(StatusCode.Unavailable, refused.StatusCode);
        Assert.Contains("refused the stream", refused.Status.Detail);

        var second = invoker.AsyncUnaryCall(FrameCodec.Handshake, null, new CallOptions(), new HandshakeRequest());
        var next = await peer.ReadUntilAsync(frame => frame.Type == FrameType.Headers);
        Assert.True(next.StreamId > opened.StreamId);
        // A trailers-only answer: status and message in the one header block.
        await peer.SendAsync(FrameType.Headers, Http2Protocol.EndHeaders | Http2Protocol.EndStream, next.StreamId,
            [0x88, 0x0f, 0x10, 16, .. "application/grpc"u8, 0x00, 11, .. "grpc-status"u8, 1, (byte)'5', 0x00, 12, .. "grpc-message"u8, 9, .. "no%20such"u8]);
        var notFound = await Assert.ThrowsAsync<RpcException>(() => second.ResponseAsync.WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.Equal(StatusCode.NotFound, notFound.StatusCode);
        Assert.Equal("no such", notFound.Status.Detail);
    }

    [Fact]
    public async Task AQuietConnectionIsPingedAndFailsItsCallsWhenThePingIsNotAnswered()
    {
        await using var peer = await ScriptedPeer.StartAsync();
        var keepAlive = new Http2Connection.KeepAlive(TimeSpan.FromMilliseconds(200), TimeSpan.FromMilliseconds(400));
        using var invoker = new Http2CallInvoker(peer.Address, TimeSpan.FromSeconds(5), keepAlive);
        var call = invoker.AsyncUnaryCall(FrameCodec.Handshake, null, new CallOptions(), new HandshakeRequest());
        await peer.SendAsync(FrameType.Settings, 0, 0, []);

        var ping = await peer.ReadUntilAsync(frame => frame.Type == FrameType.Ping);
        Assert.Equal(0, ping.Flags);
        // The peer stays silent: the call fails once the answer is overdue, instead of waiting forever.
        var lost = await Assert.ThrowsAsync<RpcException>(() => call.ResponseAsync.WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.Equal(StatusCode.Unavailable, lost.StatusCode);
        Assert.Contains("keep-alive ping", lost.Status.Detail);
    }

    private sealed record Frame(FrameType Type, byte Flags, int StreamId, byte[] Payload);

    /// <summary>A TCP peer the test drives frame by frame; it records every frame the client sends.</summary>
    private sealed class ScriptedPeer : IAsyncDisposable
    {
        private readonly TcpListener _listener;
        private Socket _socket = null!;

        private ScriptedPeer(TcpListener listener) => _listener = listener;

        public Uri Address => new($"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}");

        public List<Frame> Received { get; } = [];

        public static Task<ScriptedPeer> StartAsync()
        {
            var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            var peer = new ScriptedPeer(listener);
            peer.Accepted = peer.AcceptAsync();
            return Task.FromResult(peer);
        }

        private Task Accepted { get; set; } = Task.CompletedTask;

        public async Task SendAsync(FrameType type, byte flags, int streamId, byte[] payload)
        {
            await Accepted.WaitAsync(TimeSpan.FromSeconds(5));
            await _socket.SendAsync(Http2Protocol.Frame(type, flags, streamId, payload));
        }

        public async Task<Frame> ReadUntilAsync(Func<Frame, bool> wanted)
        {
            await Accepted.WaitAsync(TimeSpan.FromSeconds(5));
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            while (true)
            {
                var header = new byte[Http2Protocol.FrameHeaderLength];
                await ReadExactlyAsync(header, timeout.Token);
                var parsed = Http2Protocol.ReadFrameHeader(header);
                var payload = new byte[parsed.Length];
                await ReadExactlyAsync(payload, timeout.Token);
                var frame = new Frame(parsed.Type, parsed.Flags, parsed.StreamId, payload);
                Received.Add(frame);
                if (wanted(frame))
                {
                    return frame;
                }
            }
        }

        public async ValueTask DisposeAsync()
        {
            _socket?.Dispose();
            _listener.Stop();
            await Task.CompletedTask;
        }

        private async Task AcceptAsync()
        {
            _socket = await _listener.AcceptSocketAsync();
            var preface = new byte[Http2Protocol.ConnectionPreface.Length];
            await ReadExactlyAsync(preface, CancellationToken.None);
            Assert.Equal(Http2Protocol.ConnectionPreface.ToArray(), preface);
        }

        private async Task ReadExactlyAsync(byte[] buffer, CancellationToken cancellationToken)
        {
            for (var read = 0; read < buffer.Length;)
            {
                var count = await _socket.ReceiveAsync(buffer.AsMemory(read), SocketFlags.None, cancellationToken);
                if (count == 0)
                {
                    throw new IOException("The client closed the connection.");
                }
                read += count;
            }
        }
    }
}
