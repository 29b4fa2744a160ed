using System.Collections.Concurrent;

namespace SourceGenDO.Pooling;

/// <summary>
/// Keeps instances of <typeparamref name="T"/> for reuse: one per thread, which serves the usual case
/// of an instance returned and taken again on the same thread (a caller awaiting one call and making
/// the next), and a shared queue for the rest, such as a burst of calls made on one thread and
/// finished on others. Beyond <see cref="SharedCapacity"/> kept instances, returned ones are left to
/// the GC.
/// </summary>
internal static class ObjectCache<T> where T : class
{
    /// <summary>How many instances the shared queue keeps at most: enough for a thousand calls in flight.</summary>
    public const int SharedCapacity = 4096;

    // Only enqueued and dequeued, never peeked, so its segments reuse their slots and it allocates
    // nothing once it has grown to its working size.
    private static readonly ConcurrentQueue<T> Shared = new();
    private static int s_sharedCount;

    [ThreadStatic]
    private static T? t_local;

    /// <summary>A kept instance, or null when there is none: the caller then creates one.</summary>
    public static T? Take()
    {
        var local = t_local;
        if (local is not null)
        {
            t_local = null;
            return local;
        }
        if (Shared.TryDequeue(out var item))
        {
            Interlocked.Decrement(ref s_sharedCount);
            return item;
        }
        return null;
    }

    /// <summary>Keeps <paramref name="item"/>, which the caller no longer touches, for a later <see cref="Take"/>.</summary>
    public static void Return(T item) => Return(item, SharedCapacity);

    /// <summary>
    /// Like <see cref="Return(T)"/>, with a smaller bound on the shared queue for a type whose instances
    /// are large; each type passes the same bound every time.
    /// </summary>
    public static void Return(T item, int sharedCapacity)
    {
        if (t_local is null)
        {
            t_local = item;
            return;
        }
        if (Interlocked.Increment(ref s_sharedCount) <= sharedCapacity)
        {
            Shared.Enqueue(item);
        }
        else
        {
            Interlocked.Decrement(ref s_sharedCount);
        }
    }
}
