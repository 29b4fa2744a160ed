using Grpc.Net.Client;
using SourceGenDO.TestObjects;
using SourceGenDO.Wire;

namespace SourceGenDO.Server.Tests;

/// <summary>
/// Server frames stay within 4 MiB, the default receive limit of gRPC libraries in most languages,
/// unless one result alone is larger: a client built with that default receives many large results and
/// errors at once.
/// </summary>
public sealed class ServerFrameSizeTests : IAsyncLifetime
{
    private const int FourMiB = 4 * 1024 * 1024;

    private RunningServer _server = null!;
    private GrpcChannel _channel = null!;
    private DurableObjects.DurableObjectsClient _grpc = null!;

    public async Task InitializeAsync()
    {
        _server = await RunningServer.StartAsync();
        _channel = GrpcChannel.ForAddress(_server.Address, new GrpcChannelOptions { MaxReceiveMessageSize = FourMiB, MaxSendMessageSize = null });
        _grpc = new DurableObjects.DurableObjectsClient(_channel);
    }

    public async Task DisposeAsync()
    {
        _channel.Dispose();
        await _server.DisposeAsync();
    }

    [Fact]
    public async Task AClientWithTheDefaultFourMiBLimitReceivesManyLargeResultsAndErrorsAtOnce()
    {
        var handshake = await _grpc.HandshakeAsync(new HandshakeRequest());
        var key = handshake.Namespaces.Single(ns => ns.Name == "OVERSIZE").IdKey;
        using var stream = new RawStream(_grpc.Connect());
        var channel = stream.Open("OVERSIZE", RawClient.IdFromName(key, Guid.NewGuid().ToString()));
        // 200 errors of 30,000 characters and 20 results of 1 MB, answered at once: 26 MB in all.
        var calls = Enumerable.Range(1, 220)
            .Select(i => i <= 200
                ? RawClient.Call(channel, (ulong)i, "Throw", RawClient.SInt64AtField1(30_000))
                : RawClient.Call(channel, (ulong)i, "Bytes", RawClient.SInt64AtField1(1_000_000)))
            .ToArray();
        var results = await stream.CallAsync(calls).WaitAsync(TimeSpan.FromSeconds(60));
        for (ulong i = 1; i <= 220; i++)
        {
            var result = results[i];
            if (i <= 200)
            {
                Assert.Equal("System.InvalidOperationException", result.Error.Type);
                Assert.Equal(30_000, result.Error.Message.Length);
            }
            else
            {
                // Field 1, length 1,000,000 (a three-byte varint), then the bytes.
                Assert.Equal(Result.OutcomeOneofCase.Value, result.OutcomeCase);
                Assert.Equal(1 + 3 + 1_000_000, result.Value.Length);
            }
        }
        Assert.True(stream.FramesReceived > 1);
    }
}
