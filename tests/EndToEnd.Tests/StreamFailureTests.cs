using Grpc.AspNetCore.Server;
using Microsoft.Extensions.DependencyInjection;

namespace SourceGenDO.EndToEnd.Tests;

/// <summary>A stream that fails at either end fails loudly at both, and the client's next stub gets a fresh one.</summary>
public sealed class StreamFailureTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AServerWriteThatFailsBreaksTheStubsOfItsStreamSayingWhyAndANewStubWorks(bool grpcChannel)
    {
        // gRPC refuses to send a frame over its limit: a real failure of a write, made easy to reach.
        await using var server = await CustomServer.StartAsync(configureHost: host =>
            host.Services.Configure<GrpcServiceOptions>(grpc => grpc.MaxSendMessageSize = 4_096));
        await using var client = await server.ConnectAsync(grpcChannel ? new DurableObjectClientOptions { HttpHandler = new SocketsHttpHandler() } : null);
        var gates = client.GetNamespace<GateStub>("GATES");
        var waiting = gates.GetByName(ServerFixture.UniqueName("gate"));
        var held = waiting.Wait(1);
        await Eventually.True(() => Gate.Waiting.GetValueOrDefault(waiting.Id.ToString()) == 1, "the held call waits at the gate");
        var echoes = client.GetNamespace<EchoStub>("ECHOES");
        var echo = echoes.GetByName(ServerFixture.UniqueName("echo"));

        var failure = await Assert.ThrowsAsync<DurableObjectException>(() => echo.Text(new string('x', 10_000)).WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.StartsWith("The server could not write to the stream and ended it: ", failure.Message);
        Assert.Contains("exceeds the maximum configured message size", failure.Message);
        Assert.True(failure.Retryable);
        // Every stub of the stream broke with it, the one waiting elsewhere too.
        Assert.Same(failure, await Assert.ThrowsAsync<DurableObjectException>(() => held.WaitAsync(TimeSpan.FromSeconds(30))));
        Assert.Same(failure, await Assert.ThrowsAsync<DurableObjectException>(() => echo.Text("small")));

        var fresh = echoes.GetByName(ServerFixture.UniqueName("echo"));
        Assert.Equal("small", await fresh.Text("small").WaitAsync(TimeSpan.FromSeconds(30)));
    }
}
