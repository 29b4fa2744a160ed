using Google.Protobuf;
using Grpc.Core;
using SourceGenDO.TestObjects;
using SourceGenDO.Wire;

namespace SourceGenDO.Server.Tests.Fetch;

/// <summary>Fetch spoken from the documents alone: a body streamed each way within the credit, and the protocol errors of bodies.</summary>
public sealed class RawFetchTests : IAsyncLifetime
{
    private RunningServer _server = null!;
    private RawClient _raw = null!;
    private HandshakeResponse _handshake = null!;

    public async Task InitializeAsync()
    {
        _server = await RunningServer.StartAsync();
        _raw = new RawClient(_server.Address);
        _handshake = await _raw.Grpc.HandshakeAsync(new HandshakeRequest());
    }

    public async Task DisposeAsync()
    {
        _raw.Dispose();
        await _server.DisposeAsync();
    }

    private uint OpenFetcher(RawStream stream)
    {
        var name = Guid.NewGuid().ToString();
        // Named: the generating handler names its body after the object.
        return stream.Open("FETCHERS", RawClient.IdFromName(_handshake.Namespaces.Single(ns => ns.Name == "FETCHERS").IdKey, name), System.Text.Encoding.UTF8.GetBytes(name));
    }

    [Fact]
    public async Task ARawClientStreamsARequestBodyAndReadsAStreamedResponseWithinTheCredit()
    {
        using var stream = _raw.Connect();
        var fetch = new RawFetch(stream, OpenFetcher(stream), 1);
        var body = new byte[700_000];
        new Random(7).NextBytes(body);
        var request = new FetchRequest { Method = "POST", Url = "http://do/echo?raw=1", StreamedBody = true };
        request.Headers.Add(new Header { Name = "X-Raw", Value = "yes" });

        await fetch.SendAsync(request);
        await fetch.SendBodyAsync(body);
        await fetch.ReceiveAsync();

        var response = fetch.Response!;
        Assert.Equal(202u, response.Status);
        Assert.Equal("Echoed", response.Reason);
        Assert.Contains(response.Headers, header => header.Name == "X-Request-X-Raw" && header.Value == "yes");
        Assert.Contains(response.Headers, header => header.Name == "X-Query" && header.Value == "?raw=1");
        // 700,000 bytes: over the inline limit, so the echo streams back.
        Assert.True(response.StreamedBody);
        Assert.False(response.HasBody);
        Assert.Equal(body, fetch.ResponseBody);
    }

    [Fact]
    public async Task ASmallBodyTravelsInlineBothWays()
    {
        using var stream = _raw.Connect();
        var fetch = new RawFetch(stream, OpenFetcher(stream), 1);
        await fetch.SendAsync(new FetchRequest { Method = "PUT", Url = "http://do/echo", Body = ByteString.CopyFromUtf8("inline") });
        await fetch.ReceiveAsync();
        Assert.False(fetch.Response!.StreamedBody);
        Assert.Equal("inline", fetch.Response.Body.ToStringUtf8());
    }

    [Theory]
    [InlineData(200_000, null)]
    [InlineData(400_000, "The reader's side ended its stream, so no credit for the rest of the body can come.")]
    public async Task AfterAHalfCloseAStreamedResponseIsSentWithinItsCreditAndTheStreamEnds(int size, string? error)
    {
        using var stream = _raw.Connect();
        var fetch = new RawFetch(stream, OpenFetcher(stream), 1) { GrantsCredit = false };
        await fetch.SendAsync(new FetchRequest { Method = "GET", Url = "http://do/generate?" + size });
        await stream.CompleteAsync();

        await fetch.ReceiveAsync();

        // Within the window: whole. Past it: what the window allowed, then an end that says why.
        Assert.Equal(Math.Min(size, RawFetch.Window), fetch.ResponseBody.Length);
        Assert.Equal(error, fetch.ResponseError?.Message);
        Assert.Null(await stream.ReadFrameAsync());
    }

    [Fact]
    public async Task AnExceptionInFetchIsTheCallsError()
    {
        using var stream = _raw.Connect();
        var fetch = new RawFetch(stream, OpenFetcher(stream), 1);
        await fetch.SendAsync(new FetchRequest { Method = "GET", Url = "http://do/throw?raw" });
        await fetch.ReceiveAsync();
        Assert.Equal(Result.OutcomeOneofCase.Error, fetch.Result!.OutcomeCase);
        Assert.Equal("System.InvalidOperationException", fetch.Result.Error.Type);
        Assert.Equal("The fetch handler failed: raw", fetch.Result.Error.Message);
        Assert.True(fetch.Result.Error.Remote);
    }

    [Fact]
    public async Task AChunkForACallWithoutARequestBodyEndsTheStreamAsMalformed()
    {
        using var stream = _raw.Connect();
        var frame = new ClientFrame();
        frame.BodyChunks.Add(new BodyChunk { CallId = 99, Data = ByteString.CopyFromUtf8("stray") });
        await stream.WriteFrameAsync(frame);
        var failure = await Assert.ThrowsAsync<RpcException>(() => stream.ReadFrameAsync());
        Assert.Equal(StatusCode.InvalidArgument, failure.StatusCode);
        Assert.Equal("The stream was ended because a frame was malformed: A body chunk names call 99, which has no request body streaming.", failure.Status.Detail);
    }

    [Fact]
    public async Task AChunkPastTheCreditEndsTheStreamAsMalformed()
    {
        using var stream = _raw.Connect();
        var channel = OpenFetcher(stream);
        var frame = new ClientFrame();
        // A handler that never reads the body: no credit comes back, and the fifth chunk is over the window.
        frame.Calls.Add(RawClient.Call(channel, 1, RawFetch.Method, new FetchRequest { Method = "POST", Url = "http://do/log?x", StreamedBody = true }.ToByteArray()));
        for (var i = 0; i < 5; i++)
        {
            frame.BodyChunks.Add(new BodyChunk { CallId = 1, Data = ByteString.CopyFrom(new byte[RawFetch.MaxChunk]) });
        }
        await stream.WriteFrameAsync(frame);
        var failure = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            while (await stream.ReadFrameAsync() is not null)
            {
            }
        });
        Assert.Equal(StatusCode.InvalidArgument, failure.StatusCode);
        Assert.Equal(
            "The stream was ended because a frame was malformed: A body chunk of call 1 goes past the credit its reader granted (the window is 262,144 bytes).",
            failure.Status.Detail);
    }

    [Fact]
    public async Task AFetchPastTheBoundOfStreamedRequestBodiesFailsAloneAsOverloaded()
    {
        using var stream = _raw.Connect();
        var channel = OpenFetcher(stream);
        var frame = new ClientFrame();
        // 64 bodies the handler waits on (their chunks never come), then one more.
        for (ulong id = 1; id <= 65; id++)
        {
            frame.Calls.Add(RawClient.Call(channel, id, RawFetch.Method, new FetchRequest { Method = "POST", Url = "http://do/count", StreamedBody = true }.ToByteArray()));
        }
        await stream.WriteFrameAsync(frame);
        var results = await stream.ReceiveAsync(1);
        var refused = Assert.Single(results).Value;
        Assert.Equal(65ul, refused.CallId);
        Assert.True(refused.Error.Overloaded);
        Assert.Equal("Durable Object is overloaded: the stream carries 64 streamed request bodies, its limit; the fetch was not delivered.", refused.Error.Message);
        // Its body is still expected to its end (the server asked it to stop); the others end normally.
        var ends = new ClientFrame();
        for (ulong id = 1; id <= 65; id++)
        {
            ends.BodyChunks.Add(new BodyChunk { CallId = id, End = true });
        }
        await stream.WriteFrameAsync(ends);
        var answered = await stream.ReceiveAsync(64);
        Assert.All(answered.Values, result => Assert.Equal(Result.OutcomeOneofCase.Value, result.OutcomeCase));
    }

    [Theory]
    [InlineData("/log?x")]
    [InlineData("log")]
    [InlineData("ftp://do/log")]
    [InlineData("mailto:someone@example.com")]
    [InlineData("file:///etc/passwd")]
    public async Task AFetchWhoseUrlIsNotAnAbsoluteHttpUrlIsRefused(string url)
    {
        using var stream = _raw.Connect();
        var fetch = new RawFetch(stream, OpenFetcher(stream), 1);
        await fetch.SendAsync(new FetchRequest { Method = "GET", Url = url });
        await fetch.ReceiveAsync();
        Assert.Equal(Result.OutcomeOneofCase.Error, fetch.Result!.OutcomeCase);
        Assert.False(fetch.Result.Error.Remote);
        Assert.Equal($"The fetch request's URL \"{url}\" is not an absolute http or https URL.", fetch.Result.Error.Message);
    }

    [Fact]
    public async Task ABodyLongerThanItsDeclaredSmallLengthStreamsInsteadOfBeingBufferedInline()
    {
        using var stream = _raw.Connect();
        var fetch = new RawFetch(stream, OpenFetcher(stream), 1);
        await fetch.SendAsync(new FetchRequest { Method = "GET", Url = "http://do/declared-small?1000000" });
        await fetch.ReceiveAsync();
        Assert.True(fetch.Response!.StreamedBody);
        Assert.False(fetch.Response.HasBody);
        Assert.Equal(1_000_000, fetch.ResponseBody.Length);
    }
}
