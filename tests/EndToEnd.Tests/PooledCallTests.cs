namespace SourceGenDO.EndToEnd.Tests;

/// <summary>
/// A call's awaitable state is pooled and reused by later calls; nothing of a finished call may reach
/// the call that reuses its state.
/// </summary>
public sealed class PooledCallTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    [Fact]
    public async Task CancellingTheTokenOfAFinishedCallLeavesLaterCallsAlone()
    {
        var stub = fixture.Client.GetNamespace<GateStub>("GATES").GetByName(ServerFixture.UniqueName("gate"));
        var finishedTokens = new List<CancellationTokenSource>();
        for (var i = 0; i < 50; i++)
        {
            var source = new CancellationTokenSource();
            finishedTokens.Add(source);
            Assert.Equal(i, await stub.PingValue(i, source.Token));
        }

        // These reuse the finished calls' state and wait at the gate while the old tokens are cancelled.
        var later = Enumerable.Range(0, 50).Select(i => stub.WaitValue(i).AsTask()).ToList();
        foreach (var source in finishedTokens)
        {
            await source.CancelAsync();
            source.Dispose();
        }
        Assert.Equal(-1, await stub.Ping(-1));
        Gate.Open(stub.Id.ToString());

        Assert.Equal(Enumerable.Range(0, 50), await Task.WhenAll(later));
    }

    [Fact]
    public async Task ConcurrentCallersThroughReusedStateEachGetTheirOwnResults()
    {
        var stubs = Enumerable.Range(0, 4)
            .Select(_ => fixture.Client.GetNamespace<GateStub>("GATES").GetByName(ServerFixture.UniqueName("gate")))
            .ToList();
        var callers = Enumerable.Range(0, 32).Select(caller => Task.Run(async () =>
        {
            var stub = stubs[caller % stubs.Count];
            for (var i = 0; i < 200; i++)
            {
                var value = caller * 1_000 + i;
                Assert.Equal(value, await stub.PingValue(value));
                Assert.Equal(-value, await stub.Ping(-value));
            }
        }));
        await Task.WhenAll(callers);
    }

    [Fact]
    public async Task AValueTaskCallAwaitedTwiceIsRefusedRatherThanAnsweredWithAnotherCallsResult()
    {
        var stub = fixture.Client.GetNamespace<GateStub>("GATES").GetByName(ServerFixture.UniqueName("gate"));
        var call = stub.PingValue(7);
        Assert.Equal(7, await call);
        Assert.Equal(8, await stub.PingValue(8));

        await Assert.ThrowsAsync<InvalidOperationException>(async () => await call);
    }
}
