namespace SourceGenDO.EndToEnd.Tests;

/// <summary>
/// The client holds its writes while the callers a frame of results woke make their next calls, so that
/// those calls share one frame. A caller that blocks or runs long where a hold waits for it must delay
/// the others by little, and never stop them. (The server's side is in Server.Tests' RawClientTests.)
/// </summary>
[Collection(ThreadBlockingCollection.Name)]
public sealed class HeldWritesTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    [Fact]
    public async Task ManyCallersThatBlockWhereTheyContinueDoNotStallTheStream()
    {
        // Results of concurrent calls arrive together, and their callers' next calls are held back to share
        // a frame; a caller that blocks before its next call is sent, or after, must not hold back the
        // calls it waits for.
        var stub = fixture.Client.GetNamespace<GateStub>("GATES").GetByName(ServerFixture.UniqueName("gate"));
        var callers = Enumerable.Range(0, 16).Select(_ => Task.Run(async () =>
        {
            var total = 0;
            for (var i = 0; i < 10; i++)
            {
                total += await stub.Ping(1).ConfigureAwait(false);
                total += stub.Ping(2).GetAwaiter().GetResult();
                total += await stub.PingValue(3).ConfigureAwait(false);
                // Blocks on a call another thread sends.
                total += Task.Run(() => stub.Ping(4)).GetAwaiter().GetResult();
            }
            return total;
        }));
        var sums = await Task.WhenAll(callers).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.All(sums, sum => Assert.Equal(100, sum));
    }

    [Fact]
    public async Task ACallerThatStaysBlockedWhereItContinuesDoesNotHoldUpTheOtherCallers()
    {
        var stub = fixture.Client.GetNamespace<GateStub>("GATES").GetByName(ServerFixture.UniqueName("gate"));
        using var release = new ManualResetEventSlim();
        var blocked = Task.Run(async () =>
        {
            await stub.Ping(0).ConfigureAwait(false);
            // Never calls again while the others run: its hold on the stream's writes never comes back.
            release.Wait(TimeSpan.FromSeconds(60));
        });
        var others = Enumerable.Range(0, 15).Select(caller => Task.Run(async () =>
        {
            for (var i = 0; i < 50; i++)
            {
                Assert.Equal(caller + i, await stub.Ping(caller + i).ConfigureAwait(false));
            }
        }));
        await Task.WhenAll(others).WaitAsync(TimeSpan.FromSeconds(30));
        release.Set();
        await blocked.WaitAsync(TimeSpan.FromSeconds(30));
        // The late release of the blocked caller's hold leaves later holds alone.
        Assert.Equal(Enumerable.Range(0, 16), await Task.WhenAll(Enumerable.Range(0, 16).Select(i => stub.Ping(i))));
    }
}
