using System.Net;
using System.Text;

namespace SourceGenDO.EndToEnd.Tests.Fetch;

/// <summary>stub.FetchAsync reaches the object's Fetch handler: what arrives, what comes back, errors and order.</summary>
public sealed class FetchTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private FetcherStub NewFetcher() => fixture.Client.GetNamespace<FetcherStub>("FETCHERS").GetByName(ServerFixture.UniqueName("fetch"));

    [Fact]
    public async Task MethodPathQueryHeadersAndBodyArriveAndTheResponseComesBackWhole()
    {
        var stub = NewFetcher();
        var request = new HttpRequestMessage(HttpMethod.Put, "http://do/echo?userId=7&tag=a%20b")
        {
            Content = new StringContent("héllo body", Encoding.UTF8, "text/plain"),
        };
        request.Headers.TryAddWithoutValidation("X-Trace", ["one", "two"]);
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", "token-1");
        request.Content.Headers.TryAddWithoutValidation("Content-MD5", "abc=");

        using var response = await stub.FetchAsync(request);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal("Echoed", response.ReasonPhrase);
        Assert.Equal("PUT", Single(response, "X-Method"));
        Assert.Equal("/echo", Single(response, "X-Path"));
        Assert.Equal("?userId=7&tag=a%20b", Single(response, "X-Query"));
        Assert.Equal("do", Single(response, "X-Host"));
        Assert.Equal(["one", "two"], response.Headers.GetValues("X-Request-X-Trace"));
        Assert.Equal("Bearer token-1", Single(response, "X-Request-Authorization"));
        Assert.Equal("text/plain; charset=utf-8", Single(response, "X-Content-Content-Type"));
        Assert.Equal("abc=", Single(response, "X-Content-Content-MD5"));
        Assert.Equal("application/x-echo", response.Content.Headers.ContentType!.ToString());
        Assert.Equal(["en-GB"], response.Content.Headers.ContentLanguage);
        Assert.Equal("héllo body", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task AFetchWithoutABodyArrivesWithoutOne()
    {
        using var response = await NewFetcher().FetchAsync(new HttpRequestMessage(HttpMethod.Delete, "https://any.host.at.all/echo"));
        Assert.Equal("DELETE", Single(response, "X-Method"));
        Assert.Equal("any.host.at.all", Single(response, "X-Host"));
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task TheStringOverloadSendsAGet()
    {
        using var response = await NewFetcher().FetchAsync("http://do/echo?x=1");
        Assert.Equal("GET", Single(response, "X-Method"));
        Assert.Equal("?x=1", Single(response, "X-Query"));
    }

    [Fact]
    public async Task AClassWithoutAFetchHandlerAnswers501SayingSo()
    {
        var counter = fixture.Client.GetNamespace<CounterStub>("COUNTERS").GetByName(ServerFixture.UniqueName());
        using var response = await counter.FetchAsync("http://do/anything");
        Assert.Equal(HttpStatusCode.NotImplemented, response.StatusCode);
        Assert.Equal(
            "The durable object class SourceGenDO.TestObjects.Counter has no Fetch handler: override DurableObject.Fetch to answer HTTP requests.",
            await response.Content.ReadAsStringAsync());
        // The default handler of a class with a handler of its own is reached through base.Fetch.
        using var fallback = await NewFetcher().FetchAsync("http://do/no-such-path");
        Assert.Equal(HttpStatusCode.NotImplemented, fallback.StatusCode);
    }

    [Fact]
    public async Task ARelativeUrlFailsBeforeAnythingIsSent()
    {
        var stub = NewFetcher();
        var fromString = Assert.Throws<ArgumentException>(() => { _ = stub.FetchAsync("/write?userId=7"); });
        Assert.Equal("A fetch needs an absolute http or https URL, such as http://do/path; \"/write?userId=7\" is not one. (Parameter 'url')", fromString.Message);
        var fromRequest = Assert.Throws<ArgumentException>(() => { _ = stub.FetchAsync(new HttpRequestMessage(HttpMethod.Get, "log?1")); });
        Assert.Contains("\"log?1\" is not one", fromRequest.Message);
        Assert.Throws<ArgumentException>(() => { _ = stub.FetchAsync(new HttpRequestMessage()); });
        // Nothing reached the object: the first thing it hears of is this call.
        Assert.Empty(await stub.Log());
    }

    [Fact]
    public async Task AnExceptionInFetchArrivesTypedAsACallsWouldAndTheStubGoesOn()
    {
        var stub = NewFetcher();
        var standard = await Assert.ThrowsAsync<InvalidOperationException>(() => stub.FetchAsync("http://do/throw?why"));
        Assert.Equal("The fetch handler failed: why", standard.Message);
        Assert.True(standard.IsRemote());
        Assert.Equal(stub.Id, standard.GetDurableObjectId());
        var custom = await Assert.ThrowsAsync<DurableObjectException>(() => stub.FetchAsync("http://do/throw-custom?x"));
        Assert.True(custom.Remote);
        Assert.Equal(typeof(CustomFailureException).FullName, custom.RemoteType);
        Assert.Equal("A custom failure: x", custom.Message);
        using var after = await stub.FetchAsync("http://do/log?after");
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
    }

    [Fact]
    public async Task AThousandInterleavedFetchesAndCallsOnOneStubStartInCallOrder()
    {
        var stub = NewFetcher();
        var expected = new List<string>();
        var calls = new List<Task>();
        for (var i = 0; i < 1000; i++)
        {
            if (i % 2 == 0)
            {
                calls.Add(stub.Note("call:" + i));
                expected.Add("call:" + i);
            }
            else
            {
                calls.Add(stub.FetchAsync("http://do/log?" + i));
                expected.Add("fetch:" + i);
            }
        }
        await Task.WhenAll(calls);
        Assert.Equal(expected, await stub.Log());
    }

    [Fact]
    public async Task AFetchMadeWhileTheCallersWritesArePendingWaitsForThemAndKeepsItsPlace()
    {
        var name = ServerFixture.UniqueName("held");
        var stub = fixture.Client.GetNamespace<FetcherStub>("FETCHERS").GetByName(name);
        var gate = new TestOutputGate();
        var writes = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        gate.PendingWrites = writes.Task;
        var held = gate.Run(() => stub.FetchAsync("http://do/log?held"));
        gate.PendingWrites = null;
        // Made with nothing pending, but after the held fetch on the same stub: it waits behind it.
        var behind = gate.Run(() => stub.Note("behind"));

        // Another stub of the same object is not held.
        await fixture.Client.GetNamespace<FetcherStub>("FETCHERS").GetByName(name).Note("other stub");
        Assert.False(held.IsCompleted || behind.IsCompleted);
        writes.SetResult();
        using var response = await held;
        await behind;
        Assert.Equal(["other stub", "fetch:held", "behind"], await stub.Log());
    }

    [Fact]
    public async Task AResponseHeadLeavesOnceTheWritesBeforeItAreDurable()
    {
        var stub = NewFetcher();
        using var written = await stub.FetchAsync("http://do/write?v1");
        Assert.Equal("written v1", await written.Content.ReadAsStringAsync());
        using var read = await stub.FetchAsync("http://do/read");
        Assert.Equal("v1", await read.Content.ReadAsStringAsync());
    }

    private static string Single(HttpResponseMessage response, string header) => Assert.Single(response.Headers.GetValues(header));
}
