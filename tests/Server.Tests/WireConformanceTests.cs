using Google.Protobuf;
using SourceGenDO.TestObjects;
using SourceGenDO.Wire;
using static SourceGenDO.Tests.Shared.ProtobufBytes;

namespace SourceGenDO.Server.Tests;

/// <summary>
/// Real calls with arguments as a proto3 library writes them (packed repeated scalars, empty strings
/// and collections left out), and the behaviours docs/wire-format.md states for clients in other
/// languages.
/// </summary>
public sealed class WireConformanceTests : IAsyncLifetime
{
    private const WireFormat.WireType Varint = WireFormat.WireType.Varint;

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

    [Fact]
    public async Task PackedRepeatedScalarsOfEveryEncodingDecodeInARealCall()
    {
        var time = new DateTime(2024, 5, 6, 7, 8, 9, DateTimeKind.Utc).ToBinary();
        // Packables: one repeated field per property, each a nested message whose field 1 repeats.
        var fields = new (byte[] Packed, byte[] Unpacked)[]
        {
            Repeated([true, false], FieldCodec.ForBool, Varint),
            Repeated([0, -1, int.MaxValue], FieldCodec.ForSInt32, Varint),
            Repeated([long.MinValue, 5L], FieldCodec.ForSInt64, Varint),
            Repeated([0u, 255u], FieldCodec.ForUInt32, Varint),
            Repeated([uint.MaxValue], FieldCodec.ForUInt32, Varint),
            Repeated([ulong.MaxValue, 1ul], FieldCodec.ForUInt64, Varint),
            Repeated([(uint)'x', (uint)'é'], FieldCodec.ForUInt32, Varint),
            Repeated([1.5f, -0f], FieldCodec.ForFloat, WireFormat.WireType.Fixed32),
            Repeated([2.25, double.MaxValue], FieldCodec.ForDouble, WireFormat.WireType.Fixed64),
            Repeated([time], FieldCodec.ForSInt64, Varint),
            Repeated([TimeSpan.FromMinutes(-90).Ticks], FieldCodec.ForSInt64, Varint),
            Repeated([1L, -3L], FieldCodec.ForSInt64, Varint),
        };
        var packed = Field(1, [.. fields.SelectMany((f, i) => Field(i + 1, f.Packed))]);
        var unpacked = Field(1, [.. fields.SelectMany((f, i) => Field(i + 1, f.Unpacked))]);
        Assert.NotEqual(packed, unpacked);

        var result = await CallAsync("EchoPackables", packed);

        // Echoed as we write repeated scalars: one key per element, which Google.Protobuf writes unpacked too.
        Assert.Equal(Convert.ToHexString(unpacked), Convert.ToHexString(Value(result)));
    }

    [Fact]
    public async Task PackedScalarsInArgumentsAndDictionaryValuesDecodeInARealCall()
    {
        var ints = Repeated([1, 2, 3], FieldCodec.ForSInt32, Varint).Packed;
        var longs = Repeated([10L, -20L], FieldCodec.ForSInt64, Varint).Packed;
        var weights = Repeated([0.5, 2.5], FieldCodec.ForDouble, WireFormat.WireType.Fixed64).Packed;
        byte[] key = [0x0A, 0x01, (byte)'w'];
        byte[] args = [.. Field(1, ints), .. Field(2, longs), .. Field(3, Field(1, [.. key, .. Field(2, weights)]))];

        var result = await CallAsync("Sum", args);

        Assert.Equal(1 + 2 + 3 + 10 - 20 + 3, SInt64(result));
    }

    [Fact]
    public async Task AbsentStringsAndCollectionsArriveEmptyAndNullableOnesNullInARealCall()
    {
        // Only the record argument is sent, as an empty message: a proto3 writer leaves the rest out.
        var result = await CallAsync("Describe", Field(8, []));

        Assert.Equal("'' 0 0 0 0 null null | '' 0 0 0 null null", Text(result));
    }

    [Fact]
    public async Task AnAbsentRecordArgumentFailsTheCallNamingTheArgument()
    {
        var result = await CallAsync("Scale", [0x08, 0x04]);

        Assert.Equal(Result.OutcomeOneofCase.Error, result.OutcomeCase);
        Assert.Equal(
            "The arguments of \"Scale\" could not be decoded: Malformed payload: argument \"point\" (field 2) is absent, and its type is not nullable.",
            result.Error.Message);
        Assert.Equal("SourceGenDO.DurableObjectException", result.Error.Type);
        Assert.False(result.Error.Remote);
    }

    [Fact]
    public async Task AnAbsentScalarArgumentIsZeroNotTheParameterDefault()
    {
        // Echo.Sum(int a, int b = 2, int c = 3): defaults are filled in by the .NET stub, not the server.
        var result = await CallAsync("Sum", [], "ECHOES");

        Assert.Equal(0, SInt64(result));
    }

    [Fact]
    public async Task ACancelledCallIsAnsweredWithTheErrorTheObjectThrew()
    {
        var tag = Guid.NewGuid().ToString("n");
        using var stream = _raw.Connect();
        var channel = stream.Open("CANCELLERS", IdOf("CANCELLERS", tag));
        var waiting = RawClient.Call(channel, 1, "WaitUntilCanceled", [0x0A, (byte)tag.Length, .. System.Text.Encoding.UTF8.GetBytes(tag)]);
        waiting.Cancellable = true;
        await stream.SendAsync(new ClientFrame(), 0, waiting);
        var cancel = new ClientFrame();
        cancel.Cancels.Add(1);

        var canceled = (await stream.SendAsync(cancel, 1))[1];

        // Canceller awaits Task.Delay(Timeout.Infinite, token) and rethrows what it throws.
        Assert.Equal(Result.OutcomeOneofCase.Error, canceled.OutcomeCase);
        Assert.Equal("System.Threading.Tasks.TaskCanceledException", canceled.Error.Type);
        Assert.Equal("A task was canceled.", canceled.Error.Message);
        Assert.True(canceled.Error.Remote);
        Assert.False(canceled.Error.Retryable);
    }

    [Fact]
    public async Task AChannelNumberCanBeReusedForAnotherObjectAfterItsClose()
    {
        using var stream = _raw.Connect();
        var first = new ClientFrame();
        first.Opens.Add(new OpenChannel { Channel = 7, Namespace = "COUNTERS", Id = IdOf("COUNTERS", Guid.NewGuid().ToString()) });
        var firstResults = await stream.SendAsync(first, 2, RawClient.Call(7, 1, "Increment", RawClient.SInt64AtField1(5)), RawClient.Call(7, 2, "Increment", RawClient.SInt64AtField1(5)));
        Assert.Equal(10, Math.Max(SInt64(firstResults[1]), SInt64(firstResults[2])));
        var close = new ClientFrame();
        close.Closes.Add(7);
        await stream.SendAsync(close, 0);

        var reopen = new ClientFrame();
        reopen.Opens.Add(new OpenChannel { Channel = 7, Namespace = "COUNTERS", Id = IdOf("COUNTERS", Guid.NewGuid().ToString()) });
        var results = await stream.SendAsync(reopen, 1, RawClient.Call(7, 3, "Increment", RawClient.SInt64AtField1(1)));

        // A fresh counter: the number now names the second object.
        Assert.Equal(1, SInt64(results[3]));
        Assert.Empty(stream.Closed);
    }

    [Fact]
    public async Task ACallOnANeverOpenedChannelGetsAnErrorResultButNoClosedEntry()
    {
        using var stream = _raw.Connect();
        var good = stream.Open("COUNTERS", IdOf("COUNTERS", Guid.NewGuid().ToString()));
        // The good call's result comes after the refusal's, in the same frame or a later one.
        var results = await stream.CallAsync(RawClient.Call(42, 1, "Increment", []), RawClient.Call(good, 2, "Increment", RawClient.SInt64AtField1(1)));

        Assert.Equal("The call names channel 42, which is not open on this stream.", results[1].Error.Message);
        Assert.Equal("SourceGenDO.DurableObjectException", results[1].Error.Type);
        Assert.Empty(stream.Closed);
    }

    private async Task<Result> CallAsync(string method, byte[] args, string @namespace = "WIRE_SHAPES")
    {
        using var stream = _raw.Connect();
        var channel = stream.Open(@namespace, IdOf(@namespace, Guid.NewGuid().ToString()));
        return (await stream.CallAsync(RawClient.Call(channel, 1, method, args)))[1];
    }

    private static byte[] Value(Result result)
    {
        Assert.True(result.OutcomeCase == Result.OutcomeOneofCase.Value, result.ToString());
        return result.Value.ToByteArray();
    }

    /// <summary>The sint64 at field 1 of a result, read by Google.Protobuf.</summary>
    private static long SInt64(Result result)
    {
        var input = new CodedInputStream(Value(result));
        var tag = input.ReadTag();
        if (tag == 0)
        {
            return 0;
        }
        Assert.Equal(WireFormat.MakeTag(1, Varint), tag);
        return input.ReadSInt64();
    }

    /// <summary>The string at field 1 of a result, read by Google.Protobuf.</summary>
    private static string Text(Result result)
    {
        var input = new CodedInputStream(Value(result));
        Assert.Equal(WireFormat.MakeTag(1, WireFormat.WireType.LengthDelimited), input.ReadTag());
        return input.ReadString();
    }
}
