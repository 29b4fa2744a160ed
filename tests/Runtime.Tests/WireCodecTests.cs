using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using SourceGenDO.Serialization;

namespace SourceGenDO.Runtime.Tests;

public sealed class WireCodecTests
{
    [Theory]
    [InlineData(0L)]
    [InlineData(-1L)]
    [InlineData(long.MinValue)]
    [InlineData(long.MaxValue)]
    [InlineData(300L)]
    public void SignedIntegersRoundTripAsZigzagVarints(long value)
    {
        var writer = new WireWriter();
        writer.WriteInt64(3, value);
        var reader = new WireReader(writer.WrittenSpan);
        Assert.True(reader.ReadTag(out var field));
        Assert.Equal(3, field);
        Assert.Equal(value, reader.ReadInt64());
        Assert.False(reader.ReadTag(out _));
    }

    [Fact]
    public void APackedFieldWrittenByGoogleProtobufReadsElementByElement()
    {
        using var buffer = new MemoryStream();
        var output = new CodedOutputStream(buffer);
        var ints = new Google.Protobuf.Collections.RepeatedField<int> { 0, -1, int.MaxValue };
        ints.WriteTo(output, FieldCodec.ForSInt32(WireFormat.MakeTag(1, WireFormat.WireType.LengthDelimited)));
        var doubles = new Google.Protobuf.Collections.RepeatedField<double> { 2.5, -0.25 };
        doubles.WriteTo(output, FieldCodec.ForDouble(WireFormat.MakeTag(2, WireFormat.WireType.LengthDelimited)));
        output.Flush();

        var reader = new WireReader(buffer.ToArray());
        Assert.True(reader.ReadTag(out var field));
        Assert.Equal((1, WireType.LengthDelimited), (field, reader.WireType));
        var packedInts = reader.ReadPacked(WireType.Varint);
        var readInts = new List<int>();
        while (!packedInts.IsAtEnd)
        {
            readInts.Add(packedInts.ReadInt32());
        }
        Assert.True(reader.ReadTag(out field));
        Assert.Equal(2, field);
        var packedDoubles = reader.ReadPacked(WireType.Fixed64);
        var readDoubles = new List<double>();
        while (!packedDoubles.IsAtEnd)
        {
            readDoubles.Add(packedDoubles.ReadDouble());
        }

        Assert.Equal([0, -1, int.MaxValue], readInts);
        Assert.Equal([2.5, -0.25], readDoubles);
        Assert.False(reader.ReadTag(out _));
    }

    [Fact]
    public void TheEncodingIsProtobufSoGoogleProtobufReadsIt()
    {
        var writer = new WireWriter();
        writer.WriteInt64(1, -5);
        writer.WriteString(2, "héllo");
        writer.WriteDouble(3, 2.5);
        var start = writer.BeginMessage(4);
        writer.WriteUInt32(1, 7);
        writer.EndMessage(start);
        var input = new CodedInputStream(writer.ToArray());
        Assert.Equal(WireFormat.MakeTag(1, WireFormat.WireType.Varint), input.ReadTag());
        Assert.Equal(-5, input.ReadSInt64());
        Assert.Equal(WireFormat.MakeTag(2, WireFormat.WireType.LengthDelimited), input.ReadTag());
        Assert.Equal("héllo", input.ReadString());
        Assert.Equal(WireFormat.MakeTag(3, WireFormat.WireType.Fixed64), input.ReadTag());
        Assert.Equal(2.5, input.ReadDouble());
        Assert.Equal(WireFormat.MakeTag(4, WireFormat.WireType.LengthDelimited), input.ReadTag());
        Assert.Equal(ByteString.CopyFrom(8, 7), input.ReadBytes());
    }

    [Fact]
    public void NestedMessagesLongerThanOneLengthByteGetTheirPrefixInserted()
    {
        var writer = new WireWriter(16);
        var outer = writer.BeginMessage(1);
        var inner = writer.BeginMessage(1);
        writer.WriteString(1, new string('x', 300));
        writer.EndMessage(inner);
        writer.WriteBool(2, true);
        writer.EndMessage(outer);
        var reader = new WireReader(writer.WrittenSpan);
        Assert.True(reader.ReadTag(out _));
        var outerReader = reader.ReadMessage();
        Assert.True(outerReader.ReadTag(out _));
        var innerReader = outerReader.ReadMessage();
        Assert.True(innerReader.ReadTag(out _));
        Assert.Equal(300, innerReader.ReadString().Length);
        Assert.True(outerReader.ReadTag(out var field));
        Assert.Equal(2, field);
        Assert.True(outerReader.ReadBool());
    }

    [Fact]
    public void ValueTypesOfTheBaseLibraryRoundTrip()
    {
        var guid = Guid.NewGuid();
        var now = DateTime.Now;
        var offset = new DateTimeOffset(2026, 1, 1, 12, 0, 0, TimeSpan.FromMinutes(330));
        var writer = new WireWriter();
        writer.WriteGuid(1, guid);
        writer.WriteDateTime(2, now);
        writer.WriteDateTimeOffset(3, offset);
        writer.WriteTimeSpan(4, TimeSpan.FromTicks(-12345));
        writer.WriteDecimal(5, -1.250m);
        writer.WriteProtobuf(6, Timestamp.FromDateTime(DateTime.UnixEpoch));
        var reader = new WireReader(writer.WrittenSpan);
        reader.ReadTag(out _);
        Assert.Equal(guid, reader.ReadGuid());
        reader.ReadTag(out _);
        var back = reader.ReadDateTime();
        Assert.Equal((now, now.Kind), (back, back.Kind));
        reader.ReadTag(out _);
        var backOffset = reader.ReadDateTimeOffset();
        Assert.Equal((offset, offset.Offset), (backOffset, backOffset.Offset));
        reader.ReadTag(out _);
        Assert.Equal(TimeSpan.FromTicks(-12345), reader.ReadTimeSpan());
        reader.ReadTag(out _);
        Assert.Equal("-1.250", reader.ReadDecimal().ToString(System.Globalization.CultureInfo.InvariantCulture));
        reader.ReadTag(out _);
        Assert.Equal(Timestamp.FromDateTime(DateTime.UnixEpoch), reader.ReadProtobuf<Timestamp>());
    }

    [Fact]
    public void GuidsUseBigEndianByteOrder()
    {
        var writer = new WireWriter();
        writer.WriteGuid(1, Guid.Parse("00112233-4455-6677-8899-aabbccddeeff"));
        Assert.Equal(Convert.FromHexString("0a10" + "00112233445566778899aabbccddeeff"), writer.ToArray());
    }

    public static TheoryData<byte[], string> Malformed => new()
    {
        { [0x08], "varint is truncated" },
        { [0x0A, 5, 1], "claims 5 bytes" },
        { [0x0B], "invalid field key" },
        { [0x00], "invalid field key" },
        { [0x08, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01], "longer than 10 bytes" },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public void MalformedInputEndsInAWireFormatExceptionThatSaysWhy(byte[] bytes, string expected)
    {
        var error = Assert.Throws<WireFormatException>(() =>
        {
            var reader = new WireReader(bytes);
            while (reader.ReadTag(out _))
            {
                reader.Skip();
            }
        });
        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void AWrongWireTypeOrOutOfRangeValueIsRefused()
    {
        var writer = new WireWriter();
        writer.WriteString(1, "text");
        writer.WriteUInt32(2, 300);
        writer.WriteBytes(3, [0xC3, 0x28]);
        Assert.Contains("expected Varint", Assert.Throws<WireFormatException>(() =>
        {
            var reader = new WireReader(writer.WrittenSpan);
            reader.ReadTag(out _);
            reader.ReadInt64();
        }).Message);
        Assert.Contains("out of range for byte", Assert.Throws<WireFormatException>(() =>
        {
            var reader = new WireReader(writer.WrittenSpan);
            reader.ReadTag(out _);
            reader.Skip();
            reader.ReadTag(out _);
            reader.ReadByte();
        }).Message);
        Assert.Contains("not valid UTF-8", Assert.Throws<WireFormatException>(() =>
        {
            var reader = new WireReader(writer.WrittenSpan);
            for (var i = 0; i < 2; i++)
            {
                reader.ReadTag(out _);
                reader.Skip();
            }
            reader.ReadTag(out _);
            reader.ReadString();
        }).Message);
    }

    [Fact]
    public void NestingDeeperThanTheLimitIsRefused()
    {
        // Built by hand from the inside out: the writer itself refuses to nest this deep.
        byte[] bytes = [];
        for (var i = 0; i < WireReader.MaxDepth + 2; i++)
        {
            var wrapper = new WireWriter();
            wrapper.WriteBytes(1, bytes);
            bytes = wrapper.ToArray();
        }
        Assert.Contains("nest deeper", Assert.Throws<WireFormatException>(() =>
        {
            var reader = new WireReader(bytes);
            Descend(reader);
        }).Message);

        static void Descend(WireReader reader)
        {
            if (reader.ReadTag(out _))
            {
                Descend(reader.ReadMessage());
            }
        }
    }

    [Fact]
    public void WritingDeeperThanTheReaderAcceptsFailsInsteadOfOverflowingTheStack()
    {
        var writer = new WireWriter();
        var error = Assert.Throws<InvalidOperationException>(() =>
        {
            for (var i = 0; i <= WireReader.MaxDepth; i++)
            {
                writer.BeginMessage(1);
            }
        });
        Assert.Contains("cycle", error.Message);
    }
}
