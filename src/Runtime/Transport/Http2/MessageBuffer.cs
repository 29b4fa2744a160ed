using System.Buffers;
using System.Buffers.Binary;
using Grpc.Core;
using SourceGenDO.Pooling;

namespace SourceGenDO.Transport.Http2;

/// <summary>
/// Where a request message is serialized: a rented array with room in front for the DATA frame's header
/// and the gRPC message prefix, so that a message that fits one frame goes out without a copy. One per
/// call, reused for each message (a call writes one message at a time).
/// </summary>
internal sealed class MessageBuffer : SerializationContext, IBufferWriter<byte>
{
    /// <summary>The bytes in front of the message: a frame header, then the compressed flag and the length.</summary>
    public const int Reserved = Http2Protocol.FrameHeaderLength + GrpcPrefixLength;

    private const int GrpcPrefixLength = 5;
    // A buffer that grew past this for a large message goes back to the pool after it.
    private const int KeptSize = 64 * 1024;

    private byte[] _buffer = [];
    private int _written;

    /// <summary>The array: <see cref="Reserved"/> bytes, then the message.</summary>
    public byte[] Array => _buffer;

    /// <summary>The message's length, without the prefix.</summary>
    public int MessageLength => _written - Reserved;

    /// <summary>Serializes <paramref name="message"/> and writes the gRPC prefix in front of it.</summary>
    public void Serialize<T>(Marshaller<T> marshaller, T message)
    {
        if (_buffer.Length == 0)
        {
            _buffer = ArrayPool<byte>.Shared.Rent(4096);
        }
        _written = Reserved;
        marshaller.ContextualSerializer(message, this);
        _buffer[Http2Protocol.FrameHeaderLength] = 0;
        BinaryPrimitives.WriteInt32BigEndian(_buffer.AsSpan(Http2Protocol.FrameHeaderLength + 1), MessageLength);
    }

    /// <summary>Gives a large array back once its message is sent; small ones stay for the next message.</summary>
    public void Trim()
    {
        if (_buffer.Length > KeptSize)
        {
            Release();
        }
    }

    /// <summary>Gives the array back for good.</summary>
    public void Release()
    {
        var buffer = _buffer;
        _buffer = [];
        _written = 0;
        if (buffer.Length > 0)
        {
            PooledBytes.ReturnArray(buffer);
        }
    }

    public override void Complete(byte[] payload)
    {
        GetSpan(payload.Length);
        payload.CopyTo(_buffer, _written);
        _written += payload.Length;
    }

    public override IBufferWriter<byte> GetBufferWriter() => this;

    public override void SetPayloadLength(int payloadLength) => GetSpan(payloadLength);

    public override void Complete()
    {
    }

    public void Advance(int count) => _written += count;

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Grow(sizeHint);
        return _buffer.AsMemory(_written);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Grow(sizeHint);
        return _buffer.AsSpan(_written);
    }

    private void Grow(int sizeHint)
    {
        var needed = _written + Math.Max(sizeHint, 1);
        if (needed <= _buffer.Length)
        {
            return;
        }
        var larger = PooledBytes.RentArray(Math.Max(needed, _buffer.Length * 2));
        _buffer.AsSpan(0, _written).CopyTo(larger);
        if (_buffer.Length > 0)
        {
            PooledBytes.ReturnArray(_buffer);
        }
        _buffer = larger;
    }
}
