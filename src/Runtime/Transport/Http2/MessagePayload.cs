using System.Buffers;
using Grpc.Core;

namespace SourceGenDO.Transport.Http2;

/// <summary>One received message's bytes, as a marshaller's deserializer reads them; valid only during the call.</summary>
internal sealed class MessagePayload : DeserializationContext
{
    private byte[] _array = [];
    private int _offset;
    private int _length;

    public T Deserialize<T>(Marshaller<T> marshaller, byte[] array, int offset, int length)
    {
        _array = array;
        _offset = offset;
        _length = length;
        try
        {
            return marshaller.ContextualDeserializer(this);
        }
        finally
        {
            _array = [];
        }
    }

    public override int PayloadLength => _length;

    public override byte[] PayloadAsNewBuffer() => _array.AsSpan(_offset, _length).ToArray();

    public override ReadOnlySequence<byte> PayloadAsReadOnlySequence() => new(_array, _offset, _length);
}
