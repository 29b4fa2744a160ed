using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using SourceGenDO.Wire;

namespace SourceGenDO.Soak.BadClients;

/// <summary>
/// The wire contract spoken directly (protos/sourcegendo.proto compiled here, as
/// tests/Server.Tests/RawClient.cs does): channels to the server and the frames the raw bad clients send.
/// </summary>
internal sealed class RawWire(Uri address, DurableObjectNamespace<SoakObjectStub> objects)
{
    /// <summary><c>Increment(1)</c>'s arguments: field 1, a zigzag sint64 (1 encodes as 2).</summary>
    public static readonly ByteString IncrementOne = ByteString.CopyFrom(0x08, 0x02);

    /// <summary>The Connect method with raw bytes for messages, to send what the generated client cannot.</summary>
    public static readonly Method<byte[], byte[]> ConnectBytes = new(
        MethodType.DuplexStreaming, "sourcegendo.v1.DurableObjects", "Connect",
        Marshallers.Create(bytes => bytes, bytes => bytes), Marshallers.Create(bytes => bytes, bytes => bytes));

    public Uri Address => address;

    /// <summary>A channel of its own (its own HTTP/2 connection), with no message size limits of its own.</summary>
    public GrpcChannel NewChannel() => GrpcChannel.ForAddress(address, new GrpcChannelOptions
    {
        MaxReceiveMessageSize = null,
        MaxSendMessageSize = null,
    });

    /// <summary>Binds channel 1 of a stream to the object named <paramref name="name"/>.</summary>
    public OpenChannel Open(string name) => new() { Channel = 1, Namespace = objects.Name, Id = objects.IdFromName(name).ToString() };
}
