using SourceGenDO.EndToEnd.Tests.WebSockets;
using static SourceGenDO.SourceGenDOTelemetry;

namespace SourceGenDO.EndToEnd.Tests.Telemetry;

/// <summary>SourceGenDO's metrics as OpenTelemetry collects them, over a real server on loopback: each moves as it says.</summary>
[Collection(TelemetryCollection.Name)]
public sealed class MetricTests
{
    // Namespaces only these tests host, so that what they count is theirs.
    private const string Counters = "TELEMETRY_COUNTERS";
    private const string Throwers = "TELEMETRY_THROWERS";
    private const string Gates = "TELEMETRY_GATES";
    private const string Stores = "TELEMETRY_STORES";

    private static Task<ObservedServer> StartServerAsync() => ObservedServer.StartAsync(options => options
        .AddNamespace<Counter>(Counters)
        .AddNamespace<Thrower>(Throwers)
        .AddNamespace<Gate>(Gates)
        .AddNamespace<Store>(Stores));

    private static (string, object) Ns(string name) => ("sourcegendo.namespace", name);

    private static (string, object) Method(string name) => ("rpc.method", name);

    private static (string, object) Outcome(string outcome) => ("sourcegendo.outcome", outcome);

    private static (string, object) Kind(string kind) => ("sourcegendo.error.kind", kind);

    [Fact]
    public async Task CallsDurationsAndErrorsAreCountedByNamespaceMethodOutcomeAndKind()
    {
        await using var observed = await StartServerAsync();
        var (capture, server, client) = observed;
        var counter = client.GetNamespace<CounterStub>(Counters).GetByName(ServerFixture.UniqueName());
        for (var i = 1; i <= 3; i++)
        {
            Assert.Equal(i, await counter.Increment());
        }
        await Assert.ThrowsAsync<InvalidOperationException>(() =>
            client.GetNamespace<ThrowerStub>(Throwers).GetByName(ServerFixture.UniqueName()).ThrowInvalidOperation("no"));
        var store = client.GetNamespace<StoreStub>(Stores).GetByName(ServerFixture.UniqueName());
        var reset = await Assert.ThrowsAsync<DurableObjectException>(() => store.Abort("reset on purpose"));
        Assert.True(reset.DurableObjectReset);

        foreach (var side in new[] { "client", "server" })
        {
            var calls = side == "client" ? Instruments.ClientCalls : Instruments.ServerCalls;
            var duration = side == "client" ? Instruments.ClientCallDuration : Instruments.ServerCallDuration;
            var errors = side == "client" ? Instruments.ClientErrors : Instruments.ServerErrors;
            await capture.SumBecomes(3, calls, Ns(Counters), Method("Increment"), Outcome("ok"));
            Assert.Equal(0, capture.Sum(calls, Ns(Counters), Outcome("error")));
            Assert.Equal(3, capture.Count(duration, Ns(Counters), Method("Increment"), Outcome("ok")));
            Assert.Equal(1, capture.Sum(calls, Ns(Throwers), Method("ThrowInvalidOperation"), Outcome("error")));
            Assert.Equal(1, capture.Sum(errors, Ns(Throwers), Method("ThrowInvalidOperation"), Kind("app_exception")));
            Assert.Equal(1, capture.Sum(errors, Ns(Stores), Method("Abort"), Kind("reset")));
            Assert.Equal(0, capture.Sum(errors, Ns(Counters)));
        }
    }

    [Fact]
    public async Task ACallPastTheClientsBoundCountsAsOverloadedAndALostServerAsNetwork()
    {
        await using var observed = await StartServerAsync();
        var (capture, server, _) = observed;
        await using var client = await DurableObjectClient.ConnectAsync(server.Address, new DurableObjectClientOptions { MaxQueuedCalls = 1 });
        var gates = client.GetNamespace<GateStub>(Gates);
        var gate = gates.GetByName(ServerFixture.UniqueName("gate"));
        var held = gate.Wait(1);
        await Eventually.True(() => Gate.Waiting.GetValueOrDefault(gate.Id.ToString()) == 1, "the call waits at the gate");

        var refused = await Assert.ThrowsAsync<DurableObjectException>(() => gates.GetByName(ServerFixture.UniqueName("gate")).Ping(1));
        Assert.True(refused.Overloaded);
        await capture.SumBecomes(1, Instruments.ClientErrors, Ns(Gates), Method("Ping"), Kind("overloaded"));

        // The server goes away with the call in flight: the call fails as a lost connection.
        await server.StopAsync();
        var lost = await Assert.ThrowsAsync<DurableObjectException>(() => held);
        Assert.True(lost.Retryable);
        await capture.SumBecomes(1, Instruments.ClientErrors, Ns(Gates), Method("Wait"), Kind("network"));
        Gate.Open(gate.Id.ToString());
    }

    [Fact]
    public async Task GaugesFollowLiveActivationsQueuedEventsAndOpenSockets()
    {
        await using var observed = await StartServerAsync();
        var (capture, server, client) = observed;
        var counters = client.GetNamespace<CounterStub>(Counters);
        foreach (var i in Enumerable.Range(0, 3))
        {
            await counters.GetByName(ServerFixture.UniqueName()).Increment();
        }
        Assert.Equal(3, capture.Sum(Instruments.Activations, Ns(Counters)));

        var gate = client.GetNamespace<GateStub>(Gates).GetByName(ServerFixture.UniqueName("gate"));
        var waiting = new[] { gate.Wait(1), gate.Wait(2) };
        await capture.SumBecomes(2, Instruments.QueuedEvents, Ns(Gates));
        Gate.Open(gate.Id.ToString());
        Assert.Equal(new[] { 1, 2 }, await Task.WhenAll(waiting));
        await capture.SumBecomes(0, Instruments.QueuedEvents, Ns(Gates));

        var room = ServerFixture.UniqueName("room");
        var before = capture.Sum(Instruments.WebSockets, Ns("SOCKET_ROOMS"));
        await using (var socket = await SocketClient.ConnectAsync(server, room))
        {
            await capture.SumBecomes(before + 1, Instruments.WebSockets, Ns("SOCKET_ROOMS"));
        }
        await capture.SumBecomes(before, Instruments.WebSockets, Ns("SOCKET_ROOMS"));
    }

    [Fact]
    public async Task StorageCommitsAreCountedAndTimed()
    {
        await using var observed = await StartServerAsync();
        var (capture, _, client) = observed;
        var store = client.GetNamespace<StoreStub>(Stores).GetByName(ServerFixture.UniqueName());

        Assert.Equal(0, capture.Sum(Instruments.StorageCommits, Outcome("ok")));
        Assert.Equal(5, await store.WritePair(5));
        Assert.Equal([5, 5], await store.ReadPair());

        var commits = capture.Sum(Instruments.StorageCommits, Outcome("ok"));
        Assert.InRange(commits, 1, 2);
        Assert.Equal(commits, capture.Count(Instruments.StorageCommitDuration, Outcome("ok")));
        Assert.Equal(0, capture.Sum(Instruments.StorageCommits, Outcome("error")));
    }
}
