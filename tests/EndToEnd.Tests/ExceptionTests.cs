namespace SourceGenDO.EndToEnd.Tests;

/// <summary>Exceptions thrown by object code cross to the caller as SPEC section 3 says.</summary>
public sealed class ExceptionTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private DurableObjectNamespace<ThrowerStub> Throwers => fixture.Client.GetNamespace<ThrowerStub>("THROWERS");

    [Fact]
    public async Task InvalidOperationExceptionArrivesAsItselfMarkedRemoteWithoutServerFrames()
    {
        var stub = Throwers.GetByName(ServerFixture.UniqueName());
        var thrown = await Assert.ThrowsAsync<InvalidOperationException>(() => stub.ThrowInvalidOperation("the vat is empty"));
        Assert.Equal("the vat is empty", thrown.Message);
        Assert.True(thrown.IsRemote());
        Assert.Equal(stub.Id, thrown.GetDurableObjectId());
        Assert.DoesNotContain("Thrower", thrown.StackTrace ?? "");
        Assert.DoesNotContain("SourceGenDO.Server", thrown.StackTrace ?? "");
    }

    [Fact]
    public async Task CustomExceptionTypeArrivesAsDurableObjectExceptionWithRemoteType()
    {
        var stub = Throwers.GetByName(ServerFixture.UniqueName());
        var thrown = await Assert.ThrowsAsync<DurableObjectException>(() => stub.ThrowCustomAfterAwait("custom trouble"));
        Assert.Equal("custom trouble", thrown.Message);
        Assert.True(thrown.Remote);
        Assert.Equal(typeof(CustomFailureException).FullName, thrown.RemoteType);
        Assert.Equal(stub.Id, thrown.DurableObjectId);
        Assert.False(thrown.Retryable);
        Assert.DoesNotContain("Thrower", thrown.StackTrace ?? "");
    }

    [Theory]
    [InlineData(nameof(ArgumentException), typeof(ArgumentException))]
    [InlineData(nameof(ArgumentNullException), typeof(ArgumentNullException))]
    [InlineData(nameof(ArgumentOutOfRangeException), typeof(ArgumentOutOfRangeException))]
    [InlineData(nameof(KeyNotFoundException), typeof(KeyNotFoundException))]
    [InlineData(nameof(NotSupportedException), typeof(NotSupportedException))]
    [InlineData(nameof(FormatException), typeof(FormatException))]
    [InlineData(nameof(TimeoutException), typeof(TimeoutException))]
    [InlineData(nameof(UnauthorizedAccessException), typeof(UnauthorizedAccessException))]
    [InlineData(nameof(OperationCanceledException), typeof(OperationCanceledException))]
    [InlineData(nameof(NotImplementedException), typeof(DurableObjectException))]
    public async Task StandardExceptionTypesAreReRaisedAsThemselvesAndOthersAsDurableObjectException(string thrown, Type expected)
    {
        var stub = Throwers.GetByName(ServerFixture.UniqueName());
        var caught = await Assert.ThrowsAnyAsync<Exception>(() => stub.ThrowStandard(thrown, "message " + thrown));
        Assert.Equal(expected, caught.GetType());
        Assert.Equal("message " + thrown, caught.Message);
        Assert.True(caught.IsRemote());
    }

    [Fact]
    public async Task AnExceptionFailsOnlyThatCallAndTheInstanceKeepsItsState()
    {
        var stub = Throwers.GetByName(ServerFixture.UniqueName());
        await Assert.ThrowsAsync<InvalidOperationException>(() => stub.ThrowInvalidOperation("one"));
        await Assert.ThrowsAsync<DurableObjectException>(() => stub.ThrowCustomAfterAwait("two"));
        Assert.Equal(2, await stub.Calls());
    }
}
