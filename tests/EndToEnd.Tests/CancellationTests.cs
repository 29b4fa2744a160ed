namespace SourceGenDO.EndToEnd.Tests;

/// <summary>A trailing CancellationToken: cancelling fails the caller, signals the object, keeps the stub.</summary>
public sealed class CancellationTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    [Fact]
    public async Task CancelledCallFailsItsCallerSignalsTheObjectAndLeavesTheStubWorking()
    {
        var stub = fixture.Client.GetNamespace<CancellerStub>("CANCELLERS").GetByName(ServerFixture.UniqueName());
        var tag = Guid.NewGuid().ToString("n");
        using var cancellation = new CancellationTokenSource();
        var call = stub.WaitUntilCanceled(tag, cancellation.Token);
        Assert.Equal("reached", await stub.Echo("reached"));
        cancellation.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
        await Canceller.ObservedFor(tag).Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal("still works", await stub.Echo("still works"));
    }

    [Fact]
    public async Task AnAlreadyCancelledTokenFailsTheCallAtOnceAndLeavesTheStubWorking()
    {
        var stub = fixture.Client.GetNamespace<CancellerStub>("CANCELLERS").GetByName(ServerFixture.UniqueName());
        var call = stub.WaitUntilCanceled("never sent", new CancellationToken(canceled: true));
        Assert.True(call.IsCanceled);
        Assert.Equal("fine", await stub.Echo("fine"));
    }
}
