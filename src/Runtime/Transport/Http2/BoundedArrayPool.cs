using System.Buffers;

namespace SourceGenDO.Transport.Http2;

/// <summary>
/// <see cref="ArrayPool{T}.Shared"/> for arrays up to <see cref="MaxPooledLength"/>; larger ones are
/// allocated and left to the garbage collector, since the shared pool would keep them for good (one set
/// per core).
/// </summary>
internal static class BoundedArrayPool
{
    /// <summary>The largest array that is pooled: 1 MiB. A rare larger message pays its own allocation.</summary>
    public const int MaxPooledLength = 1024 * 1024;

    public static byte[] Rent(int length) =>
        length > MaxPooledLength ? GC.AllocateUninitializedArray<byte>(length) : ArrayPool<byte>.Shared.Rent(length);

    public static void Return(byte[] array)
    {
        if (array.Length <= MaxPooledLength)
        {
            ArrayPool<byte>.Shared.Return(array);
        }
    }
}
