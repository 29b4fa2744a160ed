using System.Buffers.Binary;
using System.ComponentModel;
using System.Globalization;
using System.Text;
using Google.Protobuf;

namespace SourceGenDO.Serialization;

/// <summary>
/// Reads the encoding <see cref="WireWriter"/> writes. Generated dispatchers and stubs call it; user
/// code does not need to. Every malformed input ends in a <see cref="WireFormatException"/> that says
/// what was wrong, never in an out-of-range read.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public ref struct WireReader
{
    /// <summary>How deep messages may nest before the payload is refused (guards the stack).</summary>
    public const int MaxDepth = 64;

    private readonly ReadOnlySpan<byte> _data;
    private readonly int _depth;
    private int _position;
    private WireType _wireType;
    private int _field;

    /// <summary>Creates a reader over one encoded message.</summary>
    public WireReader(ReadOnlySpan<byte> data) : this(data, 0)
    {
    }

    private WireReader(ReadOnlySpan<byte> data, int depth)
    {
        _data = data;
        _depth = depth;
        _position = 0;
        _wireType = default;
        _field = 0;
    }

    /// <summary>The wire type of the field whose key was read last.</summary>
    public readonly WireType WireType => _wireType;

    /// <summary>True when every byte of the message has been read.</summary>
    public readonly bool IsAtEnd => _position >= _data.Length;

    /// <summary>
    /// Reads a length-delimited field and returns where its bytes lie in this reader's data, so a caller
    /// that owns the underlying array can slice it without copying.
    /// </summary>
    public (int Offset, int Length) ReadLengthDelimitedRange()
    {
        Expect(WireType.LengthDelimited);
        var length = ReadLength();
        var offset = _position;
        _position += length;
        return (offset, length);
    }

    /// <summary>Reads a bare varint, as the elements of a packed repeated field are written.</summary>
    public ulong ReadRawVarint() => ReadVarint();

    /// <summary>
    /// Reads a packed repeated field (the form proto3 writes repeated scalars in by default) and returns a
    /// reader over its elements: read each with the element's method until <see cref="IsAtEnd"/>. Call it
    /// when <see cref="WireType"/> is <see cref="WireType.LengthDelimited"/> where an element of
    /// <paramref name="elementType"/> is expected.
    /// </summary>
    public WireReader ReadPacked(WireType elementType)
    {
        var bytes = LengthDelimited();
        // The elements carry no keys: the returned reader acts as if each had this field's key.
        return new WireReader(bytes, _depth) { _wireType = elementType, _field = _field };
    }

    /// <summary>
    /// The error for an absent argument whose type is a non-nullable record or class, which has no empty
    /// value to stand in for it.
    /// </summary>
    public static WireFormatException AbsentArgument(string name, int field) =>
        new($"Malformed payload: argument \"{name}\" (field {field}) is absent, and its type is not nullable.");

    /// <summary>Reads the next field key; false at the end of the message.</summary>
    public bool ReadTag(out int field)
    {
        if (_position >= _data.Length)
        {
            field = 0;
            return false;
        }
        var key = ReadVarint();
        var wireType = (WireType)(key & 7);
        var number = key >> 3;
        if (number is 0 or > int.MaxValue >> 3 || wireType is not (WireType.Varint or WireType.Fixed64 or WireType.LengthDelimited or WireType.Fixed32))
        {
            throw new WireFormatException($"Malformed payload: invalid field key {key} at byte {_position}.");
        }
        _wireType = wireType;
        _field = (int)number;
        field = _field;
        return true;
    }

    /// <summary>Skips the value of the field whose key was read last (an unknown field).</summary>
    public void Skip()
    {
        switch (_wireType)
        {
            case WireType.Varint:
                ReadVarint();
                break;
            case WireType.Fixed64:
                Take(8);
                break;
            case WireType.Fixed32:
                Take(4);
                break;
            default:
                Take(ReadLength());
                break;
        }
    }

    /// <summary>Reads a varint 0 or 1 as a <see cref="bool"/>.</summary>
    public bool ReadBool() => Varint() != 0;

    /// <summary>Reads a zigzag varint (protobuf sint32).</summary>
    public int ReadInt32()
    {
        var raw = Varint();
        if (raw > uint.MaxValue)
        {
            throw OutOfRange("int");
        }
        var value = (uint)raw;
        return (int)(value >> 1) ^ -(int)(value & 1);
    }

    /// <summary>Reads a zigzag varint (protobuf sint64).</summary>
    public long ReadInt64()
    {
        var value = Varint();
        return (long)(value >> 1) ^ -(long)(value & 1);
    }

    /// <summary>Reads a varint (protobuf uint32).</summary>
    public uint ReadUInt32()
    {
        var value = Varint();
        return value <= uint.MaxValue ? (uint)value : throw OutOfRange("uint");
    }

    /// <summary>Reads a varint (protobuf uint64).</summary>
    public ulong ReadUInt64() => Varint();

    /// <summary>Reads a zigzag varint that must fit a <see cref="short"/>.</summary>
    public short ReadInt16()
    {
        var value = ReadInt32();
        return value is >= short.MinValue and <= short.MaxValue ? (short)value : throw OutOfRange("short");
    }

    /// <summary>Reads a varint that must fit a <see cref="ushort"/>.</summary>
    public ushort ReadUInt16()
    {
        var value = ReadUInt32();
        return value <= ushort.MaxValue ? (ushort)value : throw OutOfRange("ushort");
    }

    /// <summary>Reads a zigzag varint that must fit an <see cref="sbyte"/>.</summary>
    public sbyte ReadSByte()
    {
        var value = ReadInt32();
        return value is >= sbyte.MinValue and <= sbyte.MaxValue ? (sbyte)value : throw OutOfRange("sbyte");
    }

    /// <summary>Reads a varint that must fit a <see cref="byte"/>.</summary>
    public byte ReadByte()
    {
        var value = ReadUInt32();
        return value <= byte.MaxValue ? (byte)value : throw OutOfRange("byte");
    }

    /// <summary>Reads a varint that must fit a <see cref="char"/>.</summary>
    public char ReadChar()
    {
        var value = ReadUInt32();
        return value <= char.MaxValue ? (char)value : throw OutOfRange("char");
    }

    /// <summary>Reads four little-endian bytes (protobuf float).</summary>
    public float ReadSingle()
    {
        Expect(WireType.Fixed32);
        return BinaryPrimitives.ReadSingleLittleEndian(Take(4));
    }

    /// <summary>Reads eight little-endian bytes (protobuf double).</summary>
    public double ReadDouble()
    {
        Expect(WireType.Fixed64);
        return BinaryPrimitives.ReadDoubleLittleEndian(Take(8));
    }

    /// <summary>Reads a UTF-8 string (protobuf string).</summary>
    public string ReadString()
    {
        var bytes = LengthDelimited();
        try
        {
            return StrictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            throw new WireFormatException($"Malformed payload: field {_field} is not valid UTF-8.");
        }
    }

    /// <summary>Reads bytes (protobuf bytes) into a new array.</summary>
    public byte[] ReadBytes() => LengthDelimited().ToArray();

    /// <summary>Reads a <see cref="Guid"/> written as 16 big-endian bytes.</summary>
    public Guid ReadGuid()
    {
        var bytes = LengthDelimited();
        return bytes.Length == 16
            ? new Guid(bytes, bigEndian: true)
            : throw new WireFormatException($"Malformed payload: field {_field} holds {bytes.Length} bytes, a Guid needs 16.");
    }

    /// <summary>Reads a <see cref="DateTime"/> written with <see cref="DateTime.ToBinary"/>.</summary>
    public DateTime ReadDateTime()
    {
        var raw = ReadInt64();
        try
        {
            return DateTime.FromBinary(raw);
        }
        catch (ArgumentException)
        {
            throw OutOfRange("DateTime");
        }
    }

    /// <summary>Reads a <see cref="DateTimeOffset"/> written as {1: UTC ticks, 2: offset minutes}.</summary>
    public DateTimeOffset ReadDateTimeOffset()
    {
        var message = ReadMessage();
        long utcTicks = 0;
        var offsetMinutes = 0;
        while (message.ReadTag(out var field))
        {
            switch (field)
            {
                case 1: utcTicks = message.ReadInt64(); break;
                case 2: offsetMinutes = message.ReadInt32(); break;
                default: message.Skip(); break;
            }
        }
        try
        {
            var offset = TimeSpan.FromMinutes(offsetMinutes);
            return new DateTimeOffset(utcTicks + offset.Ticks, offset);
        }
        catch (ArgumentException)
        {
            throw OutOfRange("DateTimeOffset");
        }
    }

    /// <summary>Reads a <see cref="TimeSpan"/> written as ticks.</summary>
    public TimeSpan ReadTimeSpan() => new(ReadInt64());

    /// <summary>Reads a <see cref="decimal"/> written as invariant-culture text.</summary>
    public decimal ReadDecimal()
    {
        var text = ReadString();
        return decimal.TryParse(text, NumberStyles.Number | NumberStyles.AllowExponent, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new WireFormatException($"Malformed payload: field {_field} is not a decimal number.");
    }

    /// <summary>Reads a nested message and returns a reader over it.</summary>
    public WireReader ReadMessage()
    {
        var bytes = LengthDelimited();
        if (_depth >= MaxDepth)
        {
            throw new WireFormatException($"Malformed payload: messages nest deeper than {MaxDepth} levels.");
        }
        return new WireReader(bytes, _depth + 1);
    }

    /// <summary>Reads a nested Google.Protobuf message.</summary>
    public T ReadProtobuf<T>() where T : IMessage<T>, new()
    {
        var bytes = LengthDelimited();
        var message = new T();
        try
        {
            message.MergeFrom(bytes);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new WireFormatException($"Malformed payload: field {_field} is not a valid {typeof(T).Name}: {e.Message}");
        }
        return message;
    }

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly WireFormatException OutOfRange(string type) =>
        new($"Malformed payload: field {_field} is out of range for {type}.");

    private void Expect(WireType wireType)
    {
        if (_wireType != wireType)
        {
            throw new WireFormatException($"Malformed payload: field {_field} has wire type {_wireType}, expected {wireType}.");
        }
    }

    private ulong Varint()
    {
        Expect(WireType.Varint);
        return ReadVarint();
    }

    private ReadOnlySpan<byte> LengthDelimited()
    {
        Expect(WireType.LengthDelimited);
        return Take(ReadLength());
    }

    private int ReadLength()
    {
        var length = ReadVarint();
        return length <= (ulong)(_data.Length - _position)
            ? (int)length
            : throw new WireFormatException($"Malformed payload: field {_field} claims {length} bytes, only {_data.Length - _position} remain.");
    }

    private ReadOnlySpan<byte> Take(int count)
    {
        if (count > _data.Length - _position)
        {
            throw new WireFormatException($"Malformed payload: field {_field} is truncated.");
        }
        var slice = _data.Slice(_position, count);
        _position += count;
        return slice;
    }

    private ulong ReadVarint()
    {
        ulong result = 0;
        for (var shift = 0; shift < 70; shift += 7)
        {
            if (_position >= _data.Length)
            {
                throw new WireFormatException("Malformed payload: a varint is truncated.");
            }
            var b = _data[_position++];
            result |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return result;
            }
        }
        throw new WireFormatException("Malformed payload: a varint is longer than 10 bytes.");
    }
}
