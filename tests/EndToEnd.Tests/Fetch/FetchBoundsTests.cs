namespace SourceGenDO.EndToEnd.Tests.Fetch;

/// <summary>
/// The bounds of streamed bodies per stream (64 each way): past them a fetch fails alone, as overloaded,
/// and the stream goes on. Each test has a client of its own, so its stream carries only its bodies.
/// </summary>
public sealed class FetchBoundsTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    [Fact]
    public async Task AFetchPastTheClientsBoundOfStreamedRequestBodiesFailsAsOverloaded()
    {
        await using var client = await fixture.Server.ConnectAsync();
        var stub = client.GetNamespace<FetcherStub>("FETCHERS").GetByName(ServerFixture.UniqueName("bounds"));
        using var cancel = new CancellationTokenSource();
        var uploads = Enumerable.Range(0, 64)
            .Select(i => stub.FetchAsync(new HttpRequestMessage(HttpMethod.Post, "http://do/count") { Content = new GeneratedContent(long.MaxValue, ServerFixture.UniqueName()) }, cancel.Token))
            .ToList();

        var refused = await Assert.ThrowsAsync<DurableObjectException>(() =>
            stub.FetchAsync(new HttpRequestMessage(HttpMethod.Post, "http://do/count") { Content = new GeneratedContent(10, ServerFixture.UniqueName()) }));
        Assert.True(refused.Overloaded);
        Assert.Equal("Durable Object is overloaded: the stream carries 64 streamed request bodies, its limit; the fetch was not delivered.", refused.Message);
        // Bodies that travel inline are not counted.
        using (var small = await stub.FetchAsync(new HttpRequestMessage(HttpMethod.Post, "http://do/echo") { Content = new StringContent("small") }))
        {
            Assert.Equal("small", await small.Content.ReadAsStringAsync());
        }

        cancel.Cancel();
        foreach (var upload in uploads)
        {
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => upload);
        }
        // Once the bodies are over, a streamed upload goes again.
        await Eventually.True(() => TryUpload(stub).Result, "a streamed upload to be accepted again");
    }

    [Fact]
    public async Task AResponseBodyPastTheStreamsBoundWaitsForASlotInsteadOfFailing()
    {
        await using var client = await fixture.Server.ConnectAsync();
        var stub = client.GetNamespace<FetcherStub>("FETCHERS").GetByName(ServerFixture.UniqueName("bounds"));
        var responses = new List<HttpResponseMessage>();
        for (var i = 0; i < 64; i++)
        {
            // Never read: each keeps its body streaming, held at its window.
            responses.Add(await stub.FetchAsync("http://do/generate?" + long.MaxValue));
        }

        // The 65th: its handler ran, so it is answered; its body waits for one of the 64 to end.
        var otherName = ServerFixture.UniqueName("bounds");
        var other = client.GetNamespace<FetcherStub>("FETCHERS").GetByName(otherName);
        using var waiting = await other.FetchAsync("http://do/generate?100000");
        Assert.Equal(System.Net.HttpStatusCode.OK, waiting.StatusCode);
        Assert.False(GeneratedContent.Produced.ContainsKey(otherName), "the 65th body started while 64 were streaming");
        var body = waiting.Content.ReadAsByteArrayAsync();
        // A response sent whole is not counted, nor is a call.
        using (var small = await stub.FetchAsync("http://do/log?small"))
        {
            Assert.Equal("small", await small.Content.ReadAsStringAsync());
        }

        responses[0].Dispose();
        Assert.Equal(100_000, (await body.WaitAsync(TimeSpan.FromSeconds(60))).Length);
        foreach (var response in responses)
        {
            response.Dispose();
        }
        await Eventually.True(() => TryDownload(stub).Result, "a streamed response to flow again");
    }

    private static async Task<bool> TryUpload(FetcherStub stub)
    {
        try
        {
            using var response = await stub.FetchAsync(new HttpRequestMessage(HttpMethod.Post, "http://do/count") { Content = new GeneratedContent(100_000, ServerFixture.UniqueName()) });
            return await response.Content.ReadAsStringAsync() == "100000 match";
        }
        catch (DurableObjectException e) when (e.Overloaded)
        {
            return false;
        }
    }

    private static async Task<bool> TryDownload(FetcherStub stub)
    {
        try
        {
            using var response = await stub.FetchAsync("http://do/generate?100000");
            return (await response.Content.ReadAsByteArrayAsync()).Length == 100_000;
        }
        catch (DurableObjectException e) when (e.Overloaded)
        {
            return false;
        }
    }
}
