using Microsoft.Extensions.DependencyInjection;
using SourceGenDO.Server.Execution;
using SourceGenDO.Server.Storage;

namespace SourceGenDO.EndToEnd.Tests.Storage;

/// <summary>SPEC.md section 5's gates, observed by the order in which object code runs and callers hear back.</summary>
public sealed class GateOrderTests : IAsyncLifetime
{
    private readonly ControlledBackend _backend = new();
    private RunningServer _server = null!;
    private DurableObjectClient _client = null!;

    public async Task InitializeAsync()
    {
        _server = await RunningServer.StartAsync(options => options.UseStorage(_ => _backend));
        _client = await _server.ConnectAsync();
    }

    public async Task DisposeAsync()
    {
        _backend.Reads.Open();
        _backend.Commits.Open();
        await _client.DisposeAsync();
        await _server.DisposeAsync();
    }

    [Fact]
    public async Task WhileAStorageReadIsPendingNoOtherCallStarts()
    {
        var probe = _client.GetNamespace<GateProbeStub>("GATE_PROBES").GetByName(ServerFixture.UniqueName());
        await probe.Mark("warm");
        _backend.Reads.Shut();

        var read = probe.ReadCold("cold-key");
        await Eventually.True(() => _backend.Reads.Waiting == 1, "the read waits in the backend");
        var second = probe.Mark("second");
        await Eventually.True(() => EventsOf(probe) == 2, "the second call reached the object");
        // The second call is at the object, and would run now without the gate.
        await Task.Delay(100);
        Assert.False(second.IsCompleted, "a call started while the object's storage read was pending");

        _backend.Reads.Open();
        await read;
        await second;
        Assert.Equal(["warm", "read-start", "read-end", "second"], LogOf(probe));
    }

    [Fact]
    public async Task WhileAnAwaitedCallToAnotherObjectIsPendingASecondCallStarts()
    {
        var probe = _client.GetNamespace<GateProbeStub>("GATE_PROBES").GetByName(ServerFixture.UniqueName());
        var gateName = ServerFixture.UniqueName("gate");
        var other = probe.AwaitOther(gateName);
        var gateId = _client.GetNamespace<GateStub>("GATES").IdFromName(gateName).ToString();
        await Eventually.True(() => Gate.Waiting.GetValueOrDefault(gateId) == 1, "the first call waits on the other object");

        await probe.Mark("second");

        Gate.Open(gateId);
        Assert.Equal(7, await other);
        Assert.Equal(["other-start", "second", "other-end"], LogOf(probe));
    }

    [Fact]
    public async Task DuringBlockConcurrencyWhileNoOtherCallStarts()
    {
        var probe = _client.GetNamespace<GateProbeStub>("GATE_PROBES").GetByName(ServerFixture.UniqueName());
        var gateName = ServerFixture.UniqueName("gate");
        var exclusive = probe.Exclusive(gateName);
        var gateId = _client.GetNamespace<GateStub>("GATES").IdFromName(gateName).ToString();
        await Eventually.True(() => Gate.Waiting.GetValueOrDefault(gateId) == 1, "the exclusive section waits on the other object");
        var second = probe.Mark("second");
        await Eventually.True(() => EventsOf(probe) == 2, "the second call reached the object");
        await Task.Delay(100);
        Assert.False(second.IsCompleted, "a call started during BlockConcurrencyWhile");

        Gate.Open(gateId);
        Assert.Equal(3, await exclusive);
        await second;
        Assert.Equal(["exclusive-start", "exclusive-end", "second"], LogOf(probe));
    }

    [Fact]
    public async Task AResultAndAnExceptionAreHeldUntilTheWriteBeforeThemIsDurable()
    {
        var probe = _client.GetNamespace<GateProbeStub>("GATE_PROBES").GetByName(ServerFixture.UniqueName());
        await probe.Mark("warm");
        _backend.Commits.Shut();

        var result = probe.WriteAndReturn("one");
        var thrown = probe.WriteAndThrow("two");
        await Eventually.True(() => _backend.Commits.Waiting == 1, "the write's commit waits in the backend");
        await Task.Delay(100);
        Assert.False(result.IsCompleted, "a result left before its write was durable");
        Assert.False(thrown.IsCompleted, "an exception left before its write was durable");

        _backend.Commits.Open();
        Assert.Equal("one", await result);
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => thrown);
        Assert.Equal("thrown after a write", error.Message);
    }

    [Fact]
    public async Task ACallToAnotherObjectIsHeldUntilTheWriteBeforeItIsDurable()
    {
        var probe = _client.GetNamespace<GateProbeStub>("GATE_PROBES").GetByName(ServerFixture.UniqueName());
        var counterName = ServerFixture.UniqueName("counter");
        var counter = _client.GetNamespace<CounterStub>("COUNTERS").GetByName(counterName);
        await probe.Mark("warm");
        _backend.Commits.Shut();

        var call = probe.WriteAndCall(counterName);
        await Eventually.True(() => _backend.Commits.Waiting == 1, "the write's commit waits in the backend");
        await Task.Delay(100);
        Assert.Equal(0, await counter.Get());

        _backend.Commits.Open();
        Assert.Equal(1, await call);
        Assert.Equal(1, await counter.Get());
    }

    [Fact]
    public async Task AFailedCommitReleasesNothingFailsTheCallersAndResetsTheInstance()
    {
        var stores = _client.GetNamespace<StoreStub>("STORES");
        var name = ServerFixture.UniqueName();
        var store = stores.GetByName(name);
        Assert.Equal(1, await store.Increment());
        Assert.Equal(1, await store.CallsOnThisInstance());
        _backend.Commits.Shut();

        var failing = store.Increment();
        await Eventually.True(() => _backend.Commits.Waiting == 1, "the write's commit waits in the backend");
        _backend.FailNextCommit = new IOException("disk full");
        _backend.Commits.Open();

        var error = await Assert.ThrowsAsync<DurableObjectException>(() => failing);
        Assert.True(error.DurableObjectReset);
        Assert.Contains("disk full", error.Message);

        var fresh = stores.GetByName(name);
        Assert.Equal(1, await fresh.CallsOnThisInstance());
        Assert.Equal(2, await fresh.Increment());
    }

    [Fact]
    public async Task WritesWithNoAwaitBetweenThemCommitTogether()
    {
        var store = _client.GetNamespace<StoreStub>("STORES").GetByName(ServerFixture.UniqueName());
        await store.WritePair(1);
        _backend.Commits.Shut();
        var pair = store.WritePair(2);
        await Eventually.True(() => _backend.Commits.Waiting == 1, "the pair's commit waits in the backend");
        _backend.FailNextCommit = new IOException("lost power");
        _backend.Commits.Open();
        await Assert.ThrowsAsync<DurableObjectException>(() => pair);

        Assert.Equal([1L, 1L], await _client.GetNamespace<StoreStub>("STORES").Get(store.Id).ReadPair());
    }

    [Fact]
    public async Task WhileAListIsPendingNoOtherCallStartsBeforeItsContinuation()
    {
        var probe = _client.GetNamespace<GateProbeStub>("GATE_PROBES").GetByName(ServerFixture.UniqueName());
        await probe.Mark("warm");
        _backend.Reads.Shut();
        var list = probe.ListCold("p");
        await Eventually.True(() => _backend.Reads.Waiting == 1, "the list waits in the backend");
        var second = probe.Mark("second");
        await Eventually.True(() => EventsOf(probe) == 2, "the second call reached the object");
        _backend.Reads.Open();
        await list;
        await second;
        Assert.Equal(["warm", "list-start", "list-end", "second"], LogOf(probe));
    }

    [Fact]
    public async Task DeleteAllWhileAReadIsPendingDoesNotBringTheKeyBack()
    {
        var probe = _client.GetNamespace<GateProbeStub>("GATE_PROBES").GetByName(ServerFixture.UniqueName());
        await probe.Mark("warm");
        var batch = new ObjectWriteBatch(new ObjectAddress("GATE_PROBES", probe.Id.ToString()), null);
        batch.Writes["k"] = SourceGenDO.Serialization.ValueCodecs.Get<string>().Encode("old");
        await _backend.CommitAsync([batch], CancellationToken.None);
        _backend.Reads.Shut();
        var call = probe.ReadThenDeleteAll("k");
        await Eventually.True(() => _backend.Reads.Waiting == 1, "the read waits in the backend");
        _backend.Reads.Open();
        Assert.Equal("null|null", await call);
    }

    [Fact]
    public async Task WritesMadeWhileTheObjectsCommitIsInFlightBecomeOneNextBatch()
    {
        var probe = _client.GetNamespace<GateProbeStub>("GATE_PROBES").GetByName(ServerFixture.UniqueName());
        await probe.Mark("warm");
        var address = new ObjectAddress("GATE_PROBES", probe.Id.ToString());
        _backend.Commits.Shut();

        var first = probe.WriteAndReturn("a");
        await Eventually.True(() => _backend.Commits.Waiting == 1, "the first write's commit waits in the backend");
        // Three more turns, each a call that writes; the mark runs after them (events run in order).
        var later = new[] { probe.WriteAndReturn("b"), probe.WriteAndReturn("c"), probe.WriteAndReturn("d") };
        var mark = probe.Mark("after-writes");
        await Eventually.True(() => LogOf(probe).Contains("after-writes"), "the later calls ran");
        Assert.Equal(1, _backend.Commits.Waiting);
        Assert.False(first.IsCompleted || later.Any(static call => call.IsCompleted), "an answer left before its write was durable");

        _backend.Commits.Open();
        Assert.Equal("a", await first);
        Assert.Equal(["b", "c", "d"], await Task.WhenAll(later));
        await mark;

        // The first commit, then one batch for everything written while it was in flight.
        var batches = _backend.Applied.SelectMany(static commit => commit).Where(batch => batch.Address == address).ToList();
        Assert.Equal(2, batches.Count);
        // The values as stored (the string's codec ends with its UTF-8 text).
        Assert.EndsWith("a", System.Text.Encoding.UTF8.GetString(batches[0].Writes["written"]!));
        Assert.EndsWith("d", System.Text.Encoding.UTF8.GetString(batches[1].Writes["written"]!));
        Assert.Equal("d", await probe.ReadCold("written"));
    }

    private int EventsOf(GateProbeStub probe)
    {
        var host = _server.App.Services.GetRequiredService<DurableObjectHost>();
        Assert.True(host.TryGetNamespace("GATE_PROBES", out var ns));
        return ns.EventsOf(probe.Id);
    }

    private static List<string> LogOf(GateProbeStub probe) => [.. GateProbe.Logs[probe.Id.ToString()]];
}
