namespace SourceGenDO.Serialization;

/// <summary>The built-in codecs of stored scalars: each writes the value as field 1, as a call's result is written.</summary>
internal static class ScalarCodecs
{
    public static void RegisterAll()
    {
        Both(static (w, v) => w.WriteBool(1, v), static (ref WireReader r) => r.ReadBool());
        Both(static (w, v) => w.WriteInt32(1, v), static (ref WireReader r) => r.ReadInt32());
        Both(static (w, v) => w.WriteInt64(1, v), static (ref WireReader r) => r.ReadInt64());
        Both(static (w, v) => w.WriteUInt32(1, v), static (ref WireReader r) => r.ReadUInt32());
        Both(static (w, v) => w.WriteUInt64(1, v), static (ref WireReader r) => r.ReadUInt64());
        Both(static (w, v) => w.WriteInt32(1, v), static (ref WireReader r) => r.ReadInt16());
        Both(static (w, v) => w.WriteUInt32(1, v), static (ref WireReader r) => r.ReadUInt16());
        Both(static (w, v) => w.WriteInt32(1, v), static (ref WireReader r) => r.ReadSByte());
        Both(static (w, v) => w.WriteUInt32(1, v), static (ref WireReader r) => r.ReadByte());
        Both(static (w, v) => w.WriteChar(1, v), static (ref WireReader r) => r.ReadChar());
        Both(static (w, v) => w.WriteSingle(1, v), static (ref WireReader r) => r.ReadSingle());
        Both(static (w, v) => w.WriteDouble(1, v), static (ref WireReader r) => r.ReadDouble());
        Both(static (w, v) => w.WriteDecimal(1, v), static (ref WireReader r) => r.ReadDecimal());
        Both(static (w, v) => w.WriteGuid(1, v), static (ref WireReader r) => r.ReadGuid());
        Both(static (w, v) => w.WriteDateTime(1, v), static (ref WireReader r) => r.ReadDateTime());
        Both(static (w, v) => w.WriteDateTimeOffset(1, v), static (ref WireReader r) => r.ReadDateTimeOffset());
        Both(static (w, v) => w.WriteTimeSpan(1, v), static (ref WireReader r) => r.ReadTimeSpan());
        // Reference types: an absent field is null, so string and string? share one codec.
        ValueCodecs.Register(new ScalarCodec<string>(static (w, v) => w.WriteString(1, v), static (ref WireReader r) => r.ReadString()));
        ValueCodecs.Register(new ScalarCodec<byte[]>(static (w, v) => w.WriteBytes(1, v), static (ref WireReader r) => r.ReadBytes()));
    }

    private static void Both<T>(Action<WireWriter, T> write, ReadScalar<T> read) where T : struct
    {
        ValueCodecs.Register(new ScalarCodec<T>(write, read));
        ValueCodecs.Register(new ScalarCodec<T?>(
            (w, v) =>
            {
                if (v is { } value)
                {
                    write(w, value);
                }
            },
            (ref WireReader r) => read(ref r)));
    }

    internal delegate T ReadScalar<T>(ref WireReader reader);

    private sealed class ScalarCodec<T>(Action<WireWriter, T> write, ReadScalar<T> read) : ValueCodec<T>
    {
        public override byte[] Encode(T value)
        {
            var writer = WireWriter.Rent();
            write(writer, value);
            return writer.TakeBytes();
        }

        public override T Decode(ReadOnlySpan<byte> encoded)
        {
            T value = default!;
            var reader = new WireReader(encoded);
            while (reader.ReadTag(out var field))
            {
                if (field == 1)
                {
                    value = read(ref reader);
                }
                else
                {
                    reader.Skip();
                }
            }
            return value;
        }
    }
}
