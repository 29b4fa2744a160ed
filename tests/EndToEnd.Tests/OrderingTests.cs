namespace SourceGenDO.EndToEnd.Tests;

/// <summary>E-order through one stub, independence of stubs, and one-at-a-time execution.</summary>
public sealed class OrderingTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private DurableObjectNamespace<CounterStub> Counters => fixture.Client.GetNamespace<CounterStub>("COUNTERS");

    private DurableObjectNamespace<SequencerStub> Sequencers => fixture.Client.GetNamespace<SequencerStub>("SEQUENCERS");

    [Fact]
    public async Task TenThousandUnawaitedCallsThroughOneStubReturnInCallOrder()
    {
        var stub = Counters.GetByName(ServerFixture.UniqueName());
        var calls = new Task<long>[10_000];
        for (var i = 0; i < calls.Length; i++)
        {
            calls[i] = stub.Increment(1);
        }
        var results = await Task.WhenAll(calls);
        Assert.Equal(Enumerable.Range(1, calls.Length).Select(i => (long)i), results);
    }

    [Fact]
    public async Task StubsSharingOneConnectionEachKeepTheirOwnCallOrder()
    {
        var stubs = Enumerable.Range(0, 50).Select(i => Counters.GetByName(ServerFixture.UniqueName($"shared-{i}"))).ToArray();
        var calls = stubs.Select(_ => new List<Task<long>>()).ToArray();
        for (var round = 0; round < 200; round++)
        {
            for (var s = 0; s < stubs.Length; s++)
            {
                calls[s].Add(stubs[s].Increment(1));
            }
        }
        foreach (var perStub in calls)
        {
            Assert.Equal(Enumerable.Range(1, 200).Select(i => (long)i), await Task.WhenAll(perStub));
        }
    }

    [Fact]
    public async Task ThousandObjectsDrivenConcurrentlyThroughTheirOwnStubsCountRight()
    {
        const int objects = 1_000, callsEach = 20;
        var names = Enumerable.Range(0, objects).Select(i => ServerFixture.UniqueName($"many-{i}")).ToArray();
        var stubs = names.Select(Counters.GetByName).ToArray();
        var finals = await Task.WhenAll(stubs.Select(async (stub, i) =>
        {
            var calls = Enumerable.Range(0, callsEach).Select(_ => stub.Increment(i + 1)).ToArray();
            await Task.WhenAll(calls);
            return await stub.Get();
        }));
        for (var i = 0; i < objects; i++)
        {
            Assert.Equal((long)callsEach * (i + 1), finals[i]);
        }
    }

    [Fact]
    public async Task TwoStubsToOneObjectBothReachTheSameInstance()
    {
        var name = ServerFixture.UniqueName();
        var first = Counters.GetByName(name);
        var second = Counters.Get(Counters.IdFromName(name));
        var calls = new List<Task<long>>();
        for (var i = 0; i < 200; i++)
        {
            calls.Add((i % 2 == 0 ? first : second).Increment(1));
        }
        var results = await Task.WhenAll(calls);
        // No order between the stubs is promised: only that every call counted once.
        Assert.Equal(Enumerable.Range(1, 200).Select(i => (long)i), results.Order());
        Assert.Equal(200, await second.Get());
    }

    [Fact]
    public async Task CallsStartInCallOrderEvenWhenEarlierCallsAwait()
    {
        var stub = Sequencers.GetByName(ServerFixture.UniqueName());
        var calls = Enumerable.Range(0, 2_000).Select(i => stub.Record(i, yieldFirst: i % 3 == 0)).ToArray();
        await Task.WhenAll(calls);
        Assert.Equal(Enumerable.Range(0, 2_000), await stub.Started());
    }

    [Fact]
    public async Task InstanceCodeNeverRunsOnTwoThreadsAtOnce()
    {
        var name = ServerFixture.UniqueName();
        var stubs = Enumerable.Range(0, 4).Select(_ => Sequencers.GetByName(name)).ToArray();
        var calls = stubs.SelectMany(stub => Enumerable.Range(0, 500).Select(_ => stub.Touch())).ToArray();
        await Task.WhenAll(calls);
        Assert.Equal(2_000, await stubs[0].Touches());
        Assert.Equal(0, await stubs[0].Overlaps());
    }

    [Fact]
    public async Task ContinuationsAfterAwaitComeBackToTheInstance()
    {
        var stub = Sequencers.GetByName(ServerFixture.UniqueName());
        Assert.True(await stub.ContinuationReturnsToInstance());
    }

    [Fact]
    public async Task ObjectsCallOtherObjectsThroughAnInjectedNamespace()
    {
        var callers = fixture.Client.GetNamespace<CallerStub>("CALLERS");
        var target = ServerFixture.UniqueName("target");
        Assert.Equal(5, await callers.GetByName("caller").IncrementCounter(target, 5));
        Assert.Equal(12, await callers.GetByName("another caller").IncrementCounter(target, 7));
        Assert.Equal(12, await Counters.GetByName(target).Get());
    }

    [Fact]
    public async Task NestedObjectClassesAreCallableThroughTheirStub()
    {
        var nested = fixture.Client.GetNamespace<Outer_NestedCounterStub>("NESTED");
        var stub = nested.GetByName(ServerFixture.UniqueName());
        Assert.Equal(1, await stub.Increment());
        Assert.Equal(2, await stub.Increment());
    }
}
