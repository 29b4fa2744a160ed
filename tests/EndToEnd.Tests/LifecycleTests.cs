using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using SourceGenDO.Server.Execution;

namespace SourceGenDO.EndToEnd.Tests;

/// <summary>Activation on the first event, eviction when idle, and the bound on queued events.</summary>
public sealed class LifecycleTests
{
    [Fact]
    public async Task AnIdleInstanceIsEvictedAndTheNextEventConstructsANewOne()
    {
        // A fake clock: the instance is idle exactly when the test says so, however slow the machine.
        var time = new FakeTimeProvider();
        await using var server = await RunningServer.StartAsync(options => options.IdleTimeout = TimeSpan.FromSeconds(10), time: time);
        await using var client = await server.ConnectAsync();
        var host = server.App.Services.GetRequiredService<DurableObjectHost>();
        host.TryGetNamespace("COUNTERS", out var counters);
        var stub = client.GetNamespace<CounterStub>("COUNTERS").GetByName(ServerFixture.UniqueName());

        Assert.Equal(0, counters.ActivationCount);
        Assert.Equal(3, await stub.Increment(3));
        Assert.Equal(1, await stub.GetConstruction());
        await Eventually.True(() =>
        {
            time.Advance(TimeSpan.FromSeconds(5));
            return counters.ActivationCount == 0;
        }, "the idle instance is evicted");

        Assert.Equal(2, await stub.GetConstruction());
        Assert.Equal(0, await stub.Get());
    }

    [Fact]
    public async Task GettingAStubDoesNotActivateTheObject()
    {
        await using var server = await RunningServer.StartAsync();
        await using var client = await server.ConnectAsync();
        var host = server.App.Services.GetRequiredService<DurableObjectHost>();
        host.TryGetNamespace("COUNTERS", out var counters);
        var stub = client.GetNamespace<CounterStub>("COUNTERS").GetByName(ServerFixture.UniqueName());
        Assert.Equal(0, counters.ActivationCount);
        await stub.Get();
        Assert.Equal(1, counters.ActivationCount);
    }

    [Fact]
    public async Task CallsBeyondTheQueueBoundFailFastAsOverloaded()
    {
        await using var server = await RunningServer.StartAsync(options => options.MaxQueuedEventsPerObject = 10);
        await using var client = await server.ConnectAsync();
        var stub = client.GetNamespace<GateStub>("GATES").GetByName(ServerFixture.UniqueName("gate"));
        var key = stub.Id.ToString();
        var waiting = Enumerable.Range(0, 10).Select(stub.Wait).ToArray();
        await Eventually.True(() => Gate.Waiting.GetValueOrDefault(key) == 10, "ten calls wait in the object");

        var overloaded = await Assert.ThrowsAsync<DurableObjectException>(() => stub.Ping(11));
        Assert.True(overloaded.Overloaded);
        Assert.Equal("Durable Object is overloaded. Too many requests queued.", overloaded.Message);

        Gate.Open(key);
        Assert.Equal(Enumerable.Range(0, 10), await Task.WhenAll(waiting));
        Assert.Equal(12, await stub.Ping(12));
    }
}
