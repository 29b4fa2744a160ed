using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using SourceGenDO.TestObjects;
using SourceGenDO.Wire;

namespace SourceGenDO.Server.Tests;

/// <summary>A frame that does not decode ends its stream as a protocol error, quietly logged.</summary>
public sealed class MalformedFrameTests : IAsyncLifetime
{
    private readonly CapturedLogs _logs = new();
    private CustomServer _server = null!;

    public async Task InitializeAsync() =>
        _server = await CustomServer.StartAsync(configureHost: host => host.Logging.AddProvider(_logs));

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task AGarbageFrameEndsItsStreamWithInvalidArgumentSayingWhatWasMalformed()
    {
        using var channel = GrpcChannel.ForAddress(_server.Address);
        using var call = ByteStream.Open(channel);
        // Field 2 (a call), length-delimited, claiming 100 bytes where 2 follow.
        await call.RequestStream.WriteAsync([0x12, 100, 1, 2]);
        var failure = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext(CancellationToken.None));
        Assert.Equal(StatusCode.InvalidArgument, failure.StatusCode);
        Assert.StartsWith("The stream was ended because a frame was malformed: ", failure.Status.Detail);
        Assert.True(failure.Status.Detail.Length > "The stream was ended because a frame was malformed: ".Length + 5, failure.Status.Detail);
    }

    [Fact]
    public async Task ThousandsOfOneByteFramesAreLoggedAsAFewWarningsWithoutStackAndOtherClientsAreServed()
    {
        using var channel = GrpcChannel.ForAddress(_server.Address);
        await using var client = await _server.ConnectAsync();
        var counter = client.GetNamespace<CounterStub>("COUNTERS").GetByName(Guid.NewGuid().ToString());
        const int Streams = 1_000;
        var ended = 0;
        await Parallel.ForEachAsync(Enumerable.Range(0, Streams), new ParallelOptions { MaxDegreeOfParallelism = 32 }, async (i, _) =>
        {
            using var call = ByteStream.Open(channel);
            await call.RequestStream.WriteAsync([(byte)(i % 256 | 0x80)]);
            // Half-closed at once: Kestrel resets connections with many streams ended while still open.
            await call.RequestStream.CompleteAsync();
            var failure = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext(CancellationToken.None));
            Assert.True(failure.StatusCode == StatusCode.InvalidArgument, failure.Status.ToString());
            Interlocked.Increment(ref ended);
            if (i % 250 == 0)
            {
                await counter.Increment(1);
            }
        });
        Assert.Equal(Streams, ended);
        Assert.Equal(Streams / 250, await counter.Get());

        var entries = _logs.Entries.ToArray();
        Assert.DoesNotContain(entries, entry => entry.Level >= LogLevel.Error);
        var warnings = entries.Where(entry => entry.Level == LogLevel.Warning && entry.Message.Contains("malformed frame", StringComparison.Ordinal)).ToArray();
        Assert.InRange(warnings.Length, 1, 5);
        Assert.All(warnings, warning => Assert.Null(warning.Exception));
    }
}
