using Grpc.Core;
using Grpc.Net.Client;

namespace SourceGenDO.Server.Tests;

/// <summary>A Connect stream whose frames are raw bytes: for sending what no encoder would produce.</summary>
internal static class ByteStream
{
    private static readonly Marshaller<byte[]> Bytes = Marshallers.Create(static bytes => bytes, static bytes => bytes);

    private static readonly Method<byte[], byte[]> Connect = new(
        MethodType.DuplexStreaming, "sourcegendo.v1.DurableObjects", "Connect", Bytes, Bytes);

    public static AsyncDuplexStreamingCall<byte[], byte[]> Open(GrpcChannel channel) =>
        channel.CreateCallInvoker().AsyncDuplexStreamingCall(Connect, null, new CallOptions());
}
