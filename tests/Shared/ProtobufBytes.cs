using Google.Protobuf;
using Google.Protobuf.Collections;

namespace SourceGenDO.Tests.Shared;

/// <summary>Bytes as Google.Protobuf writes them: what a client built from the .proto in another language sends.</summary>
internal static class ProtobufBytes
{
    /// <summary>A message whose field 1 repeats <paramref name="values"/>, written packed and with a key per element.</summary>
    public static (byte[] Packed, byte[] Unpacked) Repeated<T>(T[] values, Func<uint, FieldCodec<T>> codec, WireFormat.WireType elementWireType)
    {
        var field = new RepeatedField<T>();
        field.AddRange(values);
        return (Write(field, codec(WireFormat.MakeTag(1, WireFormat.WireType.LengthDelimited))), Write(field, codec(WireFormat.MakeTag(1, elementWireType))));
    }

    /// <summary><paramref name="message"/> as the nested message at field <paramref name="number"/>.</summary>
    public static byte[] Field(int number, byte[] message)
    {
        using var buffer = new MemoryStream();
        var output = new CodedOutputStream(buffer);
        output.WriteTag(number, WireFormat.WireType.LengthDelimited);
        output.WriteBytes(ByteString.CopyFrom(message));
        output.Flush();
        return buffer.ToArray();
    }

    private static byte[] Write<T>(RepeatedField<T> field, FieldCodec<T> codec)
    {
        using var buffer = new MemoryStream();
        var output = new CodedOutputStream(buffer);
        field.WriteTo(output, codec);
        output.Flush();
        return buffer.ToArray();
    }
}
