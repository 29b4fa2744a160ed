using Google.Protobuf.WellKnownTypes;

namespace SourceGenDO.EndToEnd.Tests;

/// <summary>Every supported type survives the trip to an object and back through generated code.</summary>
public sealed class SerializationTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private EchoStub Echo => fixture.Client.GetNamespace<EchoStub>("ECHOES").GetByName("echo");

    [Fact]
    public async Task EverySupportedTypeRoundTrips()
    {
        var sent = new Everything(
            true, 200, -100, -30_000, 60_000, -2_000_000_000, 4_000_000_000, long.MinValue, ulong.MaxValue,
            'ß', 1.5f, Math.PI, 79_228_162_514_264_337_593_543_950.335m, "text ✓", [1, 2, 3], Guid.NewGuid(),
            new DateTime(2026, 11, 27, 1, 2, 3, DateTimeKind.Utc), new DateTimeOffset(2026, 11, 27, 1, 2, 3, TimeSpan.FromHours(-5)),
            TimeSpan.FromMilliseconds(-1234.5), Color.Blue, 42, ["a", null, ""], [3, -2, 1],
            new Dictionary<string, Point?> { ["origin"] = new(0, 0), ["none"] = null }, new Point(7, -8), [new(1, 2)]);
        var back = await Echo.Everything(sent);
        Assert.Equal(sent with { Bytes = null, Names = null, Numbers = null, Map = null, Points = null },
            back with { Bytes = null, Names = null, Numbers = null, Map = null, Points = null });
        Assert.Equal(sent.Bytes, back.Bytes);
        Assert.Equal(sent.Names, back.Names);
        Assert.Equal(sent.Numbers, back.Numbers);
        Assert.Equal(sent.Map, back.Map);
        Assert.Equal(sent.Points, back.Points);
        Assert.Equal(sent.DateTime.Kind, back.DateTime.Kind);
        Assert.Equal(sent.DateTimeOffset.Offset, back.DateTimeOffset.Offset);
    }

    [Fact]
    public async Task NullsAndEmptiesStayApart()
    {
        Assert.Null(await Echo.Text(null));
        Assert.Equal("", await Echo.Text(""));
        Assert.Null(await Echo.Bytes(null));
        Assert.Empty((await Echo.Bytes([]))!);
        Assert.Null(await Echo.MaybeInt(null));
        Assert.Equal(0, await Echo.MaybeInt(0));
        Assert.Null(await Echo.Nested(null));
        Assert.Empty((await Echo.Nested([]))!);
        var empty = new Everything(default, default, default, default, default, default, default, default, default,
            default, default, default, default, null, null, default, default, default, default, default, null,
            null, null, null, null, null);
        Assert.Equal(empty, await Echo.Everything(empty));
    }

    private WireShapesStub Shapes => fixture.Client.GetNamespace<WireShapesStub>("WIRE_SHAPES").GetByName("shapes");

    [Fact]
    public async Task NullResultsOfTypesThatAdmitNoNullArriveEmptyAndNullableOnesNull()
    {
        Assert.Equal("", await Shapes.NullText());
        Assert.Empty(await Shapes.NullBytes());
        Assert.Empty(await Shapes.NullArray());
        Assert.Empty(await Shapes.NullList());
        Assert.Empty(await Shapes.NullMap());
        Assert.Null(await Shapes.NullableText());
        Assert.Null(await Shapes.NullableList());
    }

    [Fact]
    public async Task NullArgumentsOfTypesThatAdmitNoNullArriveEmptyAndNullableOnesNull()
    {
        var described = await Shapes.Describe(null!, null!, null!, null!, null!, null, null, new Shapes(null!, null!, null!, null!, null, null));

        Assert.Equal("'' 0 0 0 0 null null | '' 0 0 0 null null", described);
    }

    [Fact]
    public async Task ANullRecordArgumentOfATypeThatAdmitsNoNullFailsTheCallNamingIt()
    {
        var error = await Assert.ThrowsAnyAsync<DurableObjectException>(() => Shapes.Scale(2, null!));

        Assert.Equal(
            "The arguments of \"Scale\" could not be decoded: Malformed payload: argument \"point\" (field 2) is absent, and its type is not nullable.",
            error.Message);
        Assert.False(error.Remote);
        Assert.Equal(8, await Shapes.Scale(2, new Point(4, 0)));
    }

    [Fact]
    public async Task DecimalsKeepTheirScaleAndEnumsTheirValue()
    {
        Assert.Equal("1.10", (await Echo.Decimal(1.10m)).ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(Color.Blue, await Echo.Color(Color.Blue));
        Assert.Equal((Color)77, await Echo.Color((Color)77));
    }

    [Fact]
    public async Task RecursiveRecordsClassesAndNestedCollectionsRoundTrip()
    {
        var chain = new Node(1, new Node(2, new Node(3, null)));
        Assert.Equal(chain, await Echo.Linked(chain));
        var settings = new Settings { Title = "t", Version = 3, Points = [new(1, 1)], Limits = new() { ["a"] = 1 } };
        var back = await Echo.Settings(settings);
        Assert.Equal((settings.Title, settings.Version), (back.Title, back.Version));
        Assert.Equal(settings.Points, back.Points);
        Assert.Equal(settings.Limits, back.Limits);
        var nested = new Dictionary<string, List<int>> { ["x"] = [1, 2], ["y"] = [] };
        Assert.Equal(nested, await Echo.Nested(nested));
        List<List<Point?>?> lists = [[new Point(1, 2), null], null, []];
        Assert.Equal(lists, await Echo.ListOfLists(lists));
    }

    [Fact]
    public async Task ProtobufMessagesTravelAsThemselves()
    {
        var stamp = Timestamp.FromDateTime(new DateTime(2026, 1, 2, 3, 4, 5, DateTimeKind.Utc));
        Assert.Equal(stamp, await Echo.Protobuf(stamp));
    }

    [Fact]
    public async Task DefaultParameterValuesAndVoidMethodsWork()
    {
        Assert.Equal(6, await Echo.Sum(1));
        Assert.Equal(10, await Echo.Sum(1, c: 7));
        await Echo.Nothing();
    }

    [Fact]
    public async Task PayloadsOverThirtyTwoMebibytesFailThatCallWithTheSizeAndTheLimit()
    {
        var stub = fixture.Client.GetNamespace<EchoStub>("ECHOES").GetByName(ServerFixture.UniqueName());
        var tooBig = await Assert.ThrowsAsync<DurableObjectException>(() => stub.Length(new byte[33 * 1024 * 1024]));
        Assert.Contains("34,603,0", tooBig.Message);
        Assert.Contains("33,554,432", tooBig.Message);
        var resultTooBig = await Assert.ThrowsAsync<DurableObjectException>(() => stub.Allocate(33 * 1024 * 1024));
        Assert.Contains("33,554,432", resultTooBig.Message);
        Assert.Equal(1024 * 1024, await stub.Length(new byte[1024 * 1024]));
    }
}
