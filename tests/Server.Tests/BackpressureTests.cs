using System.Diagnostics;
using Google.Protobuf;
using SourceGenDO.TestObjects;
using SourceGenDO.Wire;

namespace SourceGenDO.Server.Tests;

/// <summary>A stream at its bounds is read no further, so a client cannot grow the server's memory; other streams go on.</summary>
[Collection(HeapMeasuringCollection.Name)]
public sealed class BackpressureTests
{
    [Fact]
    public async Task AStreamThatNeverReadsItsResultsCannotGrowServerMemoryWhileAnotherClientIsServed()
    {
        await using var server = await CustomServer.StartAsync();
        using var raw = new RawClient(server.Address);
        var handshake = await raw.Grpc.HandshakeAsync(new HandshakeRequest());
        var key = handshake.Namespaces.Single(ns => ns.Name == "ECHOES").IdKey;
        await using var good = await server.ConnectAsync();
        var goodCounter = good.GetNamespace<CounterStub>("COUNTERS").GetByName(Guid.NewGuid().ToString());
        await goodCounter.Increment(1);
        var before = GC.GetTotalMemory(forceFullCollection: true);

        // One frame of 1,000 calls over 50 objects, each echoing 512 bytes, sent again and again; no
        // result is ever read.
        using var flood = raw.Connect();
        var channels = Enumerable.Range(0, 50).Select(_ => flood.Open("ECHOES", RawClient.IdFromName(key, Guid.NewGuid().ToString()))).ToArray();
        byte[] args = [0x0A, 0x80, 0x04, .. new byte[512]];
        ulong nextId = 0;
        Call[] NextCalls() => Enumerable.Range(0, 1_000).Select(i => RawClient.Call(channels[i % channels.Length], ++nextId, "Bytes", args)).ToArray();
        var sent = 0;
        var answered = 0;
        var elapsed = Stopwatch.StartNew();
        var write = flood.WriteAsync(NextCalls());
        while (elapsed.Elapsed < TimeSpan.FromSeconds(8))
        {
            // The good client keeps being answered while the flood waits for flow control.
            Assert.Equal(++answered + 1, await goodCounter.Increment(1));
            if (write.IsCompleted)
            {
                await write;
                sent++;
                write = flood.WriteAsync(NextCalls());
            }
        }
        var growth = GC.GetTotalMemory(forceFullCollection: true) - before;

        Assert.True(sent >= 10, $"the flood sent only {sent} frames: the test did not push");
        Assert.True(growth < 64L * 1024 * 1024, $"the server's heap grew by {growth:N0} bytes with a client that never reads ({sent:N0} frames of 1,000 calls sent)");
        Assert.False(write.IsCompleted, "the server read every frame of a client that never reads its results");
    }

    [Fact]
    public async Task AFrameOfMoreCallsThanTheStreamMayHaveInFlightIsDispatchedAsResultsLeave()
    {
        await using var server = await CustomServer.StartAsync(options => options.MaxCallsInFlightPerStream = 1_000);
        using var raw = new RawClient(server.Address);
        var handshake = await raw.Grpc.HandshakeAsync(new HandshakeRequest());
        var name = Guid.NewGuid().ToString();
        var id = RawClient.IdFromName(handshake.Namespaces.Single(ns => ns.Name == "GATES").IdKey, name);
        using var stream = raw.Connect();
        var channel = stream.Open("GATES", id, System.Text.Encoding.UTF8.GetBytes(name));
        const int Calls = 20_000;
        var calls = Enumerable.Range(1, Calls).Select(i => RawClient.Call(channel, (ulong)i, "Wait", RawClient.SInt64AtField1(i))).ToArray();
        await stream.WriteAsync(calls);

        // The gate holds every call it gets: the stream stops dispatching within the frame at its bound.
        await WaitUntil(() => Gate.Waiting.GetValueOrDefault(id) >= 1_000, "the first 1,000 calls wait at the gate");
        using var client = await server.ConnectAsync();
        var other = client.GetNamespace<GateStub>("GATES").GetByName(Guid.NewGuid().ToString());
        Assert.Equal(7, await other.Ping(7));
        Assert.Equal(1_000, Gate.Waiting.GetValueOrDefault(id));

        Gate.Open(id);
        var results = await stream.ReceiveAsync(Calls);
        Assert.Equal(Calls, results.Count);
        Assert.All(results.Values, result => Assert.Equal(Result.OutcomeOneofCase.Value, result.OutcomeCase));
        Assert.Equal(ByteString.CopyFrom(RawClient.SInt64AtField1(Calls)), results[Calls].Value);
    }

    private static async Task WaitUntil(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"Timed out waiting until {what}.");
            await Task.Delay(10);
        }
    }
}
