namespace SourceGenDO.EndToEnd.Tests;

/// <summary>A stopping server takes no new calls and lets those in flight finish within its grace period.</summary>
public sealed class ShutdownDrainTests
{
    [Fact]
    public async Task StoppingWithHundredCallsInFlightLetsThemFinishAndRefusesNewCallsRetryably()
    {
        var server = await CustomServer.StartAsync();
        var client = await server.ConnectAsync();
        var gates = client.GetNamespace<GateStub>("GATES");
        var gate = gates.GetByName(ServerFixture.UniqueName("gate"));
        var inFlight = Enumerable.Range(0, 100).Select(gate.Wait).ToArray();
        await Eventually.True(() => Gate.Waiting.GetValueOrDefault(gate.Id.ToString()) == 100, "all 100 calls wait in the object");

        var stopped = server.App.StopAsync();
        await Eventually.True(() => server.App.Lifetime.ApplicationStopping.IsCancellationRequested, "the server starts stopping");
        var late = await Assert.ThrowsAsync<DurableObjectException>(() => gates.GetByName(ServerFixture.UniqueName("gate")).Ping(1));
        Assert.True(late.Retryable);
        Assert.Contains("shutting down", late.Message);
        Assert.All(inFlight, call => Assert.False(call.IsCompleted));

        Gate.Open(gate.Id.ToString());
        Assert.Equal(Enumerable.Range(0, 100), await Task.WhenAll(inFlight));
        await client.DisposeAsync();
        await stopped;
        await server.App.DisposeAsync();
    }

    [Fact]
    public async Task CallsStillRunningWhenTheGracePeriodEndsFailRetryableWhileThoseThatFinishInTimeSucceed()
    {
        var server = await CustomServer.StartAsync(options => options.ShutdownGracePeriod = TimeSpan.FromMilliseconds(500));
        var client = await server.ConnectAsync();
        var gates = client.GetNamespace<GateStub>("GATES");
        var finishing = gates.GetByName(ServerFixture.UniqueName("gate"));
        var stuck = gates.GetByName(ServerFixture.UniqueName("gate"));
        var inTime = Enumerable.Range(0, 10).Select(finishing.Wait).ToArray();
        var tooLate = Enumerable.Range(0, 10).Select(stuck.Wait).ToArray();
        await Eventually.True(() => Gate.Waiting.GetValueOrDefault(finishing.Id.ToString()) == 10 && Gate.Waiting.GetValueOrDefault(stuck.Id.ToString()) == 10, "all calls wait");

        var stopped = server.App.StopAsync();
        await Eventually.True(() => server.App.Lifetime.ApplicationStopping.IsCancellationRequested, "the server starts stopping");
        Gate.Open(finishing.Id.ToString());
        Assert.Equal(Enumerable.Range(0, 10), await Task.WhenAll(inTime));

        foreach (var call in tooLate)
        {
            var failure = await Assert.ThrowsAsync<DurableObjectException>(() => call);
            Assert.True(failure.Retryable);
        }
        await client.DisposeAsync();
        await stopped;
        Gate.Open(stuck.Id.ToString());
        await server.App.DisposeAsync();
    }
}
