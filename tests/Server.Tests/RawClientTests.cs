using Grpc.Core;
using SourceGenDO.TestObjects;
using SourceGenDO.Wire;

namespace SourceGenDO.Server.Tests;

/// <summary>What a client that only knows the wire contract gets, good input and bad.</summary>
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

    private string CounterId(string name) =>
        RawClient.IdFromName(_handshake.Namespaces.Single(ns => ns.Name == "COUNTERS").IdKey, name);

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
        using var stream = _raw.Open("COUNTERS", CounterId(name), System.Text.Encoding.UTF8.GetBytes(name));
        var results = await RawClient.CallAsync(stream, RawClient.Call(1, "Increment", RawClient.SInt64AtField1(5)));
        Assert.Equal(5, DecodeSInt64Result(results[1]));

        await using var client = await _server.ConnectAsync();
        Assert.Equal(5, await client.GetNamespace<CounterStub>("COUNTERS").GetByName(name).Get());
    }

    [Fact]
    public async Task CallsPackedInOneFrameStartInTheirOrder()
    {
        using var stream = _raw.Open("COUNTERS", CounterId(Guid.NewGuid().ToString()));
        var calls = Enumerable.Range(1, 100).Select(i => RawClient.Call((ulong)i, "Increment", RawClient.SInt64AtField1(1))).ToArray();
        var results = await RawClient.CallAsync(stream, calls);
        for (ulong i = 1; i <= 100; i++)
        {
            Assert.Equal((long)i, DecodeSInt64Result(results[i]));
        }
    }

    [Fact]
    public async Task UnknownNamespaceEndsThatStreamWithNotFoundWhileOthersKeepWorking()
    {
        using var healthy = _raw.Open("COUNTERS", CounterId("healthy"));
        using var stream = _raw.Open("NO_SUCH_NAMESPACE", CounterId("x"));
        var error = await Assert.ThrowsAsync<RpcException>(() => RawClient.CallAsync(stream, RawClient.Call(1, "Increment", [])));
        Assert.Equal(StatusCode.NotFound, error.StatusCode);
        Assert.Equal("The server has no namespace \"NO_SUCH_NAMESPACE\".", error.Status.Detail);
        await AssertStillWorks(healthy);
    }

    [Theory]
    [InlineData("not-hex", "Invalid Durable Object ID: must be 64 hex digits")]
    [InlineData("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "Durable Object ID is not valid for this namespace.")]
    public async Task InvalidIdsEndThatStreamWithInvalidArgument(string id, string message)
    {
        using var healthy = _raw.Open("COUNTERS", CounterId("healthy"));
        using var stream = _raw.Open("COUNTERS", id);
        var error = await Assert.ThrowsAsync<RpcException>(() => RawClient.CallAsync(stream, RawClient.Call(1, "Increment", [])));
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Equal(message, error.Status.Detail);
        await AssertStillWorks(healthy);
    }

    [Fact]
    public async Task AnIdOfAnotherNamespaceIsRefused()
    {
        var foreign = RawClient.IdFromName(_handshake.Namespaces.Single(ns => ns.Name == "OTHER_COUNTERS").IdKey, "x");
        using var stream = _raw.Open("COUNTERS", foreign);
        var error = await Assert.ThrowsAsync<RpcException>(() => RawClient.CallAsync(stream, RawClient.Call(1, "Increment", [])));
        Assert.Equal("Durable Object ID is not valid for this namespace.", error.Status.Detail);
    }

    [Fact]
    public async Task ANameThatIsNotTheIdsNameIsRefused()
    {
        using var stream = _raw.Open("COUNTERS", CounterId("apples"), "pears"u8.ToArray());
        var error = await Assert.ThrowsAsync<RpcException>(() => RawClient.CallAsync(stream, RawClient.Call(1, "Increment", [])));
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains("not the name the id was derived from", error.Status.Detail);
    }

    [Fact]
    public async Task MissingHeadersAreRefusedWithWhatIsMissing()
    {
        using var noNamespace = _raw.Open(null, CounterId("x"));
        var error = await Assert.ThrowsAsync<RpcException>(() => RawClient.CallAsync(noNamespace, RawClient.Call(1, "Increment", [])));
        Assert.Contains("sgdo-namespace", error.Status.Detail);
        using var noId = _raw.Open("COUNTERS", null);
        error = await Assert.ThrowsAsync<RpcException>(() => RawClient.CallAsync(noId, RawClient.Call(1, "Increment", [])));
        Assert.Contains("sgdo-id", error.Status.Detail);
    }

    [Fact]
    public async Task AnUnknownMethodFailsThatCallOnly()
    {
        using var stream = _raw.Open("COUNTERS", CounterId(Guid.NewGuid().ToString()));
        var results = await RawClient.CallAsync(stream, RawClient.Call(1, "Explode", []), RawClient.Call(2, "Increment", RawClient.SInt64AtField1(2)));
        Assert.Equal("The RPC receiver does not implement the method \"Explode\".", results[1].Error.Message);
        Assert.False(results[1].Error.Remote);
        Assert.Equal(2, DecodeSInt64Result(results[2]));
    }

    [Fact]
    public async Task MalformedArgumentsFailThatCallOnly()
    {
        using var stream = _raw.Open("COUNTERS", CounterId(Guid.NewGuid().ToString()));
        // Field 1 as a length-delimited value claiming 100 bytes, where a varint is expected.
        var results = await RawClient.CallAsync(stream, RawClient.Call(1, "Increment", [0x0A, 100, 1]), RawClient.Call(2, "Increment", [0xFF]),
            RawClient.Call(3, "Increment", RawClient.SInt64AtField1(3)));
        Assert.StartsWith("The arguments of \"Increment\" could not be decoded: Malformed payload", results[1].Error.Message);
        Assert.StartsWith("The arguments of \"Increment\" could not be decoded: Malformed payload", results[2].Error.Message);
        Assert.Equal(3, DecodeSInt64Result(results[3]));
    }

    [Fact]
    public async Task ArgumentsOverTheLimitFailThatCallOnlyNamingSizeAndLimit()
    {
        using var stream = _raw.Open("COUNTERS", CounterId(Guid.NewGuid().ToString()));
        var results = await RawClient.CallAsync(stream, RawClient.Call(1, "Increment", new byte[32 * 1024 * 1024 + 1]),
            RawClient.Call(2, "Increment", RawClient.SInt64AtField1(1)));
        Assert.Equal("The serialized arguments of \"Increment\" are 33,554,433 bytes, over the limit of 33,554,432 bytes (32 MiB).", results[1].Error.Message);
        Assert.Equal(1, DecodeSInt64Result(results[2]));
    }

    [Fact]
    public async Task AFrameOverTheMessageLimitEndsOnlyThatStream()
    {
        using var healthy = _raw.Open("COUNTERS", CounterId("healthy"));
        using var stream = _raw.Open("COUNTERS", CounterId(Guid.NewGuid().ToString()));
        var error = await Assert.ThrowsAsync<RpcException>(() => RawClient.CallAsync(stream, RawClient.Call(1, "Increment", new byte[40 * 1024 * 1024])));
        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
        await AssertStillWorks(healthy);
    }

    private static async Task AssertStillWorks(AsyncDuplexStreamingCall<ClientFrame, ServerFrame> stream)
    {
        var id = (ulong)Random.Shared.NextInt64(1, long.MaxValue);
        var results = await RawClient.CallAsync(stream, RawClient.Call(id, "Increment", RawClient.SInt64AtField1(1)));
        Assert.True(DecodeSInt64Result(results[id]) >= 1);
    }
}
