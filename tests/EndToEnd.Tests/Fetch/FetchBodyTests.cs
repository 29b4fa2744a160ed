using System.Net;

namespace SourceGenDO.EndToEnd.Tests.Fetch;

/// <summary>Streamed bodies: both directions, flow control against a slow reader, and stopping a body early.</summary>
public sealed class FetchBodyTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private const long Large = 8L * 1024 * 1024;

    private (FetcherStub Stub, string Name) NewFetcher()
    {
        var name = ServerFixture.UniqueName("body");
        return (fixture.Client.GetNamespace<FetcherStub>("FETCHERS").GetByName(name), name);
    }

    [Fact]
    public async Task AStreamedRequestBodyArrivesWholeAndInOrder()
    {
        var (stub, name) = NewFetcher();
        using var response = await stub.FetchAsync(new HttpRequestMessage(HttpMethod.Post, "http://do/count") { Content = new GeneratedContent(Large + 7, name + "-up") });
        Assert.Equal($"{Large + 7} match", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task AnInMemoryBodyOverTheInlineLimitStreams()
    {
        var (stub, _) = NewFetcher();
        var body = new byte[200_000];
        for (var i = 0; i < body.Length; i++)
        {
            body[i] = GeneratedContent.At(i);
        }
        using var response = await stub.FetchAsync(new HttpRequestMessage(HttpMethod.Post, "http://do/echo") { Content = new ByteArrayContent(body) });
        Assert.Equal(body, await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task AStreamedResponseBodyIsReadAsItArrives()
    {
        var (stub, name) = NewFetcher();
        using var response = await stub.FetchAsync("http://do/generate?" + (Large + 3));
        Assert.Null(response.Content.Headers.ContentLength);
        var (count, matches) = await ReadAll(await response.Content.ReadAsStreamAsync());
        Assert.Equal(Large + 3, count);
        Assert.True(matches);
        Assert.Equal("completed", GeneratedContent.Ended[name]);
    }

    [Fact]
    public async Task AResponseBodyThatFailsMidwayFailsTheReadSayingWhy()
    {
        var (stub, _) = NewFetcher();
        using var response = await stub.FetchAsync("http://do/generate-then-fail?300000");
        var stream = await response.Content.ReadAsStreamAsync();
        var buffer = new byte[65536];
        long count = 0;
        var failure = await Assert.ThrowsAsync<IOException>(async () =>
        {
            int read;
            while ((read = await stream.ReadAsync(buffer)) > 0)
            {
                count += read;
            }
        });
        Assert.Equal(300_000, count);
        Assert.Equal("The response body broke off: The generator failed after 300000 bytes.", failure.Message);
    }

    [Fact]
    public async Task ASlowReaderHoldsTheServerToTheWindowNotTheBody()
    {
        var (stub, name) = NewFetcher();
        using var response = await stub.FetchAsync("http://do/generate?" + Large);
        var stream = await response.Content.ReadAsStreamAsync();
        var first = new byte[1024];
        await stream.ReadExactlyAsync(first);
        // The producer runs until the credit is spent, then waits: it settles far below the body's size.
        var produced = await Settled(() => GeneratedContent.Produced.GetValueOrDefault(name));
        Assert.True(produced < 1024 * 1024, $"The server produced {produced:N0} bytes for a reader that took 1,024.");
        Assert.False(GeneratedContent.Ended.ContainsKey(name));
        var (rest, matches) = await ReadAll(stream, first.Length);
        Assert.Equal(Large, first.Length + rest);
        Assert.True(matches && GeneratedContent.Matches(first, 0));
    }

    [Fact]
    public async Task DisposingAResponseMidBodyStopsTheServersCopying()
    {
        var (stub, name) = NewFetcher();
        var response = await stub.FetchAsync("http://do/generate?" + long.MaxValue);
        var stream = await response.Content.ReadAsStreamAsync();
        await stream.ReadExactlyAsync(new byte[100_000]);
        response.Dispose();
        await Eventually.True(() => GeneratedContent.Ended.ContainsKey(name), "the endless body to stop");
        // The stub and its stream go on.
        using var after = await stub.FetchAsync("http://do/log?after");
        Assert.Equal("after", await after.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task CancellingMidResponseBodyFailsTheReadAndStopsTheServer()
    {
        var (stub, name) = NewFetcher();
        using var cancel = new CancellationTokenSource();
        using var response = await stub.FetchAsync(new HttpRequestMessage(HttpMethod.Get, "http://do/generate?" + long.MaxValue), cancel.Token);
        var stream = await response.Content.ReadAsStreamAsync();
        await stream.ReadExactlyAsync(new byte[100_000]);
        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            var buffer = new byte[65536];
            while (await stream.ReadAsync(buffer) > 0)
            {
            }
        });
        await Eventually.True(() => GeneratedContent.Ended.ContainsKey(name), "the endless body to stop");
    }

    [Fact]
    public async Task CancellingMidRequestBodyFailsTheFetchAndBreaksTheBodyOffAtTheObject()
    {
        var (stub, name) = NewFetcher();
        using var cancel = new CancellationTokenSource();
        var fetch = stub.FetchAsync(new HttpRequestMessage(HttpMethod.Post, "http://do/count") { Content = new GeneratedContent(long.MaxValue, name + "-up") }, cancel.Token);
        await Eventually.True(() => GeneratedContent.Produced.GetValueOrDefault(name + "-up") > 1024 * 1024, "the upload to be under way");
        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => fetch);
        await Eventually.True(() => Fetcher.Observed.ContainsKey(name + ":request"), "the handler to see the body break off");
        // The call's cancel and the body's broken-off end race on the wire: the read fails with whichever came first.
        Assert.Matches("^(IOException|TaskCanceledException) after ", Fetcher.Observed[name + ":request"]);
        Assert.NotNull(await stub.Log());
    }

    [Fact]
    public async Task AHandlerThatDoesNotReadTheBodyStopsItAndTheStubGoesOn()
    {
        var (stub, name) = NewFetcher();
        using var response = await stub.FetchAsync(new HttpRequestMessage(HttpMethod.Post, "http://do/log?unread") { Content = new GeneratedContent(long.MaxValue, name + "-up") });
        Assert.Equal("unread", await response.Content.ReadAsStringAsync());
        await Eventually.True(() => GeneratedContent.Ended.ContainsKey(name + "-up"), "the unread upload to stop");
        Assert.Equal(["fetch:unread"], await stub.Log());
    }

    /// <summary>Polls <paramref name="read"/> until it stops changing for a few polls in a row.</summary>
    private static async Task<long> Settled(Func<long> read)
    {
        var last = -1L;
        var same = 0;
        while (same < 5)
        {
            await Task.Delay(100);
            var now = read();
            same = now == last ? same + 1 : 0;
            last = now;
        }
        return last;
    }

    private static async Task<(long Count, bool Matches)> ReadAll(Stream stream, long start = 0)
    {
        var buffer = new byte[70_000];
        long count = 0;
        var matches = true;
        int read;
        while ((read = await stream.ReadAsync(buffer)) > 0)
        {
            matches &= GeneratedContent.Matches(buffer.AsSpan(0, read), start + count);
            count += read;
        }
        return (count, matches);
    }
}
