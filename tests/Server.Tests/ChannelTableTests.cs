using SourceGenDO.Server.Rpc;
using SourceGenDO.TestObjects;
using SourceGenDO.Wire;

namespace SourceGenDO.Server.Tests;

/// <summary>A stream's table of channels is bounded, and a frame's opens are handled once however often its calls wait for room.</summary>
public sealed class ChannelTableTests
{
    [Fact]
    public async Task AnOpenPastTheChannelLimitIsRefusedAndNotKept()
    {
        await using var server = await RunningServer.StartAsync();
        using var raw = new RawClient(server.Address);
        using var stream = raw.Connect();
        // Refused opens (no namespace) are the cheapest to send; they take a table entry all the same.
        for (var sent = 0; sent < ServerStream.MaxChannels; sent += 50_000)
        {
            for (var i = 0; i < 50_000; i++)
            {
                stream.Open(null, null);
            }
            await stream.WriteAsync();
        }
        var lastChannel = stream.Open(null, null);
        var results = await stream.CallAsync(RawClient.Call(lastChannel, 1, "Ping", []));

        Assert.Equal(ServerStream.MaxChannels + 1, stream.Closed.Count);
        Assert.Contains("channels open, its limit", stream.Closed[lastChannel].Message);
        Assert.Equal("The channel names no namespace.", stream.Closed[lastChannel - 1].Message);
        // Not kept: a call on it is answered as on a number never opened.
        Assert.Contains("which is not open on this stream", results[1].Error.Message);
    }

    [Fact]
    public async Task AFrameWhoseCallsWaitForRoomOpensItsChannelsOnce()
    {
        await using var server = await CustomServer.StartAsync(options => options.MaxCallsInFlightPerStream = 1);
        using var raw = new RawClient(server.Address);
        var handshake = await raw.Grpc.HandshakeAsync(new HandshakeRequest());
        var name = Guid.NewGuid().ToString();
        var id = RawClient.IdFromName(handshake.Namespaces.Single(ns => ns.Name == "GATES").IdKey, name);
        using var stream = raw.Connect();
        var gate = stream.Open("GATES", id, System.Text.Encoding.UTF8.GetBytes(name));
        await stream.WriteAsync(RawClient.Call(gate, 1, "Wait", RawClient.SInt64AtField1(1)));
        await WaitUntil(() => Gate.Waiting.GetValueOrDefault(id) == 1);

        // The stream is at its bound: this frame's call waits for room after its open was handled (the
        // refusal of the open arrives while the gate still holds the first call).
        var refused = stream.Open(null, null);
        await stream.WriteAsync(RawClient.Call(refused, 2, "Ping", []));
        await stream.ReceiveClosedAsync(refused);
        Assert.Equal(1, Gate.Waiting.GetValueOrDefault(id));
        Gate.Open(id);
        var results = await stream.ReceiveAsync(2);

        Assert.Equal(2, results.Count);
        Assert.Equal(1, stream.ClosedEntries);
    }

    private static async Task WaitUntil(Func<bool> condition)
    {
        for (var i = 0; i < 1_000 && !condition(); i++)
        {
            await Task.Delay(10);
        }
        Assert.True(condition(), "the call reached the gate");
    }
}
