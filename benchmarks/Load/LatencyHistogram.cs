using System.Diagnostics;

namespace SourceGenDO.Load;

/// <summary>
/// Call latencies in log-linear buckets (64 linear steps per power of two: under 1.6% relative error),
/// cheap enough to record every call of a closed loop.
/// </summary>
internal sealed class LatencyHistogram
{
    private const int SubBuckets = 64;
    private static readonly double NanosecondsPerTick = 1e9 / Stopwatch.Frequency;
    private readonly long[] _counts = new long[64 * SubBuckets];

    public long Count { get; private set; }

    public void Record(long stopwatchTicks)
    {
        // In floating point: ticks times 10^9 overflows a long past about 9 s (the soak records hangs and
        // connection lifetimes far longer).
        var nanoseconds = (ulong)Math.Max(1, stopwatchTicks * NanosecondsPerTick);
        _counts[BucketOf(nanoseconds)]++;
        Count++;
    }

    public void Add(LatencyHistogram other)
    {
        for (var i = 0; i < _counts.Length; i++)
        {
            _counts[i] += other._counts[i];
        }
        Count += other.Count;
    }

    /// <summary>The latency at <paramref name="quantile"/> (0..1), in microseconds.</summary>
    public double PercentileMicroseconds(double quantile)
    {
        if (Count == 0)
        {
            return 0;
        }
        var rank = (long)Math.Ceiling(quantile * Count);
        long seen = 0;
        for (var i = 0; i < _counts.Length; i++)
        {
            seen += _counts[i];
            if (seen >= rank)
            {
                return ValueOf(i) / 1000.0;
            }
        }
        return ValueOf(_counts.Length - 1) / 1000.0;
    }

    private static int BucketOf(ulong value)
    {
        if (value < SubBuckets)
        {
            return (int)value;
        }
        var power = 63 - System.Numerics.BitOperations.LeadingZeroCount(value);
        var shift = power - 6;
        return (shift + 1) * SubBuckets + (int)((value >> shift) - SubBuckets);
    }

    private static double ValueOf(int bucket)
    {
        if (bucket < SubBuckets)
        {
            return bucket;
        }
        var shift = bucket / SubBuckets - 1;
        var offset = bucket % SubBuckets + SubBuckets;
        // The middle of the bucket.
        return (offset + 0.5) * Math.Pow(2, shift);
    }
}
