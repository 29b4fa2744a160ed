namespace SourceGenDO.EndToEnd.Tests;

/// <summary>
/// A call's awaitable state is pooled and reused by later calls, and a caller may continue on the thread
/// that read its result: nothing of a finished call may reach the call that reuses its state, and
/// nothing a caller does on that thread may hold up the stream.
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
    public async Task AValueTaskCallAwaitedTwiceNeverYieldsAnotherCallsResult()
    {
        // Awaiting a ValueTask twice is a misuse: the second await may be refused or may see the same
        // result again, depending on whether the state was recycled yet, but never the next call's.
        var stub = fixture.Client.GetNamespace<GateStub>("GATES").GetByName(ServerFixture.UniqueName("gate"));
        for (var i = 0; i < 100; i++)
        {
            var call = stub.PingValue(i);
            Assert.Equal(i, await call);
            Assert.Equal(-i, await stub.PingValue(-i));

            var again = await Record.ExceptionAsync(async () => Assert.Equal(i, await call));
            Assert.True(again is null or InvalidOperationException, $"The second await gave {again}.");
        }
    }

    [Fact]
    public async Task ACallerThatBlocksOnAnotherCallWhereItContinuesDoesNotStallTheStream()
    {
        var stub = fixture.Client.GetNamespace<GateStub>("GATES").GetByName(ServerFixture.UniqueName("gate"));
        var sum = await Task.Run(async () =>
        {
            var total = 0;
            for (var i = 0; i < 20; i++)
            {
                // Without a context this continues where the result was read; blocking there on the next
                // result must not stop that result from being read.
                total += await stub.Ping(1).ConfigureAwait(false);
                total += stub.Ping(2).GetAwaiter().GetResult();
                total += await stub.PingValue(3).ConfigureAwait(false);
                total += stub.PingValue(4).AsTask().GetAwaiter().GetResult();
            }
            return total;
        }).WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Equal(200, sum);
    }

    [Fact]
    public async Task AnObjectMethodWhoseValueTaskIsPooledIsAnsweredWithItsOwnResult()
    {
        var stub = fixture.Client.GetNamespace<GateStub>("GATES").GetByName(ServerFixture.UniqueName("gate"));
        for (var i = 0; i < 50; i++)
        {
            Assert.Equal(i, await stub.YieldThenReturn(i));
        }
    }
}
