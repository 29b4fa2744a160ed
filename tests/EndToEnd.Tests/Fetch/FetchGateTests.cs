using SourceGenDO.EndToEnd.Tests.Storage;

namespace SourceGenDO.EndToEnd.Tests.Fetch;

/// <summary>The output gate applies to fetch as to calls: a response head after a write, and a fetch an object makes after a write.</summary>
public sealed class FetchGateTests : IAsyncLifetime
{
    private readonly ControlledBackend _backend = new();
    private RunningServer _server = null!;
    private DurableObjectClient _client = null!;

    public async Task InitializeAsync()
    {
        _server = await RunningServer.StartAsync(options => options.UseStorage(_ => _backend));
        _client = await _server.ConnectAsync();
    }

    public async Task DisposeAsync()
    {
        _backend.Reads.Open();
        _backend.Commits.Open();
        await _client.DisposeAsync();
        await _server.DisposeAsync();
    }

    private DurableObjectNamespace<FetcherStub> Fetchers => _client.GetNamespace<FetcherStub>("FETCHERS");

    [Fact]
    public async Task AResponseHeadIsHeldUntilTheWriteBeforeItIsDurable()
    {
        var stub = Fetchers.GetByName(ServerFixture.UniqueName());
        await stub.Note("warm");
        _backend.Commits.Shut();

        var fetch = stub.FetchAsync("http://do/write?v1");
        await Eventually.True(() => _backend.Commits.Waiting == 1, "the write's commit waits in the backend");
        await Task.Delay(100);
        Assert.False(fetch.IsCompleted, "a fetch response left before the write made by its handler was durable");

        _backend.Commits.Open();
        using var response = await fetch;
        Assert.Equal("written v1", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task AFetchAnObjectMakesAfterAWriteLeavesOnceTheWriteIsDurable()
    {
        var caller = Fetchers.GetByName(ServerFixture.UniqueName());
        var otherName = ServerFixture.UniqueName("other");
        var other = Fetchers.GetByName(otherName);
        await caller.Note("warm");
        _backend.Commits.Shut();

        var call = caller.WriteAndFetch(otherName, "gated");
        await Eventually.True(() => _backend.Commits.Waiting == 1, "the write's commit waits in the backend");
        await Task.Delay(100);
        Assert.Empty(await other.Log());

        _backend.Commits.Open();
        Assert.Equal("gated", await call);
        Assert.Equal(["fetch:gated"], await other.Log());
    }

    [Fact]
    public async Task AnObjectReadsAStreamedBodyFromAnotherObject()
    {
        var caller = Fetchers.GetByName(ServerFixture.UniqueName());
        Assert.Equal("3000000 match", await caller.CountFrom(ServerFixture.UniqueName("source"), 3_000_000));
    }
}
