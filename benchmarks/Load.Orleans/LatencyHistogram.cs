using System.Diagnostics;
using System.Numerics;

namespace SourceGenDO.Load.Orleans;

/// <summary>
/// Counts latencies in <see cref="Stopwatch"/> ticks in log-linear buckets: values below 128 are exact, and every
/// power-of-two range above is split into 128 equal buckets, so a bucket's midpoint is within 0.4% of any value in it.
/// One instance per caller, so recording takes no lock; <see cref="Add"/> merges them at the end.
/// </summary>
internal sealed class LatencyHistogram
{
    private const int SubBucketBits = 7;
    private const int SubBucketCount = 1 << SubBucketBits;

    // Values are clamped to 2^40 ticks (about 18 minutes at the 1 GHz tick rate of Linux), which bounds the array.
    private const int MaxMagnitude = 40;
    private const long MaxValue = (1L << MaxMagnitude) - 1;

    private readonly long[] _counts = new long[(MaxMagnitude - SubBucketBits + 1) * SubBucketCount];

    public long Count { get; private set; }

    public void Record(long ticks)
    {
        _counts[BucketOf(Math.Clamp(ticks, 0, MaxValue))]++;
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

    /// <summary>The value at <paramref name="quantile"/> (0..1) in microseconds, or 0 when nothing was recorded.</summary>
    public double ValueAtQuantileMicroseconds(double quantile)
    {
        if (Count == 0)
        {
            return 0;
        }

        // The smallest value with at least ceil(q * count) values at or below it.
        var rank = Math.Max(1, (long)Math.Ceiling(quantile * Count));
        long seen = 0;
        for (var bucket = 0; bucket < _counts.Length; bucket++)
        {
            seen += _counts[bucket];
            if (seen >= rank)
            {
                return MidpointOf(bucket) * 1_000_000.0 / Stopwatch.Frequency;
            }
        }

        throw new UnreachableException("the counts add up to Count");
    }

    private static int BucketOf(long value)
    {
        if (value < SubBucketCount)
        {
            return (int)value;
        }

        // value lies in [2^m, 2^(m+1)) with m >= 7; that range is cut into 128 buckets of width 2^shift.
        var shift = BitOperations.Log2((ulong)value) - SubBucketBits;
        var offset = (int)(value >> shift) - SubBucketCount;
        return (shift + 1) * SubBucketCount + offset;
    }

    private static double MidpointOf(int bucket)
    {
        if (bucket < SubBucketCount)
        {
            return bucket;
        }

        var shift = bucket / SubBucketCount - 1;
        var lowerBound = (long)(SubBucketCount + bucket % SubBucketCount) << shift;
        return lowerBound + ((1L << shift) - 1) / 2.0;
    }
}
