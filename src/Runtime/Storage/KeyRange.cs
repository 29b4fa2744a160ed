namespace SourceGenDO;

/// <summary>Tests keys against the bounds of a validated <see cref="ListOptions"/>.</summary>
internal static class KeyRange
{
    public static bool Contains(ListOptions options, string key)
    {
        var order = Utf8KeyComparer.Instance;
        return (options.Start is null || order.Compare(key, options.Start) >= 0)
            && (options.StartAfter is null || order.Compare(key, options.StartAfter) > 0)
            && (options.End is null || order.Compare(key, options.End) < 0)
            && (options.Prefix is null || key.StartsWith(options.Prefix, StringComparison.Ordinal));
    }

    /// <summary>
    /// Lays <paramref name="overlay"/> (newer writes, a null value for a deleted key) over
    /// <paramref name="stored"/> (what the store returned for <paramref name="options"/>, in its order, with
    /// up to as many extra entries as the overlay deletes), and applies the order and limit.
    /// </summary>
    public static IReadOnlyList<KeyValuePair<string, byte[]>> Merge(
        ListOptions options, IReadOnlyList<KeyValuePair<string, byte[]>> stored, IEnumerable<KeyValuePair<string, byte[]?>> overlay)
    {
        var merged = new SortedDictionary<string, byte[]?>(Utf8KeyComparer.Instance);
        foreach (var (key, value) in stored)
        {
            merged[key] = value;
        }
        foreach (var (key, value) in overlay)
        {
            if (Contains(options, key))
            {
                merged[key] = value;
            }
        }
        var ordered = options.Reverse ? merged.Reverse() : merged;
        var result = new List<KeyValuePair<string, byte[]>>();
        foreach (var (key, value) in ordered)
        {
            if (value is null)
            {
                continue;
            }
            if (result.Count == options.Limit)
            {
                break;
            }
            result.Add(new(key, value));
        }
        return result;
    }
}
