using SourceGenDO.TestObjects;

namespace SourceGenDO.EndToEnd.Tests;

/// <summary>The stream that carries objects' calls to objects is not held back by the per-stream bounds.</summary>
public sealed class ObjectToObjectBoundsTests
{
    [Fact]
    public async Task ChainsOfObjectCallsPastTheStreamBoundsStillFinish()
    {
        // Each outside call waits on a chain of two object-to-object calls, all on the server's one
        // in-process stream. Bounded at 2 calls in flight, that stream would stop reading while the calls
        // it holds wait for calls it no longer reads: a deadlock for good.
        await using var server = await CustomServer.StartAsync(options => options.MaxCallsInFlightPerStream = 2);
        await using var client = await server.ConnectAsync();
        var relays = client.GetNamespace<RelayStub>("RELAYS");
        var calls = Enumerable.Range(0, 20)
            .Select(i => relays.GetByName($"{i}/2").Pass(i.ToString(System.Globalization.CultureInfo.InvariantCulture), 2, i))
            .ToArray();

        var all = Task.WhenAll(calls);
        Assert.Same(all, await Task.WhenAny(all, Task.Delay(TimeSpan.FromSeconds(30))));
        Assert.Equal(Enumerable.Range(0, 20), await all);
    }
}
