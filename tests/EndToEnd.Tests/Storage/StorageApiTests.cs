namespace SourceGenDO.EndToEnd.Tests.Storage;

/// <summary>Every rule, limit and error of the storage API (SPEC.md section 5), through a real server, against each backend.</summary>
public abstract class StorageApiTests : IAsyncLifetime
{
    private RunningServer _server = null!;
    private DurableObjectClient _client = null!;

    protected abstract void Configure(SourceGenDO.Server.DurableObjectsOptions options);

    public async Task InitializeAsync()
    {
        _server = await RunningServer.StartAsync(Configure);
        _client = await _server.ConnectAsync();
    }

    public async Task DisposeAsync()
    {
        await _client.DisposeAsync();
        await _server.DisposeAsync();
    }

    private StoreStub NewStore() => _client.GetNamespace<StoreStub>("STORES").GetByName(ServerFixture.UniqueName());

    [Fact]
    public async Task TheSeedCounterCountsWithAnUnawaitedPut()
    {
        var store = NewStore();
        var results = await Task.WhenAll(Enumerable.Range(0, 200).Select(_ => store.Increment()));
        Assert.Equal(Enumerable.Range(1, 200).Select(static i => (long)i), results);
    }

    [Fact]
    public async Task GetPutAndDeleteSeeTheirOwnWritesAtOnce()
    {
        var store = NewStore();
        Assert.Null(await store.Get("a"));
        await store.Put("a", "1");
        Assert.Equal("1", await store.Get("a"));
        Assert.True(await store.Delete("a"));
        Assert.False(await store.Delete("a"));
        Assert.Null(await store.Get("a"));
    }

    [Fact]
    public async Task BatchGetReturnsOnlyKeysWithValuesAndBatchDeleteCountsThem()
    {
        var store = NewStore();
        await store.PutMany(new() { ["a"] = "1", ["b"] = "2", ["c"] = "3" });
        var values = await store.GetMany(["a", "missing", "c"]);
        Assert.Equal(new Dictionary<string, string> { ["a"] = "1", ["c"] = "3" }, values);
        Assert.Equal(2, await store.DeleteMany(["a", "b", "missing"]));
        Assert.Equal(["c=3"], await store.List(null, null, null, null, false, null));
    }

    [Fact]
    public async Task ListHonoursEveryOptionInUtf8ByteOrder()
    {
        var store = NewStore();
        // U+FFFD sorts before U+10000 in UTF-8 bytes, though not in UTF-16 code units.
        var keys = new[] { "b", "a", "ab", "ac", "\U00010000", "\uFFFD", "c" };
        await store.PutMany(keys.ToDictionary(static key => key, static key => "v" + key));

        Assert.Equal(["a", "ab", "ac", "b", "c", "\uFFFD", "\U00010000"], Keys(await store.List(null, null, null, null, false, null)));
        Assert.Equal(["\U00010000", "\uFFFD", "c", "b", "ac", "ab", "a"], Keys(await store.List(null, null, null, null, true, null)));
        Assert.Equal(["ab", "ac", "b"], Keys(await store.List("ab", null, "c", null, false, null)));
        Assert.Equal(["ac", "b"], Keys(await store.List(null, "ab", "c", null, false, null)));
        Assert.Equal(["a", "ab", "ac"], Keys(await store.List(null, null, null, "a", false, null)));
        Assert.Equal(["ac", "ab"], Keys(await store.List(null, null, null, "a", true, 2)));
        Assert.Equal(["a", "ab"], Keys(await store.List(null, null, null, null, false, 2)));
        Assert.Equal(["a=va"], await store.List(null, null, null, null, false, 1));
    }

    [Fact]
    public async Task ListLaysTheInstancesOwnWritesOverTheStoredEntries()
    {
        var stores = _client.GetNamespace<StoreStub>("STORES");
        var store = NewStore();
        await store.PutMany(new() { ["k1"] = "1", ["k2"] = "2", ["k3"] = "3", ["k4"] = "4" });
        await store.Sync();
        // A new instance starts with a cold cache: the list comes from the backend, the delete and put from the cache.
        await Assert.ThrowsAsync<DurableObjectException>(() => store.Abort(null));
        var fresh = stores.Get(store.Id);
        Assert.True(await fresh.Delete("k1"));
        await fresh.Put("k0", "0");
        Assert.Equal(["k0", "k2", "k3"], Keys(await fresh.List(null, null, null, "k", false, 3)));
        Assert.Equal(["k4", "k3", "k2"], Keys(await fresh.List(null, null, null, "k", true, 3)));
    }

    [Fact]
    public async Task DeleteAllRemovesEveryKeyAndTheAlarm()
    {
        var alarms = _client.GetNamespace<AlarmsStub>("ALARMS").GetByName(ServerFixture.UniqueName());
        await alarms.Set(DateTimeOffset.UtcNow.AddHours(1), 0);
        Assert.NotNull(await alarms.Get());

        var store = NewStore();
        await store.PutMany(new() { ["a"] = "1", ["b"] = "2" });
        await store.DeleteAll();
        Assert.Empty(await store.List(null, null, null, null, false, null));
        Assert.Null(await store.Get("a"));
        await store.Put("c", "3");
        Assert.Equal(["c=3"], await store.List(null, null, null, null, false, null));
    }

    [Fact]
    public async Task ATransactionThatThrowsLeavesNoWriteAndKeepsTheInstance()
    {
        var store = NewStore();
        Assert.Equal(1, await store.Transfer(5, fail: false));
        Assert.Equal([-5L, 5L], await store.Balances());

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => store.Transfer(7, fail: true));
        Assert.Equal("transfer refused", error.Message);
        Assert.Equal([-5L, 5L], await store.Balances());
        Assert.Equal(2, await store.Transfer(1, fail: false));
    }

    [Fact]
    public async Task AbortResetsTheInstanceWithTheSpecMessage()
    {
        var stores = _client.GetNamespace<StoreStub>("STORES");
        var name = ServerFixture.UniqueName();
        var store = stores.GetByName(name);
        Assert.Equal(1, await store.Increment());
        Assert.Equal(1, await store.CallsOnThisInstance());

        var error = await Assert.ThrowsAsync<DurableObjectException>(() => store.Abort(null));
        Assert.Equal("Application called abort() to reset Durable Object.", error.Message);
        Assert.True(error.DurableObjectReset);
        var withReason = await Assert.ThrowsAsync<DurableObjectException>(() => stores.GetByName(name).Abort("bad state"));
        Assert.Equal("bad state", withReason.Message);

        var fresh = stores.GetByName(name);
        Assert.Equal(1, await fresh.CallsOnThisInstance());
        Assert.Equal(2, await fresh.Increment());
    }

    [Theory]
    [InlineData("long-key", "2,049 bytes", "2,048")]
    [InlineData("big-entry", "2,097,", "2,097,152")]
    [InlineData("many-keys", "129", "128")]
    [InlineData("many-pairs", "129", "128")]
    [InlineData("many-deletes", "129", "128")]
    [InlineData("start-and-start-after", "Start", "StartAfter")]
    public async Task EveryLimitIsAClearArgumentException(string misuse, string size, string limit)
    {
        var store = NewStore();
        var error = await Assert.ThrowsAsync<ArgumentException>(() => store.Misuse(misuse));
        Assert.Contains(size, error.Message);
        Assert.Contains(limit, error.Message);
        Assert.Equal(1, await store.Increment());
    }

    [Fact]
    public async Task ANonPositiveLimitIsAClearError()
    {
        var store = NewStore();
        var error = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => store.Misuse("zero-limit"));
        Assert.Contains("Limit must be positive", error.Message);
    }

    private static List<string> Keys(List<string> entries) => entries.Select(static entry => entry[..entry.IndexOf('=')]).ToList();
}

/// <summary>The storage API over the default backend: SQLite files in the server's data directory.</summary>
public sealed class SqliteStorageApiTests : StorageApiTests
{
    protected override void Configure(SourceGenDO.Server.DurableObjectsOptions options)
    {
    }
}

/// <summary>The storage API over the in-memory backend.</summary>
public sealed class InMemoryStorageApiTests : StorageApiTests
{
    protected override void Configure(SourceGenDO.Server.DurableObjectsOptions options) => options.UseInMemoryStorage();
}
