using Grpc.Core;
using SourceGenDO.Transport.Http2;

namespace SourceGenDO.EndToEnd.Tests;

/// <summary>A stream the server ends as malformed reaches the .NET client as a protocol error, not a lost connection.</summary>
public sealed class ProtocolErrorTests
{
    private static readonly Marshaller<byte[]> Bytes = Marshallers.Create(static bytes => bytes, static bytes => bytes);

    private static readonly Method<byte[], byte[]> Connect = new(MethodType.DuplexStreaming, "sourcegendo.v1.DurableObjects", "Connect", Bytes, Bytes);

    [Fact]
    public async Task AMalformedFrameFailsTheStreamAtTheClientAsANonRetryableErrorCarryingTheServersDetail()
    {
        await using var server = await RunningServer.StartAsync();
        using var invoker = new Http2CallInvoker(server.Address, TimeSpan.FromSeconds(10));
        using var call = invoker.AsyncDuplexStreamingCall(Connect, null, new CallOptions());
        // A call entry (field 2) claiming 100 bytes where 2 follow.
        await call.RequestStream.WriteAsync([0x12, 100, 1, 2]);
        var ended = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext(CancellationToken.None));

        // What ClientStream fails every pending call and stub of the stream with.
        var failure = RemoteErrors.FromStreamFailure(ended);
        Assert.False(failure.Retryable);
        Assert.StartsWith("The stream was ended because a frame was malformed: ", failure.Message);
        Assert.Equal(ended.Status.Detail, failure.Message);

        await using var client = await server.ConnectAsync();
        Assert.Equal(1, await client.GetNamespace<CounterStub>("COUNTERS").GetByName(ServerFixture.UniqueName()).Increment(1));
    }
}
