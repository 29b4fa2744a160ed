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
        await using var clocked = await ClockedServer.StartAsync();
        var (time, counters, stub) = (clocked.Time, clocked.Counters, clocked.Stub);

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
    public async Task IdleTimeCountsFromTheLastEventNotFromActivation()
    {
        await using var clocked = await ClockedServer.StartAsync();
        var (time, counters, stub) = (clocked.Time, clocked.Counters, clocked.Stub);

        await stub.Increment(1);
        time.Advance(TimeSpan.FromSeconds(8));
        // Sent together, so they queue: only the last to finish finds itself the last event.
        var values = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => stub.Increment(1)));
        Assert.Equal(21, values.Max());

        // 13 s after activation, 5 s after the last event: still in use.
        time.Advance(TimeSpan.FromSeconds(5));
        counters.EvictIdle();
        Assert.Equal(1, counters.ActivationCount);

        // 11 s after the last event: idle.
        time.Advance(TimeSpan.FromSeconds(6));
        counters.EvictIdle();
        Assert.Equal(0, counters.ActivationCount);
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

    /// <summary>
    /// A server on a fake clock with a 10 s idle timeout, its COUNTERS namespace and a stub into it: the
    /// instance is idle exactly when the test says so, however slow the machine.
    /// </summary>
    private sealed class ClockedServer : IAsyncDisposable
    {
        private RunningServer _server = null!;
        private DurableObjectClient _client = null!;

        public FakeTimeProvider Time { get; } = new();

        public NamespaceHost Counters { get; private set; } = null!;

        public CounterStub Stub { get; private set; } = null!;

        public static async Task<ClockedServer> StartAsync()
        {
            var clocked = new ClockedServer();
            clocked._server = await RunningServer.StartAsync(options => options.IdleTimeout = TimeSpan.FromSeconds(10), time: clocked.Time);
            clocked._client = await clocked._server.ConnectAsync();
            clocked._server.App.Services.GetRequiredService<DurableObjectHost>().TryGetNamespace("COUNTERS", out var counters);
            clocked.Counters = counters;
            clocked.Stub = clocked._client.GetNamespace<CounterStub>("COUNTERS").GetByName(ServerFixture.UniqueName());
            return clocked;
        }

        public async ValueTask DisposeAsync()
        {
            await _client.DisposeAsync();
            await _server.DisposeAsync();
        }
    }
}
