using System.Security.Cryptography;
using System.Text;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using SourceGenDO.Wire;

namespace SourceGenDO.Server.Tests;

/// <summary>
/// A client written from protos/sourcegendo.proto and docs/wire-format.md alone: it derives ids and
/// encodes arguments by hand, as a client in another language would.
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

    public AsyncDuplexStreamingCall<ClientFrame, ServerFrame> Open(string? @namespace, string? id, byte[]? name = null)
    {
        var headers = new Metadata();
        if (@namespace is not null)
        {
            headers.Add("sgdo-namespace", @namespace);
        }
        if (id is not null)
        {
            headers.Add("sgdo-id", id);
        }
        if (name is not null)
        {
            headers.Add("sgdo-name-bin", name);
        }
        return Grpc.Connect(headers);
    }

    /// <summary>Sends calls in one frame and collects their results, however many frames they come in.</summary>
    public static async Task<Dictionary<ulong, Result>> CallAsync(AsyncDuplexStreamingCall<ClientFrame, ServerFrame> stream, params Call[] calls)
    {
        var frame = new ClientFrame();
        frame.Calls.AddRange(calls);
        try
        {
            await stream.RequestStream.WriteAsync(frame);
        }
        catch (Exception)
        {
            // The server ended the call while we wrote; the response stream carries its status.
            await stream.ResponseStream.MoveNext(CancellationToken.None);
            throw;
        }
        var results = new Dictionary<ulong, Result>();
        while (results.Count < calls.Length)
        {
            Assert.True(await stream.ResponseStream.MoveNext(CancellationToken.None), "the stream ended before every call was answered");
            foreach (var result in stream.ResponseStream.Current.Results)
            {
                results.Add(result.CallId, result);
            }
        }
        return results;
    }

    public static Call Call(ulong id, string method, byte[] args) => new() { CallId = id, Method = method, Args = ByteString.CopyFrom(args) };

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
