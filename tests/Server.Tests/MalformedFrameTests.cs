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

    [Fact]
    public async Task StreamsCutOffWhenKestrelFaultsTheirConnectionLogNoError()
    {
        // Streams opened and reset as fast as the client can (each after one malformed frame) make Kestrel
        // fault the connection (ENHANCE_YOUR_CALM); every stream still on it, this idle one too, then fails
        // to read before the request's abort token is set. The client is gone: nothing to log at Error.
        using var channel = GrpcChannel.ForAddress(_server.Address);
        using var idle = ByteStream.Open(channel);
        var idleEnded = idle.ResponseStream.MoveNext(CancellationToken.None);
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => Task.Run(async () =>
        {
            while (!idleEnded.IsCompleted && !stop.IsCancellationRequested)
            {
                using var call = ByteStream.Open(channel);
                try
                {
                    await call.RequestStream.WriteAsync([0x0A]);
                }
                catch (Exception)
                {
                    // The stream or its connection is gone already.
                }
            }
        })));
        Assert.True(idleEnded.IsCompleted, "Kestrel did not fault the connection within 20 s of streams reset at once.");
        var cutOff = await Assert.ThrowsAsync<RpcException>(() => idleEnded);
        Assert.Equal(StatusCode.Unavailable, cutOff.StatusCode);

        // The handlers of the streams cut off end after the connection does.
        await Task.Delay(TimeSpan.FromSeconds(1));
        Assert.DoesNotContain(_logs.Entries.ToArray(), entry => entry.Level >= LogLevel.Error);
    }
}
