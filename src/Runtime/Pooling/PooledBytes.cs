using System.Buffers;
using System.Runtime.InteropServices;

namespace SourceGenDO.Pooling;

/// <summary>
/// Byte arrays from <see cref="ArrayPool{T}.Shared"/> for payload copies: a call's arguments wait in
/// them for their frame, a received frame's bytes while its results are decoded. Only arrays up to
/// <see cref="MaxPooledBytes"/> are pooled; larger ones are allocated and left to the GC, because the
/// shared pool keeps what it is given per core and per thread, for good.
/// </summary>
internal static class PooledBytes
{
    /// <summary>The largest array that goes through the pool: 1 MiB. Past it, arrays are allocated and never pooled.</summary>
    public const int MaxPooledBytes = 1024 * 1024;

    /// <summary>A copy of <paramref name="bytes"/> in a rented array; empty input rents nothing.</summary>
    public static ReadOnlyMemory<byte> Copy(ReadOnlySpan<byte> bytes)
    {
        if (bytes.IsEmpty)
        {
            return ReadOnlyMemory<byte>.Empty;
        }
        var array = RentArray(bytes.Length);
        bytes.CopyTo(array);
        return array.AsMemory(0, bytes.Length);
    }

    /// <summary>Gives back an array <see cref="Copy"/> rented; the memory must not be read afterwards.</summary>
    public static void Return(ReadOnlyMemory<byte> bytes)
    {
        if (MemoryMarshal.TryGetArray(bytes, out var segment) && segment.Array is { } array)
        {
            ReturnArray(array);
        }
    }

    /// <summary>An array of at least <paramref name="length"/> bytes: from the pool up to <see cref="MaxPooledBytes"/>, else a new one of exactly that length.</summary>
    public static byte[] RentArray(int length) =>
        length <= MaxPooledBytes ? ArrayPool<byte>.Shared.Rent(length) : GC.AllocateUninitializedArray<byte>(length);

    /// <summary>Gives back an array from <see cref="RentArray"/>: to the pool if it came from there, else to the GC.</summary>
    public static void ReturnArray(byte[] array)
    {
        // The pool hands out arrays of power-of-two lengths up to the bound, and arrays above it were
        // allocated here: the length alone says where an array came from.
        if (array.Length is > 0 and <= MaxPooledBytes)
        {
            ArrayPool<byte>.Shared.Return(array);
        }
    }
}
