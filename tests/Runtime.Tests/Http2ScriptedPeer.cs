using System.Net;
using System.Net.Sockets;
using SourceGenDO.Transport.Http2;

namespace SourceGenDO.Runtime.Tests;

/// <summary>A frame as the scripted peer read it.</summary>
internal sealed record Http2Frame(FrameType Type, byte Flags, int StreamId, byte[] Payload);

/// <summary>
/// A TCP peer that a test drives frame by frame, in place of an HTTP/2 server; it records every frame the
/// client sends that it read, and reads nothing unless told to (a server that stops reading).
/// </summary>
internal sealed class Http2ScriptedPeer : IAsyncDisposable
{
    /// <summary>":status 200" and "content-type: application/grpc", HPACK-encoded without the dynamic table.</summary>
    public static readonly byte[] ResponseHeaders = [0x88, 0x0f, 0x10, 16, .. "application/grpc"u8];

    private readonly TcpListener _listener;
    private Socket _socket = null!;

    private Http2ScriptedPeer(TcpListener listener) => _listener = listener;

    public Uri Address => new($"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}");

    public List<Http2Frame> Received { get; } = [];

    private Task Accepted { get; set; } = Task.CompletedTask;

    /// <param name="receiveBufferSize">The socket's receive buffer when set: small, so that a peer that stops reading soon stops the client's writes.</param>
    public static Task<Http2ScriptedPeer> StartAsync(int? receiveBufferSize = null)
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        if (receiveBufferSize is { } size)
        {
            // Set before listening, so that accepted sockets start with it (and the kernel does not grow it).
            listener.Server.ReceiveBufferSize = size;
        }
        listener.Start();
        var peer = new Http2ScriptedPeer(listener);
        peer.Accepted = peer.AcceptAsync();
        return Task.FromResult(peer);
    }

    public async Task SendAsync(FrameType type, byte flags, int streamId, byte[] payload)
    {
        await Accepted.WaitAsync(TimeSpan.FromSeconds(5));
        await SendRawAsync(Http2Protocol.Frame(type, flags, streamId, payload));
    }

    public async Task SendRawAsync(ReadOnlyMemory<byte> bytes)
    {
        await Accepted.WaitAsync(TimeSpan.FromSeconds(5));
        while (!bytes.IsEmpty)
        {
            var sent = await _socket.SendAsync(bytes, SocketFlags.None);
            bytes = bytes[sent..];
        }
    }

    /// <summary>Reads frames until one is <paramref name="wanted"/>, for at most <paramref name="timeout"/> (5 s by default).</summary>
    public async Task<Http2Frame> ReadUntilAsync(Func<Http2Frame, bool> wanted, TimeSpan? timeout = null)
    {
        await Accepted.WaitAsync(TimeSpan.FromSeconds(5));
        using var cancel = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(5));
        while (true)
        {
            var frame = await ReadFrameAsync(cancel.Token) ?? throw new IOException("The client closed the connection.");
            if (wanted(frame))
            {
                return frame;
            }
        }
    }

    /// <summary>A frame read already that is <paramref name="wanted"/>, or else the next one read that is.</summary>
    public Task<Http2Frame> SeenOrReadAsync(Func<Http2Frame, bool> wanted)
    {
        lock (Received)
        {
            if (Received.FirstOrDefault(wanted) is { } seen)
            {
                return Task.FromResult(seen);
            }
        }
        return ReadUntilAsync(wanted);
    }

    /// <summary>Reads the next frame's header only, leaving its payload unread.</summary>
    public async Task<FrameHeader> ReadHeaderAsync()
    {
        await Accepted.WaitAsync(TimeSpan.FromSeconds(5));
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        var header = new byte[Http2Protocol.FrameHeaderLength];
        if (!await ReadExactlyAsync(header, cancel.Token))
        {
            throw new IOException("The client closed the connection.");
        }
        return Http2Protocol.ReadFrameHeader(header);
    }

    /// <summary>Reads frames until the client closes the connection; false when it is still open after 5 s.</summary>
    public async Task<bool> ClientClosesAsync()
    {
        await Accepted.WaitAsync(TimeSpan.FromSeconds(5));
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try
        {
            while (await ReadFrameAsync(cancel.Token) is not null)
            {
            }
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
        catch (SocketException)
        {
            // Reset by the client: closed too.
            return true;
        }
    }

    /// <summary>The next frame, or null when the client closed the connection.</summary>
    public async Task<Http2Frame?> ReadFrameAsync(CancellationToken cancellationToken)
    {
        var header = new byte[Http2Protocol.FrameHeaderLength];
        if (!await ReadExactlyAsync(header, cancellationToken))
        {
            return null;
        }
        var parsed = Http2Protocol.ReadFrameHeader(header);
        var payload = new byte[parsed.Length];
        if (!await ReadExactlyAsync(payload, cancellationToken))
        {
            return null;
        }
        var frame = new Http2Frame(parsed.Type, parsed.Flags, parsed.StreamId, payload);
        lock (Received)
        {
            Received.Add(frame);
        }
        return frame;
    }

    public ValueTask DisposeAsync()
    {
        _socket?.Dispose();
        _listener.Stop();
        return ValueTask.CompletedTask;
    }

    private async Task AcceptAsync()
    {
        _socket = await _listener.AcceptSocketAsync();
        var preface = new byte[Http2Protocol.ConnectionPreface.Length];
        await ReadExactlyAsync(preface, CancellationToken.None);
        Assert.Equal(Http2Protocol.ConnectionPreface.ToArray(), preface);
    }

    private async Task<bool> ReadExactlyAsync(byte[] buffer, CancellationToken cancellationToken)
    {
        for (var read = 0; read < buffer.Length;)
        {
            var count = await _socket.ReceiveAsync(buffer.AsMemory(read), SocketFlags.None, cancellationToken);
            if (count == 0)
            {
                return false;
            }
            read += count;
        }
        return true;
    }
}
