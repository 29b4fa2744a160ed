using Microsoft.Extensions.DependencyInjection;
using SourceGenDO.Server.Execution;

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

    private int EventsOf(GateProbeStub probe)
    {
        var host = _server.App.Services.GetRequiredService<DurableObjectHost>();
        Assert.True(host.TryGetNamespace("GATE_PROBES", out var ns));
        return ns.EventsOf(probe.Id);
    }

    private static List<string> LogOf(GateProbeStub probe) => [.. GateProbe.Logs[probe.Id.ToString()]];
}
