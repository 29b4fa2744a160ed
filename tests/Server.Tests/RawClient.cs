using System.Security.Cryptography;
using System.Text;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using SourceGenDO.Wire;

namespace SourceGenDO.Server.Tests;

/// <summary>
/// A client written from protos/sourcegendo.proto and docs/wire-format.md alone: it derives ids,
/// opens channels and encodes arguments by hand, as a client in another language would.
/// </summary>
internal sealed class RawClient : IDisposable
{
    private readonly GrpcChannel _channel;

    public RawClient(Uri address)
    {
        _channel = GrpcChannel.ForAddress(address, new GrpcChannelOptions { MaxSendMessageSize = null, MaxReceiveMessageSize = null });
        Grpc = new DurableObjects.DurableObjectsClient(_channel);
    }

    public DurableObjects.DurableObjectsClient Grpc { get; }

    public RawStream Connect() => new(Grpc.Connect());

    public static Call Call(uint channel, ulong id, string method, byte[] args) =>
        new() { Channel = channel, CallId = id, Method = method, Args = ByteString.CopyFrom(args) };

    /// <summary>The named id, derived as docs/wire-format.md says.</summary>
    public static string IdFromName(ByteString namespaceKey, string name)
    {
        var key = namespaceKey.ToByteArray();
        var nameKey = HMACSHA256.HashData(key, "sgdo/id-name"u8);
        var macKey = HMACSHA256.HashData(key, "sgdo/id-mac"u8);
        var head = HMACSHA256.HashData(nameKey, Encoding.UTF8.GetBytes(name))[..16];
        var mac = HMACSHA256.HashData(macKey, head)[..16];
        return Convert.ToHexStringLower([.. head, .. mac]);
    }

    /// <summary>Arguments or a result with one sint64 at field 1: key 0x08, then the zigzag varint.</summary>
    public static byte[] SInt64AtField1(long value)
    {
        var bytes = new List<byte> { 0x08 };
        var zigzag = (ulong)((value << 1) ^ (value >> 63));
        while (zigzag >= 0x80)
        {
            bytes.Add((byte)(zigzag | 0x80));
            zigzag >>= 7;
        }
        bytes.Add((byte)zigzag);
        return [.. bytes];
    }

    public void Dispose() => _channel.Dispose();
}

/// <summary>One Connect stream: channels are opened in the frame of their first call.</summary>
internal sealed class RawStream(AsyncDuplexStreamingCall<ClientFrame, ServerFrame> call) : IDisposable
{
    private readonly List<OpenChannel> _opens = [];
    private uint _nextChannel;

    /// <summary>Channels the server closed, with their errors.</summary>
    public Dictionary<uint, Error> Closed { get; } = [];

    /// <summary>How many closed entries the server has sent so far, repeats included.</summary>
    public int ClosedEntries { get; private set; }

    /// <summary>How many frames the server has sent so far.</summary>
    public int FramesReceived { get; private set; }

    /// <summary>Opens a channel; the open travels with the next frame.</summary>
    public uint Open(string? @namespace, string? id, byte[]? name = null)
    {
        var open = new OpenChannel { Channel = ++_nextChannel, Namespace = @namespace ?? "", Id = id ?? "" };
        if (name is not null)
        {
            open.Name = ByteString.CopyFrom(name);
        }
        _opens.Add(open);
        return open.Channel;
    }

    /// <summary>Sends the pending opens and the calls in one frame, and collects their results.</summary>
    public Task<Dictionary<ulong, Result>> CallAsync(params Call[] calls) => SendAsync(new ClientFrame(), calls.Length, calls);

    /// <summary>Sends the pending opens and the calls in one frame, without waiting for results.</summary>
    public Task WriteAsync(params Call[] calls)
    {
        var frame = new ClientFrame();
        frame.Opens.AddRange(_opens);
        frame.Calls.AddRange(calls);
        _opens.Clear();
        return call.RequestStream.WriteAsync(frame);
    }

    /// <summary>Sends <paramref name="frame"/> (with the pending opens and <paramref name="calls"/>) and collects <paramref name="expected"/> results.</summary>
    public async Task<Dictionary<ulong, Result>> SendAsync(ClientFrame frame, int expected, params Call[] calls)
    {
        frame.Opens.AddRange(_opens);
        frame.Calls.AddRange(calls);
        _opens.Clear();
        try
        {
            await call.RequestStream.WriteAsync(frame);
        }
        catch (Exception)
        {
            // The server ended the call while we wrote; the response stream carries its status.
            await call.ResponseStream.MoveNext(CancellationToken.None);
            throw;
        }
        return await ReceiveAsync(expected);
    }

    /// <summary>Sends <paramref name="frame"/> with the pending opens, without waiting for anything.</summary>
    public Task WriteFrameAsync(ClientFrame frame)
    {
        frame.Opens.AddRange(_opens);
        _opens.Clear();
        return call.RequestStream.WriteAsync(frame);
    }

    /// <summary>Half-closes the stream: the client sends nothing more.</summary>
    public Task CompleteAsync() => call.RequestStream.CompleteAsync();

    /// <summary>The next frame the server sends, or null when it ended the stream normally; an ended call throws its status.</summary>
    public async Task<ServerFrame?> ReadFrameAsync()
    {
        if (!await call.ResponseStream.MoveNext(CancellationToken.None))
        {
            return null;
        }
        FramesReceived++;
        return call.ResponseStream.Current;
    }

    /// <summary>Reads frames until the server has closed <paramref name="channel"/>; results read meanwhile are dropped.</summary>
    public async Task ReceiveClosedAsync(uint channel)
    {
        while (!Closed.ContainsKey(channel))
        {
            Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None), "the stream ended before the channel was closed");
            FramesReceived++;
            foreach (var closed in call.ResponseStream.Current.Closed)
            {
                Closed[closed.Channel] = closed.Error;
                ClosedEntries++;
            }
        }
    }

    /// <summary>Collects the next <paramref name="expected"/> results.</summary>
    public async Task<Dictionary<ulong, Result>> ReceiveAsync(int expected)
    {
        var results = new Dictionary<ulong, Result>();
        while (results.Count < expected)
        {
            Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None), "the stream ended before every call was answered");
            FramesReceived++;
            foreach (var result in call.ResponseStream.Current.Results)
            {
                results.Add(result.CallId, result);
            }
            foreach (var closed in call.ResponseStream.Current.Closed)
            {
                Closed[closed.Channel] = closed.Error;
                ClosedEntries++;
            }
        }
        return results;
    }

    public void Dispose() => call.Dispose();
}
