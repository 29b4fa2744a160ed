using System.Buffers;
using System.Runtime.InteropServices;

namespace SourceGenDO.Pooling;

/// <summary>
/// Payload copies in arrays rented from <see cref="ArrayPool{T}.Shared"/>: a call's arguments wait in
/// them for their frame, and go back to the pool once the frame is written.
/// </summary>
internal static class PooledBytes
{
    /// <summary>A copy of <paramref name="bytes"/> in a rented array; empty input rents nothing.</summary>
    public static ReadOnlyMemory<byte> Copy(ReadOnlySpan<byte> bytes)
    {
        if (bytes.IsEmpty)
        {
            return ReadOnlyMemory<byte>.Empty;
        }
        var array = ArrayPool<byte>.Shared.Rent(bytes.Length);
        bytes.CopyTo(array);
        return array.AsMemory(0, bytes.Length);
    }

    /// <summary>Gives back an array <see cref="Copy"/> rented; the memory must not be read afterwards.</summary>
    public static void Return(ReadOnlyMemory<byte> bytes)
    {
        if (MemoryMarshal.TryGetArray(bytes, out var segment) && segment.Array is { Length: > 0 } array)
        {
            ArrayPool<byte>.Shared.Return(array);
        }
    }
}
