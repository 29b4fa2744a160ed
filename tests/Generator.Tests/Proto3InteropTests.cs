using System.Reflection;
using Google.Protobuf;
using SourceGenDO.Dispatch;
using SourceGenDO.Serialization;
using static SourceGenDO.Generator.Tests.RoundTripTests;
using static SourceGenDO.Tests.Shared.ProtobufBytes;

namespace SourceGenDO.Generator.Tests;

/// <summary>
/// The generated decoders take what a proto3 library writes: repeated scalars packed (its default) as
/// well as one key per element, and empty strings and collections left out.
/// </summary>
public sealed class Proto3InteropTests
{
    private const string Source = """
        namespace Wire;

        public enum Mood { Calm = 1, Angry = -5 }

        public enum Wide : ulong { Small = 1, Huge = ulong.MaxValue }

        public sealed record Bag(List<long> Values, string Label);

        public sealed record Shape(
            string Text, byte[] Bytes, int[] Numbers, List<string> Names, Dictionary<string, int> Map,
            string? MaybeText, int[]? MaybeNumbers, List<int>? MaybeList, Bag? MaybeBag, Bag Bag);

        public class Scalars(DurableObjectState ctx) : DurableObject(ctx)
        {
            public Task<bool[]> Bools(bool[] value) => Task.FromResult(value);
            public Task<sbyte[]> SBytes(sbyte[] value) => Task.FromResult(value);
            public Task<List<short>> Shorts(List<short> value) => Task.FromResult(value);
            public Task<int[]> Ints(int[] value) => Task.FromResult(value);
            public Task<List<long>> Longs(List<long> value) => Task.FromResult(value);
            public Task<List<byte>> Octets(List<byte> value) => Task.FromResult(value);
            public Task<ushort[]> UShorts(ushort[] value) => Task.FromResult(value);
            public Task<List<uint>> UInts(List<uint> value) => Task.FromResult(value);
            public Task<ulong[]> ULongs(ulong[] value) => Task.FromResult(value);
            public Task<char[]> Chars(char[] value) => Task.FromResult(value);
            public Task<List<float>> Floats(List<float> value) => Task.FromResult(value);
            public Task<double[]> Doubles(double[] value) => Task.FromResult(value);
            public Task<DateTime[]> Times(DateTime[] value) => Task.FromResult(value);
            public Task<List<TimeSpan>> Spans(List<TimeSpan> value) => Task.FromResult(value);
            public Task<Mood[]> Moods(Mood[] value) => Task.FromResult(value);
            public Task<List<Wide>> Wides(List<Wide> value) => Task.FromResult(value);
            public Task<Bag> Bagged(Bag value) => Task.FromResult(value);
            public Task<Dictionary<string, int[]>> Map(Dictionary<string, int[]> value) => Task.FromResult(value);

            public Task<string> Absent(
                string text, byte[] bytes, int[] numbers, List<string> names, Dictionary<string, int> map,
                string? maybeText, byte[]? maybeBytes, int[]? maybeNumbers, List<string>? maybeNames,
                Dictionary<string, int>? maybeMap, Bag? maybeBag) =>
                Task.FromResult(string.Join(" ", Show(text), Show(bytes), Show(numbers), Show(names), Show(map),
                    Show(maybeText), Show(maybeBytes), Show(maybeNumbers), Show(maybeNames), Show(maybeMap), Show(maybeBag)));

            public Task<string> AbsentProperties(Shape shape) =>
                Task.FromResult(string.Join(" ", Show(shape.Text), Show(shape.Bytes), Show(shape.Numbers), Show(shape.Names), Show(shape.Map),
                    Show(shape.MaybeText), Show(shape.MaybeNumbers), Show(shape.MaybeList), Show(shape.MaybeBag), Show(shape.Bag)));

            public Task<string> Needs(int count, Bag bag) => Task.FromResult(bag.Label);

        #nullable disable
            public Task<string> Oblivious(string text, List<int> list, Bag bag) => Task.FromResult(Show(text) + " " + Show(list) + " " + Show(bag));
        #nullable restore

            public Task<int> NeedsMessage(Google.Protobuf.WellKnownTypes.Timestamp at) => Task.FromResult(at.Nanos);

            private static string Show(object? value) => value switch
            {
                null => "null",
                string text => "'" + text + "'",
                System.Collections.ICollection collection => collection.Count.ToString(System.Globalization.CultureInfo.InvariantCulture),
                _ => "object",
            };
        }
        """;

    private static readonly Lazy<Assembly> Compiled = new(() => CompileAndLoad(Source));

    private const WireFormat.WireType Varint = WireFormat.WireType.Varint;

    public static TheoryData<string> PackableMethods => new()
    {
        "Bools", "SBytes", "Shorts", "Ints", "Longs", "Octets", "UShorts", "UInts", "ULongs", "Chars",
        "Floats", "Doubles", "Times", "Spans", "Moods", "Wides",
    };

    /// <summary>
    /// The elements of each packable method, written by Google.Protobuf both packed and with a key per
    /// element, with the codec docs/wire-format.md gives the element type.
    /// </summary>
    private static (byte[] Packed, byte[] Unpacked) Elements(string method) => method switch
    {
        "Bools" => Repeated([true, false, true], FieldCodec.ForBool, Varint),
        "SBytes" => Repeated([0, -1, sbyte.MinValue, sbyte.MaxValue], FieldCodec.ForSInt32, Varint),
        "Shorts" => Repeated([0, -300, short.MinValue, short.MaxValue], FieldCodec.ForSInt32, Varint),
        "Ints" => Repeated([0, 1, -7, int.MinValue, int.MaxValue], FieldCodec.ForSInt32, Varint),
        "Longs" => Repeated([0, -1, long.MinValue, long.MaxValue], FieldCodec.ForSInt64, Varint),
        "Octets" => Repeated([0u, 200u, 255u], FieldCodec.ForUInt32, Varint),
        "UShorts" => Repeated([0u, 65535u], FieldCodec.ForUInt32, Varint),
        "UInts" => Repeated([0u, uint.MaxValue], FieldCodec.ForUInt32, Varint),
        "ULongs" => Repeated([0ul, ulong.MaxValue], FieldCodec.ForUInt64, Varint),
        "Chars" => Repeated([(uint)'a', (uint)'é', 0xFFFFu], FieldCodec.ForUInt32, Varint),
        "Floats" => Repeated([0f, -1.5f, float.MaxValue], FieldCodec.ForFloat, WireFormat.WireType.Fixed32),
        "Doubles" => Repeated([0d, -1.5, double.Epsilon], FieldCodec.ForDouble, WireFormat.WireType.Fixed64),
        "Times" => Repeated([new DateTime(2024, 5, 6, 7, 8, 9, DateTimeKind.Utc).ToBinary(), DateTime.MinValue.ToBinary()], FieldCodec.ForSInt64, Varint),
        "Spans" => Repeated([TimeSpan.FromHours(-3).Ticks, 0L], FieldCodec.ForSInt64, Varint),
        "Moods" => Repeated([1L, -5L], FieldCodec.ForSInt64, Varint),
        "Wides" => Repeated([1ul, ulong.MaxValue], FieldCodec.ForUInt64, Varint),
        _ => throw new ArgumentOutOfRangeException(nameof(method)),
    };

    [Theory]
    [MemberData(nameof(PackableMethods))]
    public async Task PackedRepeatedScalarsDecodeAsTheirUnpackedForm(string method)
    {
        var (packed, unpacked) = Elements(method);
        Assert.NotEqual(packed, unpacked);

        // Echoed: the result message has the argument message's shape, and we write one key per element.
        var result = await InvokeAsync(method, Field(1, packed));

        Assert.Equal(Convert.ToHexString(Field(1, unpacked)), Convert.ToHexString(result));
    }

    [Theory]
    [MemberData(nameof(PackableMethods))]
    public async Task UnpackedRepeatedScalarsStillDecode(string method)
    {
        var (_, unpacked) = Elements(method);
        var result = await InvokeAsync(method, Field(1, unpacked));
        Assert.Equal(Convert.ToHexString(Field(1, unpacked)), Convert.ToHexString(result));
    }

    [Fact]
    public async Task PackedAndUnpackedPartsOfOneFieldJoinInOrder()
    {
        var (packed, unpacked) = Repeated([1, 2], FieldCodec.ForSInt32, Varint);
        var (_, more) = Repeated([3], FieldCodec.ForSInt32, Varint);
        var (_, all) = Repeated([1, 2, 3, 1, 2], FieldCodec.ForSInt32, Varint);

        var result = await InvokeAsync("Ints", Field(1, [.. packed, .. more, .. packed]));

        Assert.Equal(Convert.ToHexString(Field(1, all)), Convert.ToHexString(result));
        Assert.NotEqual(unpacked, packed);
    }

    [Fact]
    public async Task PackedScalarsInsideARecordDecode()
    {
        var (packed, unpacked) = Repeated([5L, -6L], FieldCodec.ForSInt64, Varint);
        byte[] label = [0x12, 0x01, (byte)'x'];

        var result = await InvokeAsync("Bagged", Field(1, [.. Field(1, packed), .. label]));

        Assert.Equal(Convert.ToHexString(Field(1, [.. Field(1, unpacked), .. label])), Convert.ToHexString(result));
    }

    [Fact]
    public async Task PackedScalarsInsideADictionaryValueDecode()
    {
        var (packed, unpacked) = Repeated([7, -8], FieldCodec.ForSInt32, Varint);
        byte[] key = [0x0A, 0x01, (byte)'k'];

        var result = await InvokeAsync("Map", Field(1, Field(1, [.. key, .. Field(2, packed)])));

        Assert.Equal(Convert.ToHexString(Field(1, Field(1, [.. key, .. Field(2, unpacked)]))), Convert.ToHexString(result));
    }

    [Fact]
    public async Task APackedFieldCutInsideAnElementIsMalformed()
    {
        // Two floats need 8 bytes; the packed field holds 6.
        byte[] packedFloats = [0x0A, 0x06, 0, 0, 0, 0, 0, 0];

        var error = await Assert.ThrowsAsync<WireFormatException>(() => InvokeAsync("Floats", Field(1, packedFloats)));

        Assert.Equal("Malformed payload: field 1 is truncated.", error.Message);
    }

    [Fact]
    public async Task AbsentNonNullableStringsAndCollectionsArriveEmptyAndNullableOnesNull()
    {
        var result = await InvokeAsync("Absent", []);

        Assert.Equal(StringResult("'' 0 0 0 0 null null null null null null"), result);
    }

    [Fact]
    public async Task AbsentNonNullableRecordPropertiesArriveEmptyAndNullableOnesNull()
    {
        // A record property is not an argument: an absent record there stays null, as before.
        var result = await InvokeAsync("AbsentProperties", Field(1, []));

        Assert.Equal(StringResult("'' 0 0 0 0 null null null null null"), result);
    }

    [Fact]
    public async Task AnAbsentNonNullableRecordArgumentIsAnErrorNamingIt()
    {
        var count = new WireWriter();
        count.WriteInt32(1, 3);

        var error = await Assert.ThrowsAsync<WireFormatException>(() => InvokeAsync("Needs", count.ToArray()));

        Assert.Equal("Malformed payload: argument \"bag\" (field 2) is absent, and its type is not nullable.", error.Message);
    }

    [Fact]
    public async Task AnAbsentNonNullableProtobufMessageArgumentIsAnErrorNamingIt()
    {
        var error = await Assert.ThrowsAsync<WireFormatException>(() => InvokeAsync("NeedsMessage", []));

        Assert.Equal("Malformed payload: argument \"at\" (field 1) is absent, and its type is not nullable.", error.Message);
    }

    [Fact]
    public async Task WhereNullableAnnotationsAreDisabledAbsentValuesStayNull()
    {
        var result = await InvokeAsync("Oblivious", []);

        Assert.Equal(StringResult("null null null"), result);
    }

    [Fact]
    public async Task AnEmptyRecordArgumentIsNotAbsent()
    {
        var result = await InvokeAsync("Needs", Field(2, []));

        Assert.Equal(StringResult(""), result);
    }

    private static async Task<byte[]> InvokeAsync(string method, byte[] arguments)
    {
        var dispatcher = DispatcherFor(Compiled.Value, "Wire.Scalars");
        var instance = dispatcher.Create(NewState());
        return (await dispatcher.InvokeAsync(instance, method, arguments, CancellationToken.None)).ToArray();
    }

    private static byte[] StringResult(string text)
    {
        var writer = new WireWriter();
        writer.WriteString(1, text);
        return writer.ToArray();
    }
}
