using Grpc.Core;
using SourceGenDO.TestObjects;
using SourceGenDO.Wire;

namespace SourceGenDO.Server.Tests;

/// <summary>What a client that only knows the wire contract gets, good input and bad.</summary>
[Collection(FrameBatchingCollection.Name)]
public sealed class RawClientTests : IAsyncLifetime
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

    private string CounterId(string name) => IdOf("COUNTERS", name);

    private string IdOf(string @namespace, string name) =>
        RawClient.IdFromName(_handshake.Namespaces.Single(ns => ns.Name == @namespace).IdKey, name);

    private static long DecodeSInt64Result(Result result)
    {
        Assert.Equal(Result.OutcomeOneofCase.Value, result.OutcomeCase);
        var bytes = result.Value.ToByteArray();
        Assert.Equal(0x08, bytes[0]);
        ulong raw = 0;
        for (var i = 1; i < bytes.Length; i++)
        {
            raw |= (ulong)(bytes[i] & 0x7F) << (7 * (i - 1));
        }
        return (long)(raw >> 1) ^ -(long)(raw & 1);
    }

    [Fact]
    public void HandshakeListsEveryNamespaceWithItsClassAndKey()
    {
        var counters = _handshake.Namespaces.Single(ns => ns.Name == "COUNTERS");
        Assert.Equal(typeof(Counter).FullName, counters.ClassName);
        Assert.Equal(32, counters.IdKey.Length);
        Assert.Contains(_handshake.Namespaces, ns => ns.Name == "THROWERS");
    }

    [Fact]
    public async Task ARawClientCallsAnObjectWithTheDocumentedEncodingAndIdDerivation()
    {
        var name = Guid.NewGuid().ToString();
        using var stream = _raw.Connect();
        var channel = stream.Open("COUNTERS", CounterId(name), System.Text.Encoding.UTF8.GetBytes(name));
        var results = await stream.CallAsync(RawClient.Call(channel, 1, "Increment", RawClient.SInt64AtField1(5)));
        Assert.Equal(5, DecodeSInt64Result(results[1]));

        await using var client = await _server.ConnectAsync();
        Assert.Equal(5, await client.GetNamespace<CounterStub>("COUNTERS").GetByName(name).Get());
    }

    [Fact]
    public async Task CallsOfOneChannelStartInStreamOrderAcrossChannelsAndFrames()
    {
        using var stream = _raw.Connect();
        var first = stream.Open("COUNTERS", CounterId(Guid.NewGuid().ToString()));
        var second = stream.Open("COUNTERS", CounterId(Guid.NewGuid().ToString()));
        var calls = Enumerable.Range(1, 200).Select(i => RawClient.Call(i % 2 == 0 ? first : second, (ulong)i, "Increment", RawClient.SInt64AtField1(1))).ToArray();
        var results = await stream.CallAsync(calls);
        var more = await stream.CallAsync(RawClient.Call(first, 201, "Increment", RawClient.SInt64AtField1(1)));
        for (ulong i = 1; i <= 200; i++)
        {
            Assert.Equal((long)(i + 1) / 2, DecodeSInt64Result(results[i]));
        }
        Assert.Equal(101, DecodeSInt64Result(more[201]));
    }

    [Theory]
    [InlineData("NO_SUCH_NAMESPACE", "valid", "The server has no namespace \"NO_SUCH_NAMESPACE\".")]
    [InlineData(null, "valid", "The channel names no namespace.")]
    [InlineData("COUNTERS", "not-hex", "Invalid Durable Object ID: must be 64 hex digits")]
    [InlineData("COUNTERS", null, "Invalid Durable Object ID: must be 64 hex digits")]
    [InlineData("COUNTERS", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "Durable Object ID is not valid for this namespace.")]
    public async Task ABadChannelIsRefusedSayingWhyWhileTheStreamAndItsOtherChannelsGoOn(string? @namespace, string? id, string message)
    {
        using var stream = _raw.Connect();
        var healthy = stream.Open("COUNTERS", CounterId(Guid.NewGuid().ToString()));
        var bad = stream.Open(@namespace, id == "valid" ? CounterId("x") : id);
        var results = await stream.CallAsync(
            RawClient.Call(bad, 1, "Increment", RawClient.SInt64AtField1(1)),
            RawClient.Call(healthy, 2, "Increment", RawClient.SInt64AtField1(1)));
        Assert.Equal(message, stream.Closed[bad].Message);
        Assert.Equal(message, results[1].Error.Message);
        Assert.False(results[1].Error.Remote);
        Assert.Equal(1, DecodeSInt64Result(results[2]));
        var later = await stream.CallAsync(RawClient.Call(healthy, 3, "Increment", RawClient.SInt64AtField1(1)));
        Assert.Equal(2, DecodeSInt64Result(later[3]));
    }

    [Fact]
    public async Task AnIdOfAnotherNamespaceIsRefused()
    {
        var foreign = RawClient.IdFromName(_handshake.Namespaces.Single(ns => ns.Name == "OTHER_COUNTERS").IdKey, "x");
        using var stream = _raw.Connect();
        var channel = stream.Open("COUNTERS", foreign);
        var results = await stream.CallAsync(RawClient.Call(channel, 1, "Increment", []));
        Assert.Equal("Durable Object ID is not valid for this namespace.", results[1].Error.Message);
    }

    [Fact]
    public async Task ANameThatIsNotTheIdsNameIsRefused()
    {
        using var stream = _raw.Connect();
        var channel = stream.Open("COUNTERS", CounterId("apples"), "pears"u8.ToArray());
        var results = await stream.CallAsync(RawClient.Call(channel, 1, "Increment", []));
        Assert.Equal("The channel's name is not the name the id was derived from.", results[1].Error.Message);
    }

    [Fact]
    public async Task ACallOnAChannelThatWasNeverOpenedFailsThatCallOnly()
    {
        using var stream = _raw.Connect();
        var channel = stream.Open("COUNTERS", CounterId(Guid.NewGuid().ToString()));
        var results = await stream.CallAsync(RawClient.Call(99, 1, "Increment", []), RawClient.Call(channel, 2, "Increment", RawClient.SInt64AtField1(4)));
        Assert.Equal("The call names channel 99, which is not open on this stream.", results[1].Error.Message);
        Assert.Equal(4, DecodeSInt64Result(results[2]));
    }

    [Fact]
    public async Task AnUnknownMethodFailsThatCallOnly()
    {
        using var stream = _raw.Connect();
        var channel = stream.Open("COUNTERS", CounterId(Guid.NewGuid().ToString()));
        var results = await stream.CallAsync(RawClient.Call(channel, 1, "Explode", []), RawClient.Call(channel, 2, "Increment", RawClient.SInt64AtField1(2)));
        Assert.Equal("The RPC receiver does not implement the method \"Explode\".", results[1].Error.Message);
        Assert.False(results[1].Error.Remote);
        Assert.Equal(2, DecodeSInt64Result(results[2]));
    }

    [Fact]
    public async Task MalformedArgumentsFailThatCallOnly()
    {
        using var stream = _raw.Connect();
        var channel = stream.Open("COUNTERS", CounterId(Guid.NewGuid().ToString()));
        // Field 1 as a length-delimited value claiming 100 bytes, where a varint is expected; then a bare key.
        var results = await stream.CallAsync(RawClient.Call(channel, 1, "Increment", [0x0A, 100, 1]), RawClient.Call(channel, 2, "Increment", [0xFF]),
            RawClient.Call(channel, 3, "Increment", RawClient.SInt64AtField1(3)));
        Assert.StartsWith("The arguments of \"Increment\" could not be decoded: Malformed payload", results[1].Error.Message);
        Assert.StartsWith("The arguments of \"Increment\" could not be decoded: Malformed payload", results[2].Error.Message);
        Assert.Equal(3, DecodeSInt64Result(results[3]));
    }

    [Fact]
    public async Task ArgumentsOverTheLimitFailThatCallOnlyNamingSizeAndLimit()
    {
        using var stream = _raw.Connect();
        var channel = stream.Open("COUNTERS", CounterId(Guid.NewGuid().ToString()));
        var results = await stream.CallAsync(RawClient.Call(channel, 1, "Increment", new byte[32 * 1024 * 1024 + 1]),
            RawClient.Call(channel, 2, "Increment", RawClient.SInt64AtField1(1)));
        Assert.Equal("The serialized arguments of \"Increment\" are 33,554,433 bytes, over the limit of 33,554,432 bytes (32 MiB).", results[1].Error.Message);
        Assert.Equal(1, DecodeSInt64Result(results[2]));
    }

    [Fact]
    public async Task AFrameOverTheMessageLimitEndsOnlyThatStream()
    {
        using var healthy = _raw.Connect();
        var healthyChannel = healthy.Open("COUNTERS", CounterId(Guid.NewGuid().ToString()));
        await healthy.CallAsync(RawClient.Call(healthyChannel, 1, "Increment", RawClient.SInt64AtField1(1)));
        using var stream = _raw.Connect();
        var channel = stream.Open("COUNTERS", CounterId(Guid.NewGuid().ToString()));
        var error = await Assert.ThrowsAsync<RpcException>(() => stream.CallAsync(RawClient.Call(channel, 1, "Increment", new byte[40 * 1024 * 1024])));
        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
        var results = await healthy.CallAsync(RawClient.Call(healthyChannel, 2, "Increment", RawClient.SInt64AtField1(1)));
        Assert.Equal(2, DecodeSInt64Result(results[2]));
    }

    [Fact]
    public async Task ACancelSentAsAPackedListSignalsTheCallAndACloseEndsTheChannel()
    {
        var tag = Guid.NewGuid().ToString("n");
        var cancellers = _handshake.Namespaces.Single(ns => ns.Name == "CANCELLERS").IdKey;
        using var stream = _raw.Connect();
        var channel = stream.Open("CANCELLERS", RawClient.IdFromName(cancellers, tag));
        // WaitUntilCanceled(string tag): field 1, length-delimited UTF-8.
        var args = new byte[] { 0x0A, (byte)tag.Length }.Concat(System.Text.Encoding.UTF8.GetBytes(tag)).ToArray();
        var waiting = RawClient.Call(channel, 1, "WaitUntilCanceled", args);
        waiting.Cancellable = true;
        await stream.SendAsync(new ClientFrame(), 0, waiting);
        // The server handles frames in order, so the call is registered before this cancel arrives.
        // Sent by a second frame through the generated message, which packs repeated varints.
        var cancel = new ClientFrame();
        cancel.Cancels.Add(1);
        var canceled = (await stream.SendAsync(cancel, 1))[1];
        await Canceller.ObservedFor(tag).Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(canceled.OutcomeCase == Result.OutcomeOneofCase.Error, canceled.ToString());
        Assert.True(canceled.Error.Remote);
        Assert.Contains("Canceled", canceled.Error.Type);

        // A frame's closes come after its calls: the call in the closing frame is still answered.
        var close = new ClientFrame();
        close.Closes.Add(channel);
        var last = await stream.SendAsync(close, 1, RawClient.Call(channel, 2, "Echo", args));
        Assert.Equal(Result.OutcomeOneofCase.Value, last[2].OutcomeCase);
        var after = await stream.CallAsync(RawClient.Call(channel, 3, "Echo", args));
        Assert.Equal($"The call names channel {channel}, which is not open on this stream.", after[3].Error.Message);
    }

    [Fact]
    public async Task CallsOfOneFrameToManyObjectsThatFinishAtOnceAreAnsweredTogether()
    {
        using var stream = _raw.Connect();
        var channels = Enumerable.Range(0, 64).Select(_ => stream.Open("COUNTERS", CounterId(Guid.NewGuid().ToString()))).ToList();
        await stream.CallAsync([.. channels.Select((channel, i) => RawClient.Call(channel, (ulong)(i + 1), "Increment", RawClient.SInt64AtField1(1)))]);
        var framesBefore = stream.FramesReceived;

        // Each call runs on its own object's turn; their results wait for one another and leave together.
        // A generous bound: a stall of the machine may end the wait early, and a frame is then split.
        var results = await stream.CallAsync([.. channels.Select((channel, i) => RawClient.Call(channel, (ulong)(i + 100), "Increment", RawClient.SInt64AtField1(1)))]);
        Assert.All(results.Values, result => Assert.Equal(2, DecodeSInt64Result(result)));
        Assert.InRange(stream.FramesReceived - framesBefore, 1, 8);
    }

    [Fact]
    public async Task AnObjectThatBlocksItsTurnDoesNotHoldUpTheResultsOfTheOtherCallsInItsFrame()
    {
        using var stream = _raw.Connect();
        var gateId = IdOf("GATES", Guid.NewGuid().ToString());
        var blocker = stream.Open("GATES", gateId);
        var counters = Enumerable.Range(0, 8).Select(_ => stream.Open("COUNTERS", IdOf("COUNTERS", Guid.NewGuid().ToString()))).ToList();
        var calls = counters.Select((channel, i) => RawClient.Call(channel, (ulong)(i + 2), "Increment", RawClient.SInt64AtField1(i)))
            .Prepend(RawClient.Call(blocker, 1, "Block", RawClient.SInt64AtField1(100)));

        // One frame: the blocking call first, then calls to eight other objects. The server holds a frame's
        // results until each call's first turn has run, so that they leave together; an object that
        // blocks its turn must delay the others' results by little, and never stop them.
        var answered = await stream.SendAsync(new ClientFrame(), 8, [.. calls]).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(Enumerable.Range(2, 8).Select(i => (ulong)i), answered.Keys.Order());
        Assert.All(answered.Values, result => Assert.Equal(Result.OutcomeOneofCase.Value, result.OutcomeCase));

        Gate.Open(gateId);
        var blocked = await stream.ReceiveAsync(1).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(RawClient.SInt64AtField1(100), blocked[1].Value.ToByteArray());
    }

    [Fact]
    public async Task AnObjectThatBlocksItsTurnDoesNotHoldUpResultsWhileOtherCallsKeepComing()
    {
        using var stream = _raw.Connect();
        var gateId = IdOf("GATES", Guid.NewGuid().ToString());
        var blocker = stream.Open("GATES", gateId);
        var counter = stream.Open("COUNTERS", IdOf("COUNTERS", Guid.NewGuid().ToString()));
        var other = stream.Open("COUNTERS", IdOf("COUNTERS", Guid.NewGuid().ToString()));
        await stream.WriteAsync(
            RawClient.Call(blocker, 1, "Block", RawClient.SInt64AtField1(100)),
            RawClient.Call(counter, 2, "Increment", RawClient.SInt64AtField1(1)));

        // An open-loop client: frames keep coming without waiting for answers, so holds are taken and
        // released all the time. The blocked turn's hold must still end, and call 2 be answered meanwhile.
        using var stop = new CancellationTokenSource();
        var sender = Task.Run(async () =>
        {
            for (ulong id = 1_000; !stop.IsCancellationRequested; id++)
            {
                await stream.WriteAsync(RawClient.Call(other, id, "Increment", RawClient.SInt64AtField1(1)));
            }
        });
        var answered = new HashSet<ulong>();
        while (!answered.Contains(2))
        {
            answered.UnionWith((await stream.ReceiveAsync(1).WaitAsync(TimeSpan.FromSeconds(30))).Keys);
        }
        Assert.False(sender.IsCompleted);
        await stop.CancelAsync();
        await sender;
        Gate.Open(gateId);
    }

    [Fact]
    public async Task AResultThatComesLaterIsNotHeldUpByAnotherObjectBlockingItsTurn()
    {
        using var stream = _raw.Connect();
        var waiterId = IdOf("GATES", Guid.NewGuid().ToString());
        var blockerId = IdOf("GATES", Guid.NewGuid().ToString());
        await stream.WriteAsync(RawClient.Call(stream.Open("GATES", waiterId), 1, "Wait", RawClient.SInt64AtField1(5)));
        await WaitUntilWaiting(waiterId);
        // Past the waiting call's first turn, so that the blocking call's hold is the only one.
        await Task.Delay(100);
        await stream.WriteAsync(RawClient.Call(stream.Open("GATES", blockerId), 2, "Block", RawClient.SInt64AtField1(100)));
        await WaitUntilWaiting(blockerId);

        // The waiting call is answered on a later turn, while the blocking call's first turn never ends.
        Gate.Open(waiterId);
        var answered = await stream.ReceiveAsync(1).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(RawClient.SInt64AtField1(5), answered[1].Value.ToByteArray());

        Gate.Open(blockerId);
        Assert.Equal(RawClient.SInt64AtField1(100), (await stream.ReceiveAsync(1).WaitAsync(TimeSpan.FromSeconds(30)))[2].Value.ToByteArray());
    }

    private static async Task WaitUntilWaiting(string gateId)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!Gate.Waiting.ContainsKey(gateId))
        {
            Assert.True(DateTime.UtcNow < deadline, "The call never reached its object.");
            await Task.Delay(5);
        }
    }
}
