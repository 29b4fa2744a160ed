using System.ComponentModel;

namespace SourceGenDO.Serialization;

/// <summary>
/// Encodes and decodes one type of stored value: the same protobuf encoding as a call's result (the
/// value as field 1 of a message), so a value stored as <c>long</c> reads back as <c>long?</c> too.
/// The generator emits one per type that object code stores or reads; see <see cref="ValueCodecs"/>.
/// </summary>
/// <typeparam name="T">The value type; nullable annotations do not change the encoding.</typeparam>
[EditorBrowsable(EditorBrowsableState.Never)]
public abstract class ValueCodec<T>
{
    /// <summary>The encoded value, in a new array the caller owns.</summary>
    public abstract byte[] Encode(T value);

    /// <summary>The value <paramref name="encoded"/> holds.</summary>
    /// <exception cref="WireFormatException">The bytes are not an encoding of <typeparamref name="T"/>.</exception>
    public abstract T Decode(ReadOnlySpan<byte> encoded);
}
