using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using SourceGenDO.Server.Execution;

namespace SourceGenDO.EndToEnd.Tests.Storage;

/// <summary>Storage across the lifecycle of instances and servers: eviction, stopping, restarting, and the cache's bound.</summary>
public sealed class StorageLifecycleTests
{
    [Fact]
    public async Task AnEvictedInstanceLeavesItsStorageToTheNextOne()
    {
        var time = new FakeTimeProvider();
        await using var server = await RunningServer.StartAsync(options => options.IdleTimeout = TimeSpan.FromSeconds(10), time: time);
        await using var client = await server.ConnectAsync();
        var store = client.GetNamespace<StoreStub>("STORES").GetByName(ServerFixture.UniqueName());
        Assert.Equal(5, await store.Increment(5));
        Assert.Equal(1, await store.CallsOnThisInstance());

        var ns = Namespace(server, "STORES");
        time.Advance(TimeSpan.FromSeconds(11));
        await Eventually.True(() => !ns.IsLive(store.Id), "the idle instance was evicted");

        Assert.Equal(1, await store.CallsOnThisInstance());
        Assert.Equal(6, await store.Increment());
    }

    [Fact]
    public async Task AStoppedServerKeepsEveryAcknowledgedWriteAndARestartedOneReadsThem()
    {
        var server = await RunningServer.StartAsync();
        var dataDirectory = server.DataDirectory;
        var names = Enumerable.Range(0, 8).Select(_ => ServerFixture.UniqueName()).ToArray();
        var acknowledged = new long[names.Length];
        await using (var client = await server.ConnectAsync())
        {
            var stores = client.GetNamespace<StoreStub>("STORES");
            var load = names.Select((name, i) => Task.Run(async () =>
            {
                var store = stores.GetByName(name);
                try
                {
                    while (true)
                    {
                        var value = await store.Increment();
                        acknowledged[i] = Math.Max(acknowledged[i], value);
                    }
                }
                catch (DurableObjectException)
                {
                    // The server stopped: calls after that fail.
                }
            })).ToArray();
            await Eventually.True(() => acknowledged.All(static value => value > 20), "every object took some writes");
            await server.DisposeAsync();
            await Task.WhenAll(load);
        }

        await using var restarted = await RunningServer.StartAsync(dataDirectory: dataDirectory);
        await using var again = await restarted.ConnectAsync();
        var restartedStores = again.GetNamespace<StoreStub>("STORES");
        for (var i = 0; i < names.Length; i++)
        {
            var stored = await restartedStores.GetByName(names[i]).Increment(0);
            Assert.True(stored >= acknowledged[i], $"{names[i]}: acknowledged {acknowledged[i]}, stored {stored}");
        }
    }

    [Fact]
    public async Task StorageUsedAfterTheServerStoppedFailsWithTheSpecMessage()
    {
        var server = await RunningServer.StartAsync();
        await using (var client = await server.ConnectAsync())
        {
            var store = client.GetNamespace<StoreStub>("STORES").GetByName(ServerFixture.UniqueName());
            await store.Increment();
            var ns = Namespace(server, "STORES");
            Assert.Equal(EnterResult.Entered, ns.TryEnter(store.Id, out var activation));
            await server.StopAsync();

            var error = Assert.Throws<DurableObjectException>(() => activation.Storage.Write([new("k", [1])]));
            Assert.Equal("Durable Object storage is no longer accessible.", error.Message);
        }
        await server.DisposeAsync();
    }

    [Fact]
    public async Task TheCacheStaysWithinItsBoundWhileManyObjectsHoldLargeValues()
    {
        const long bound = 4 * 1024 * 1024;
        await using var server = await RunningServer.StartAsync(options => options.StorageCacheBytes = bound);
        await using var client = await server.ConnectAsync();
        var stores = client.GetNamespace<StoreStub>("STORES");
        var value = new string('v', 50 * 1024);
        var names = Enumerable.Range(0, 300).Select(_ => ServerFixture.UniqueName()).ToArray();
        var budget = server.App.Services.GetRequiredService<StorageService>().Context.Budget;
        long peak = 0;
        foreach (var chunk in names.Chunk(20))
        {
            await Task.WhenAll(chunk.Select(name => stores.GetByName(name).Put("big", value)));
            peak = Math.Max(peak, budget.Bytes);
        }
        // 300 objects hold 30 MB of strings (UTF-8 plus framing); the cache holds at most its bound plus one entry per object in flight.
        Assert.InRange(peak, 0, bound + 20 * 200 * 1024);
        foreach (var name in names.Take(10))
        {
            Assert.Equal(value, await stores.GetByName(name).Get("big"));
        }
    }

    private static NamespaceHost Namespace(RunningServer server, string name)
    {
        Assert.True(server.App.Services.GetRequiredService<DurableObjectHost>().TryGetNamespace(name, out var ns));
        return ns;
    }
}
