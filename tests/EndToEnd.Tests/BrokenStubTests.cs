using System.Net;
using System.Net.Sockets;

namespace SourceGenDO.EndToEnd.Tests;

/// <summary>A stub whose stream fails is broken for good; a new stub from the namespace works again.</summary>
public sealed class BrokenStubTests
{
    [Fact]
    public async Task ServerStoppedWithHundredCallsInFlightBreaksTheStubUntilANewOneIsTaken()
    {
        var port = FreePort();
        var server = await RunningServer.StartAsync(port: port);
        var dataDirectory = server.DataDirectory;
        await using var client = await server.ConnectAsync();
        var gates = client.GetNamespace<GateStub>("GATES");
        var stub = gates.GetByName(ServerFixture.UniqueName("gate"));
        var key = stub.Id.ToString();

        var inFlight = Enumerable.Range(0, 100).Select(stub.Wait).ToArray();
        await Eventually.True(() => Gate.Waiting.GetValueOrDefault(key) == 100, "all 100 calls wait in the object");
        await server.DisposeAsync();

        var failures = new List<DurableObjectException>();
        foreach (var call in inFlight)
        {
            failures.Add(await Assert.ThrowsAsync<DurableObjectException>(() => call));
        }
        Assert.All(failures, failure =>
        {
            Assert.Same(failures[0], failure);
            Assert.Equal("Network connection lost.", failure.Message);
            Assert.True(failure.Retryable);
        });

        var later = stub.Ping(1);
        Assert.True(later.IsCompleted, "a call on a broken stub fails at once");
        Assert.Same(failures[0], await Assert.ThrowsAsync<DurableObjectException>(() => later));

        await using var restarted = await RunningServer.StartAsync(port: port, dataDirectory: dataDirectory);
        var fresh = gates.Get(stub.Id);
        Assert.Equal(7, await fresh.Ping(7));
        await Assert.ThrowsAsync<DurableObjectException>(() => stub.Ping(2));
    }

    [Fact]
    public async Task ADisposedStubFinishesItsCallsAndRefusesLaterOnes()
    {
        await using var server = await RunningServer.StartAsync();
        await using var client = await server.ConnectAsync();
        var stub = client.GetNamespace<CounterStub>("COUNTERS").GetByName(ServerFixture.UniqueName());
        var calls = Enumerable.Range(0, 50).Select(_ => stub.Increment()).ToArray();
        await stub.DisposeAsync();
        Assert.Equal(Enumerable.Range(1, 50).Select(i => (long)i), await Task.WhenAll(calls));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => stub.Increment());
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
