using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Logging;

namespace SourceGenDO.EndToEnd.Tests;

/// <summary>
/// The two client transports, SourceGenDO's own HTTP/2 client (the default for http addresses) and
/// grpc-dotnet's channel (given a handler), carry the same calls; bad peers fail the connect clearly.
/// </summary>
public sealed class TransportTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    public static TheoryData<bool> Transports => new() { false, true };

    private static Task<DurableObjectClient> ConnectAsync(Uri address, bool grpcChannel) =>
        DurableObjectClient.ConnectAsync(address, new DurableObjectClientOptions
        {
            HttpHandler = grpcChannel ? new SocketsHttpHandler() : null,
        });

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task CallsErrorsAndPayloadsLargerThanEveryWindowGoBothWays(bool grpcChannel)
    {
        await using var client = await ConnectAsync(fixture.Server.Address, grpcChannel);
        var name = $"transport-{grpcChannel}-{Guid.NewGuid():n}";
        var counter = client.GetNamespace<CounterStub>("COUNTERS").GetByName(name);
        Assert.Equal(5, await counter.Increment(5));

        var thrower = client.GetNamespace<ThrowerStub>("THROWERS").GetByName(name);
        await Assert.ThrowsAsync<InvalidOperationException>(() => thrower.ThrowInvalidOperation("boom"));

        // 20 MiB each way: more than the server's stream and connection windows and than this client's
        // own receive window, so both sides must wait for window updates in the middle of one message.
        var payload = new byte[20 * 1024 * 1024];
        Random.Shared.NextBytes(payload);
        var echo = client.GetNamespace<EchoStub>("ECHOES").GetByName(name);
        Assert.Equal(payload, await echo.Bytes(payload));

        // Many stubs at once share the stream; each gets its own answers.
        var counters = Enumerable.Range(0, 50).Select(i => client.GetNamespace<CounterStub>("COUNTERS").GetByName($"{name}-{i}")).ToArray();
        var results = await Task.WhenAll(counters.Select((stub, i) => stub.Increment(i)));
        Assert.Equal(Enumerable.Range(0, 50).Select(i => (long)i), results);
    }

    [Fact]
    public async Task ConnectingWhereNothingListensFailsRetryableNamingTheAddress()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();

        var error = await Assert.ThrowsAsync<DurableObjectException>(() => DurableObjectClient.ConnectAsync(new Uri($"http://127.0.0.1:{port}")));
        Assert.True(error.Retryable);
        Assert.Contains($"127.0.0.1:{port}", error.Message);
    }

    [Fact]
    public async Task AnHttp2ServerThatIsNotSourceGenDOIsRefusedSayingWhatItAnswered()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.ConfigureKestrel(kestrel =>
            kestrel.Listen(IPAddress.Loopback, 0, listen => listen.Protocols = HttpProtocols.Http2));
        await using var app = builder.Build();
        await app.StartAsync();

        var error = await Assert.ThrowsAsync<DurableObjectException>(() => DurableObjectClient.ConnectAsync(new Uri(app.Urls.First())));
        Assert.False(error.Retryable);
        Assert.Contains("HTTP status 404", error.Message);
    }

    [Fact]
    public async Task AServerThatDoesNotSpeakHttp2FailsTheConnectInsteadOfHanging()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var answering = Task.Run(async () =>
        {
            using var socket = await listener.AcceptSocketAsync();
            await socket.SendAsync(Encoding.ASCII.GetBytes("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"));
            await Task.Delay(TimeSpan.FromSeconds(5));
        });

        var error = await Assert.ThrowsAsync<DurableObjectException>(() =>
            DurableObjectClient.ConnectAsync(new Uri($"http://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}")).WaitAsync(TimeSpan.FromSeconds(4)));
        Assert.True(error.Retryable);
        Assert.Contains("did not answer in HTTP/2", error.Message);
    }
}
