using System.Buffers.Binary;
using System.ComponentModel;
using System.Globalization;
using System.Text;
using Google.Protobuf;
using SourceGenDO.Pooling;

namespace SourceGenDO.Serialization;

/// <summary>
/// Writes the protobuf-compatible encoding of arguments and results (docs/wire-format.md). Generated
/// stubs and dispatchers call it; user code does not need to.
/// </summary>
/// <remarks>
/// Every value is written with its field number, defaults included: an absent field always means null
/// (or the type's default), never "the default was skipped". A nested message is written in place and
/// its length prefix inserted afterwards, so no size pass over the object graph is needed.
/// </remarks>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class WireWriter
{
    // Writers larger than this are left to the GC rather than kept for reuse.
    private const int MaxCachedBytes = 4096;

    [ThreadStatic]
    private static WireWriter? t_cached;

    private byte[] _buffer;
    private int _length;
    private int _depth;

    /// <summary>Creates a writer with a small initial buffer: most arguments and results are a few bytes.</summary>
    public WireWriter() : this(16)
    {
    }

    /// <summary>Creates a writer with room for <paramref name="capacity"/> bytes before it grows.</summary>
    public WireWriter(int capacity) => _buffer = new byte[Math.Max(capacity, 16)];

    /// <summary>The number of bytes written so far.</summary>
    public int Length => _length;

    /// <summary>The bytes written so far; valid until the next write.</summary>
    public ReadOnlyMemory<byte> WrittenMemory => _buffer.AsMemory(0, _length);

    /// <summary>The bytes written so far, as a span; valid until the next write.</summary>
    public ReadOnlySpan<byte> WrittenSpan => _buffer.AsSpan(0, _length);

    /// <summary>Copies the bytes written so far into a new array.</summary>
    public byte[] ToArray() => WrittenSpan.ToArray();

    /// <summary>
    /// A writer for one payload: the calling thread's cached one when it has one, else a new one. Hand
    /// it back with <see cref="TakeBytes"/>; generated code encodes every argument list and result so.
    /// </summary>
    public static WireWriter Rent()
    {
        var writer = t_cached;
        if (writer is null)
        {
            return new WireWriter();
        }
        t_cached = null;
        return writer;
    }

    /// <summary>
    /// Copies the bytes written into an array of exactly their size and keeps the writer for the next
    /// <see cref="Rent"/> on this thread. The writer must not be used afterwards.
    /// </summary>
    public byte[] TakeBytes()
    {
        var bytes = ToArray();
        KeepForThisThread();
        return bytes;
    }

    /// <summary>
    /// Like <see cref="TakeBytes"/>, but copies into an array from <see cref="PooledBytes"/>; its owner
    /// gives it back with <see cref="PooledBytes.Return"/> once the bytes are sent.
    /// </summary>
    internal ReadOnlyMemory<byte> TakePooled()
    {
        var bytes = PooledBytes.Copy(WrittenSpan);
        KeepForThisThread();
        return bytes;
    }

    /// <summary>Keeps this writer, emptied, for the next <see cref="Rent"/> on this thread, unless it grew large.</summary>
    private void KeepForThisThread()
    {
        if (_buffer.Length <= MaxCachedBytes)
        {
            Reset();
            t_cached = this;
        }
    }

    /// <summary>Writes a field key: the field number and its wire type.</summary>
    public void WriteTag(int field, WireType wireType) => WriteVarint(((uint)field << 3) | (uint)wireType);

    /// <summary>Writes a base-128 varint.</summary>
    public void WriteVarint(ulong value)
    {
        Ensure(10);
        var buffer = _buffer;
        var position = _length;
        while (value >= 0x80)
        {
            buffer[position++] = (byte)(value | 0x80);
            value >>= 7;
        }
        buffer[position++] = (byte)value;
        _length = position;
    }

    /// <summary>Writes a <see cref="bool"/> as a varint 0 or 1.</summary>
    public void WriteBool(int field, bool value)
    {
        WriteTag(field, WireType.Varint);
        WriteVarint(value ? 1UL : 0UL);
    }

    /// <summary>Writes a signed 32-bit integer as a zigzag varint (protobuf sint32).</summary>
    public void WriteInt32(int field, int value)
    {
        WriteTag(field, WireType.Varint);
        WriteVarint((uint)((value << 1) ^ (value >> 31)));
    }

    /// <summary>Writes a signed 64-bit integer as a zigzag varint (protobuf sint64).</summary>
    public void WriteInt64(int field, long value)
    {
        WriteTag(field, WireType.Varint);
        WriteVarint((ulong)((value << 1) ^ (value >> 63)));
    }

    /// <summary>Writes an unsigned 32-bit integer as a varint (protobuf uint32).</summary>
    public void WriteUInt32(int field, uint value)
    {
        WriteTag(field, WireType.Varint);
        WriteVarint(value);
    }

    /// <summary>Writes an unsigned 64-bit integer as a varint (protobuf uint64).</summary>
    public void WriteUInt64(int field, ulong value)
    {
        WriteTag(field, WireType.Varint);
        WriteVarint(value);
    }

    /// <summary>Writes a <see cref="float"/> as four little-endian bytes (protobuf float).</summary>
    public void WriteSingle(int field, float value)
    {
        WriteTag(field, WireType.Fixed32);
        Ensure(4);
        BinaryPrimitives.WriteSingleLittleEndian(_buffer.AsSpan(_length), value);
        _length += 4;
    }

    /// <summary>Writes a <see cref="double"/> as eight little-endian bytes (protobuf double).</summary>
    public void WriteDouble(int field, double value)
    {
        WriteTag(field, WireType.Fixed64);
        Ensure(8);
        BinaryPrimitives.WriteDoubleLittleEndian(_buffer.AsSpan(_length), value);
        _length += 8;
    }

    /// <summary>Writes a <see cref="char"/> as its UTF-16 code unit (protobuf uint32).</summary>
    public void WriteChar(int field, char value) => WriteUInt32(field, value);

    /// <summary>Writes a string as UTF-8 (protobuf string); null writes nothing.</summary>
    public void WriteString(int field, string? value)
    {
        if (value is null)
        {
            return;
        }
        WriteTag(field, WireType.LengthDelimited);
        var byteCount = Encoding.UTF8.GetByteCount(value);
        WriteVarint((uint)byteCount);
        Ensure(byteCount);
        _length += Encoding.UTF8.GetBytes(value, _buffer.AsSpan(_length));
    }

    /// <summary>Writes a byte array (protobuf bytes); null writes nothing.</summary>
    public void WriteBytes(int field, byte[]? value)
    {
        if (value is null)
        {
            return;
        }
        WriteBytes(field, value.AsSpan());
    }

    /// <summary>Writes bytes (protobuf bytes).</summary>
    public void WriteBytes(int field, ReadOnlySpan<byte> value)
    {
        WriteTag(field, WireType.LengthDelimited);
        WriteVarint((uint)value.Length);
        WriteRaw(value);
    }

    /// <summary>Writes a <see cref="Guid"/> as 16 bytes in RFC 4122 (big-endian) order.</summary>
    public void WriteGuid(int field, Guid value)
    {
        Span<byte> bytes = stackalloc byte[16];
        value.TryWriteBytes(bytes, bigEndian: true, out _);
        WriteBytes(field, bytes);
    }

    /// <summary>Writes a <see cref="DateTime"/> as <see cref="DateTime.ToBinary"/> (protobuf sint64), which keeps its kind.</summary>
    public void WriteDateTime(int field, DateTime value) => WriteInt64(field, value.ToBinary());

    /// <summary>Writes a <see cref="DateTimeOffset"/> as a message {1: UTC ticks (sint64), 2: offset minutes (sint32)}.</summary>
    public void WriteDateTimeOffset(int field, DateTimeOffset value)
    {
        var start = BeginMessage(field);
        WriteInt64(1, value.UtcTicks);
        WriteInt32(2, (int)(value.Offset.Ticks / TimeSpan.TicksPerMinute));
        EndMessage(start);
    }

    /// <summary>Writes a <see cref="TimeSpan"/> as its ticks (protobuf sint64).</summary>
    public void WriteTimeSpan(int field, TimeSpan value) => WriteInt64(field, value.Ticks);

    /// <summary>Writes a <see cref="decimal"/> as its invariant-culture text (protobuf string), which keeps its scale.</summary>
    public void WriteDecimal(int field, decimal value) =>
        WriteString(field, value.ToString(CultureInfo.InvariantCulture));

    /// <summary>Writes a Google.Protobuf message as a nested message; null writes nothing.</summary>
    public void WriteProtobuf<T>(int field, T? message) where T : class, IMessage
    {
        if (message is null)
        {
            return;
        }
        WriteTag(field, WireType.LengthDelimited);
        var size = message.CalculateSize();
        WriteVarint((uint)size);
        Ensure(size);
        message.WriteTo(_buffer.AsSpan(_length, size));
        _length += size;
    }

    /// <summary>
    /// Starts a nested message at <paramref name="field"/>. Write its fields, then pass the returned
    /// position to <see cref="EndMessage"/>.
    /// </summary>
    /// <exception cref="InvalidOperationException">Messages nest deeper than <see cref="WireReader.MaxDepth"/> levels (an object graph with a cycle, for example).</exception>
    public int BeginMessage(int field)
    {
        if (++_depth > WireReader.MaxDepth)
        {
            throw new InvalidOperationException(
                $"The value nests deeper than {WireReader.MaxDepth} levels and cannot be serialized; does its object graph contain a cycle?");
        }
        WriteTag(field, WireType.LengthDelimited);
        return _length;
    }

    /// <summary>Ends the nested message started at <paramref name="start"/> by inserting its length before it.</summary>
    public void EndMessage(int start)
    {
        _depth--;
        var contentLength = _length - start;
        var prefixLength = VarintSize((uint)contentLength);
        Ensure(prefixLength);
        _buffer.AsSpan(start, contentLength).CopyTo(_buffer.AsSpan(start + prefixLength));
        var position = start;
        var value = (uint)contentLength;
        while (value >= 0x80)
        {
            _buffer[position++] = (byte)(value | 0x80);
            value >>= 7;
        }
        _buffer[position] = (byte)value;
        _length += prefixLength;
    }

    /// <summary>
    /// Forgets everything written; a buffer grown past <paramref name="maxKeptBytes"/> (by one large
    /// frame) is replaced by one of <paramref name="capacity"/> bytes, so that a long-lived writer does
    /// not keep the room of its largest payload for good.
    /// </summary>
    internal void ResetAndShrink(int maxKeptBytes, int capacity)
    {
        Reset();
        if (_buffer.Length > maxKeptBytes)
        {
            _buffer = new byte[Math.Max(capacity, 16)];
        }
    }

    /// <summary>Forgets everything written, keeping the buffer.</summary>
    public void Reset()
    {
        _length = 0;
        _depth = 0;
    }

    private void WriteRaw(ReadOnlySpan<byte> bytes)
    {
        Ensure(bytes.Length);
        bytes.CopyTo(_buffer.AsSpan(_length));
        _length += bytes.Length;
    }

    private static int VarintSize(uint value) => value switch
    {
        < 1u << 7 => 1,
        < 1u << 14 => 2,
        < 1u << 21 => 3,
        < 1u << 28 => 4,
        _ => 5,
    };

    private void Ensure(int extra)
    {
        if (_buffer.Length - _length >= extra)
        {
            return;
        }
        var needed = (long)_length + extra;
        var size = Math.Max(_buffer.Length * 2L, needed);
        if (size > Array.MaxLength)
        {
            size = needed <= Array.MaxLength ? Array.MaxLength : throw new InvalidOperationException(
                "A serialized payload cannot grow beyond the largest array.");
        }
        Array.Resize(ref _buffer, (int)size);
    }
}
