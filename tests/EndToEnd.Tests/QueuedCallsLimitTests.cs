namespace SourceGenDO.EndToEnd.Tests;

/// <summary>A client holds at most its configured number of unanswered calls; past it calls fail fast as overloaded.</summary>
public sealed class QueuedCallsLimitTests
{
    [Fact]
    public async Task ACallPastTheClientsQueuedCallsLimitFailsFastAsOverloadedAndLaterCallsWork()
    {
        await using var server = await CustomServer.StartAsync();
        await using var client = await server.ConnectAsync(new DurableObjectClientOptions { MaxQueuedCalls = 10 });
        var gates = client.GetNamespace<GateStub>("GATES");
        var gate = gates.GetByName(ServerFixture.UniqueName("gate"));
        var held = Enumerable.Range(0, 10).Select(gate.Wait).ToArray();

        var other = gates.GetByName(ServerFixture.UniqueName("gate"));
        var refused = other.Ping(1);
        Assert.True(refused.IsCompleted, "a call past the limit fails at once");
        var failure = await Assert.ThrowsAsync<DurableObjectException>(() => refused);
        Assert.True(failure.Overloaded);
        Assert.False(failure.Retryable);
        Assert.Contains("MaxQueuedCalls", failure.Message);
        Assert.Contains("10 calls", failure.Message);

        Gate.Open(gate.Id.ToString());
        Assert.Equal(Enumerable.Range(0, 10), await Task.WhenAll(held));
        Assert.Equal(2, await other.Ping(2));
    }
}
