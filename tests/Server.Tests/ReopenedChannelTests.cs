using SourceGenDO.TestObjects;
using SourceGenDO.Wire;

namespace SourceGenDO.Server.Tests;

/// <summary>
/// An open for a channel number already in use: resent as it was, it changes nothing; naming another
/// object, it rebinds the number as a close and a new open would, and the calls in flight on the old
/// binding are still answered.
/// </summary>
public sealed class ReopenedChannelTests : IAsyncLifetime
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

    private string IdOf(string @namespace, string name) =>
        RawClient.IdFromName(_handshake.Namespaces.Single(ns => ns.Name == @namespace).IdKey, name);

    private static OpenChannel OpenOf(uint channel, string @namespace, string id, string? name = null)
    {
        var open = new OpenChannel { Channel = channel, Namespace = @namespace, Id = id };
        if (name is not null)
        {
            open.Name = Google.Protobuf.ByteString.CopyFromUtf8(name);
        }
        return open;
    }

    private static long SInt64(Result result)
    {
        Assert.Equal(Result.OutcomeOneofCase.Value, result.OutcomeCase);
        var bytes = result.Value.ToByteArray();
        ulong raw = 0;
        for (var i = 1; i < bytes.Length; i++)
        {
            raw |= (ulong)(bytes[i] & 0x7F) << (7 * (i - 1));
        }
        return (long)(raw >> 1) ^ -(long)(raw & 1);
    }

    [Fact]
    public async Task ASecondIdenticalOpenOfAnOpenChannelChangesNothing()
    {
        var name = Guid.NewGuid().ToString();
        var open = OpenOf(1, "COUNTERS", IdOf("COUNTERS", name), name);
        using var stream = _raw.Connect();
        var first = new ClientFrame();
        first.Opens.Add(open);
        var results = await stream.SendAsync(first, 1, RawClient.Call(1, 1, "Increment", RawClient.SInt64AtField1(5)));
        Assert.Equal(5, SInt64(results[1]));

        var again = new ClientFrame();
        again.Opens.Add(open.Clone());
        results = await stream.SendAsync(again, 1, RawClient.Call(1, 2, "Increment", RawClient.SInt64AtField1(1)));
        Assert.Equal(6, SInt64(results[2]));
        Assert.Empty(stream.Closed);
    }

    [Fact]
    public async Task AnOpenNamingAnotherObjectRebindsTheNumberAndLosesNoCallInFlight()
    {
        var gateName = Guid.NewGuid().ToString();
        var gateId = IdOf("GATES", gateName);
        using var stream = _raw.Connect();
        var first = new ClientFrame();
        first.Opens.Add(OpenOf(1, "GATES", gateId, gateName));
        first.Calls.Add(RawClient.Call(1, 1, "Wait", RawClient.SInt64AtField1(42)));
        await stream.SendAsync(first, 0);
        // The call waits at its gate: it is in flight when the number is opened again, for a counter.
        var counterName = Guid.NewGuid().ToString();
        var rebind = new ClientFrame();
        rebind.Opens.Add(OpenOf(1, "COUNTERS", IdOf("COUNTERS", counterName), counterName));
        var results = await stream.SendAsync(rebind, 1, RawClient.Call(1, 2, "Increment", RawClient.SInt64AtField1(3)));
        Assert.Equal(3, SInt64(results[2]));

        Gate.Open(gateId);
        results = await stream.ReceiveAsync(1).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(42, SInt64(results[1]));
        Assert.Empty(stream.Closed);
    }
}
