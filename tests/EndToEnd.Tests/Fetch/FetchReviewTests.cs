namespace SourceGenDO.EndToEnd.Tests.Fetch;

/// <summary>Fetch behaviours a review found wrong: each test failed before its fix.</summary>
public sealed class FetchReviewTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task ASynchronousReadOfARequestBodyFailsClearlyAndTheStreamGoesOn()
    {
        await using var client = await fixture.Server.ConnectAsync();
        var stub = client.GetNamespace<FetcherStub>("FETCHERS").GetByName(ServerFixture.UniqueName("sync"));
        // The channel is open first: the fetch's frame then runs inline on the stream's reading loop.
        await stub.Note("first");
        using var response = await stub.FetchAsync(new HttpRequestMessage(HttpMethod.Post, "http://do/read-sync") { Content = new GeneratedContent(1_000_000, ServerFixture.UniqueName()) })
            .WaitAsync(Patience);
        Assert.StartsWith("A fetch body cannot be read or written synchronously: read the request body with ReadAsync/CopyToAsync", await response.Content.ReadAsStringAsync());
        // The stream still carries calls.
        await stub.Note("second").WaitAsync(Patience);
        Assert.Equal(["first", "second"], await stub.Log());
    }

    [Fact]
    public async Task AnInMemoryRequestBodyLongerThanItsDeclaredLengthArrivesWhole()
    {
        var stub = fixture.Client.GetNamespace<FetcherStub>("FETCHERS").GetByName(ServerFixture.UniqueName("declared"));
        var content = new ByteArrayContent(new byte[200_000]);
        content.Headers.ContentLength = 10;
        using var response = await stub.FetchAsync(new HttpRequestMessage(HttpMethod.Post, "http://do/echo") { Content = content });
        Assert.Equal(200_000, (await response.Content.ReadAsByteArrayAsync()).Length);
    }

    [Fact]
    public async Task AStreamedRequestBodyOfKnownLengthKeepsItsContentLength()
    {
        var stub = fixture.Client.GetNamespace<FetcherStub>("FETCHERS").GetByName(ServerFixture.UniqueName("length"));
        using var response = await stub.FetchAsync(new HttpRequestMessage(HttpMethod.Post, "http://do/echo") { Content = new ByteArrayContent(new byte[200_000]) });
        Assert.Equal(200_000, (await response.Content.ReadAsByteArrayAsync()).Length);
        Assert.Equal("200000", string.Join(",", response.Headers.GetValues("X-Content-Content-Length")));
    }

    [Fact]
    public async Task StreamingResponseBodiesDoNotCountAsCallsInFlight()
    {
        await using var server = await CustomServer.StartAsync(options => options.MaxCallsInFlightPerStream = 2);
        await using var client = await server.ConnectAsync();
        var stub = client.GetNamespace<FetcherStub>("FETCHERS").GetByName(ServerFixture.UniqueName("inflight"));
        using var first = await stub.FetchAsync("http://do/generate?1000000").WaitAsync(Patience);
        using var second = await stub.FetchAsync("http://do/generate?1000000").WaitAsync(Patience);
        // Two bodies streaming, each past its window: a call now, and then the credit that reading them sends.
        var note = stub.Note("beside");
        Assert.Equal(1_000_000, (await first.Content.ReadAsByteArrayAsync().WaitAsync(Patience)).Length);
        Assert.Equal(1_000_000, (await second.Content.ReadAsByteArrayAsync().WaitAsync(Patience)).Length);
        await note.WaitAsync(Patience);
    }

    [Fact]
    public async Task AnIdleUploadEndsWhenTheServerAsksItToStop()
    {
        var stub = fixture.Client.GetNamespace<FetcherStub>("FETCHERS").GetByName(ServerFixture.UniqueName("idle"));
        var content = new IdleContent();
        // The handler reads what the content sent before idling, then answers: the server asks the rest of the body to stop.
        using var response = await stub.FetchAsync(new HttpRequestMessage(HttpMethod.Post, "http://do/read-some") { Content = content }).WaitAsync(Patience);
        Assert.Equal("read 100", await response.Content.ReadAsStringAsync());
        await content.Cancelled.Task.WaitAsync(Patience);
    }

    /// <summary>A body that sends a little, then waits for its source for good: only its token ends it.</summary>
    private sealed class IdleContent : UnknownLengthContent
    {
        public TaskCompletionSource Cancelled { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        protected override async Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context, CancellationToken cancellationToken)
        {
            await stream.WriteAsync(new byte[100], cancellationToken);
            await stream.FlushAsync(cancellationToken);
            try
            {
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                Cancelled.TrySetResult();
                throw;
            }
        }
    }
}
