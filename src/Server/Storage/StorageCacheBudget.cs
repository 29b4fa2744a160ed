using System.Collections.Concurrent;

namespace SourceGenDO.Server.Storage;

/// <summary>
/// The server-wide bound of the storage cache: the bytes every instance's cache holds, kept under
/// <c>DurableObjectsOptions.StorageCacheBytes</c> by evicting clean entries with the clock algorithm
/// (an entry used since the clock last passed gets a second chance). Entries not yet durable are never
/// evicted; they are bounded by the writes in flight.
/// </summary>
internal sealed class StorageCacheBudget
{
    // Entries the clock looks at per trim: bounds the time one write spends evicting for others.
    private const int MaxVisitsPerTrim = 64;

    private readonly ConcurrentQueue<(Execution.ObjectStorage Owner, Execution.CacheEntry Entry)> _clock = new();
    private readonly long _limit;
    private long _bytes;
    private long _entries;

    public StorageCacheBudget(long limit) => _limit = limit;

    /// <summary>The bytes the caches hold now.</summary>
    public long Bytes => Interlocked.Read(ref _bytes);

    public void Add(Execution.ObjectStorage owner, Execution.CacheEntry entry)
    {
        Interlocked.Add(ref _bytes, entry.Size);
        Interlocked.Increment(ref _entries);
        _clock.Enqueue((owner, entry));
    }

    public void Resize(long before, long after) => Interlocked.Add(ref _bytes, after - before);

    public void Remove(long size)
    {
        Interlocked.Add(ref _bytes, -size);
        Interlocked.Decrement(ref _entries);
    }

    /// <summary>
    /// Evicts clean entries while the caches are over the limit, or while the clock holds far more
    /// positions than there are entries (positions of entries already gone are dropped as it passes).
    /// </summary>
    public void Trim()
    {
        for (var visits = 0; visits < MaxVisitsPerTrim && NeedsTrim(); visits++)
        {
            if (!_clock.TryDequeue(out var position))
            {
                return;
            }
            if (position.Owner.TryEvict(position.Entry) == Execution.EvictResult.Kept)
            {
                _clock.Enqueue(position);
            }
        }
    }

    private bool NeedsTrim() => Interlocked.Read(ref _bytes) > _limit || _clock.Count > 2 * Interlocked.Read(ref _entries) + 1024;
}
