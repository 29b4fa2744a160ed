using SourceGenDO.TestObjects;
using SourceGenDO.Wire;
using SourceGenDO.Tests.Shared;

namespace SourceGenDO.Server.Tests;

/// <summary>
/// Errors quote what a client sent (namespace and method names) only up to 128 characters, so that an
/// error answered to every call of a channel never multiplies a client's megabytes.
/// </summary>
public sealed class ClientTextInErrorsTests
{
    private const int Megabyte = 1 << 20;

    [Fact]
    public async Task ARefusedChannelWithAMegabyteNamespaceNameAnswersEachOfItsCallsShortlyAndTheServerStaysSmall()
    {
        await using var server = await ServerProcess.StartAsync();
        using var raw = new RawClient(server.Address);
        var handshake = await raw.Grpc.HandshakeAsync(new HandshakeRequest());
        using var stream = raw.Connect();
        // Warm up the server's stream and call path, so that what is measured below is the refused channel.
        var counters = handshake.Namespaces.Single(ns => ns.Name == "COUNTERS").IdKey;
        var good = stream.Open("COUNTERS", RawClient.IdFromName(counters, "warm-up"));
        await stream.CallAsync(RawClient.Call(good, 1, "Increment", RawClient.SInt64AtField1(1)));
        var before = server.ResidentBytes().Peak;

        var refused = stream.Open(new string('N', Megabyte), RawClient.IdFromName(counters, "x"));
        var calls = Enumerable.Range(0, 1_024).Select(i => RawClient.Call(refused, (ulong)(100 + i), "Increment", RawClient.SInt64AtField1(1))).ToArray();
        var results = await stream.CallAsync(calls).WaitAsync(TimeSpan.FromSeconds(30));

        var expected = $"The server has no namespace \"{new string('N', 128)}…\" (1,048,576 bytes).";
        Assert.Equal(expected, stream.Closed[refused].Message);
        Assert.Equal(1_024, results.Count);
        Assert.All(results.Values, result => Assert.Equal(expected, result.Error.Message));
        var growth = server.ResidentBytes().Peak - before;
        Assert.True(growth < 64L * Megabyte, $"The server's peak resident memory grew by {growth:N0} bytes.");
    }

    [Fact]
    public async Task AnUnknownMethodWithAMegabyteNameIsAnsweredWithTheNameCut()
    {
        await using var server = await RunningServer.StartAsync();
        using var raw = new RawClient(server.Address);
        var handshake = await raw.Grpc.HandshakeAsync(new HandshakeRequest());
        using var stream = raw.Connect();
        var channel = stream.Open("COUNTERS", RawClient.IdFromName(handshake.Namespaces.Single(ns => ns.Name == "COUNTERS").IdKey, "x"));
        // A name of two-unit characters, cut where the 128th character would split one.
        var name = "a" + string.Concat(Enumerable.Repeat("😀", Megabyte / 4));

        var results = await stream.CallAsync(
            RawClient.Call(channel, 1, name, []),
            RawClient.Call(channel, 2, "NoSuchMethod", []));

        Assert.Equal($"The RPC receiver does not implement the method \"a{string.Concat(Enumerable.Repeat("😀", 63))}…\" (1,048,577 bytes).", results[1].Error.Message);
        Assert.Equal("The RPC receiver does not implement the method \"NoSuchMethod\".", results[2].Error.Message);
    }
}
