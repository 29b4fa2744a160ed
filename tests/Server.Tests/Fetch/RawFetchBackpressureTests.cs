using Google.Protobuf;
using SourceGenDO.TestObjects;
using SourceGenDO.Wire;

namespace SourceGenDO.Server.Tests.Fetch;

/// <summary>Bodies of fetches already running go on while the stream is at its bound of calls in flight.</summary>
public sealed class RawFetchBackpressureTests
{
    [Fact]
    public async Task ChunksOfARunningFetchAreReadWhileTheCallBesideThemWaitsForRoom()
    {
        await using var server = await CustomServer.StartAsync(options => options.MaxCallsInFlightPerStream = 1);
        using var raw = new RawClient(server.Address);
        var handshake = await raw.Grpc.HandshakeAsync(new HandshakeRequest());
        using var stream = raw.Connect();
        var name = Guid.NewGuid().ToString();
        var channel = stream.Open("FETCHERS", RawClient.IdFromName(handshake.Namespaces.Single(ns => ns.Name == "FETCHERS").IdKey, name), System.Text.Encoding.UTF8.GetBytes(name));

        // Call 1 reads its request body to the end: it is the one call the stream has room for.
        var first = new ClientFrame();
        first.Calls.Add(RawClient.Call(channel, 1, RawFetch.Method, new FetchRequest { Method = "POST", Url = "http://do/count", StreamedBody = true }.ToByteArray()));
        await stream.WriteFrameAsync(first);
        // Call 2 must wait for call 1, which waits for the chunks that share call 2's frame.
        var second = new ClientFrame();
        second.Calls.Add(RawClient.Call(channel, 2, RawFetch.Method, new FetchRequest { Method = "GET", Url = "http://do/log?two" }.ToByteArray()));
        for (var i = 0; i < 4; i++)
        {
            second.BodyChunks.Add(new BodyChunk { CallId = 1, Data = ByteString.CopyFrom(new byte[RawFetch.MaxChunk]), End = i == 3 });
        }
        await stream.WriteFrameAsync(second);

        var results = await stream.ReceiveAsync(2).WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal("262144 differ", FetchResponse.Parser.ParseFrom(results[1].Value).Body.ToStringUtf8());
        Assert.Equal("two", FetchResponse.Parser.ParseFrom(results[2].Value).Body.ToStringUtf8());
    }
}
