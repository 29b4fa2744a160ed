namespace SourceGenDO;

/// <summary>
/// Which entries <see cref="DurableObjectStorageOperations.ListAsync{T}(ListOptions?)"/> returns. Keys are
/// ordered by their UTF-8 bytes; every bound is optional.
/// </summary>
public sealed class ListOptions
{
    /// <summary>The first key to include (inclusive). Not together with <see cref="StartAfter"/>.</summary>
    public string? Start { get; init; }

    /// <summary>The key after which entries start (exclusive). Not together with <see cref="Start"/>.</summary>
    public string? StartAfter { get; init; }

    /// <summary>The key at which entries stop (exclusive).</summary>
    public string? End { get; init; }

    /// <summary>Only keys that start with this text.</summary>
    public string? Prefix { get; init; }

    /// <summary>Returns entries in descending key order; the bounds keep their meaning.</summary>
    public bool Reverse { get; init; }

    /// <summary>The most entries to return (positive); null returns every matching entry.</summary>
    public int? Limit { get; init; }

    /// <summary>Checks the options' rules, with errors that say which rule.</summary>
    internal void Validate()
    {
        if (Start is not null && StartAfter is not null)
        {
            throw new ArgumentException("ListOptions.Start and ListOptions.StartAfter cannot both be set: Start includes its key, StartAfter excludes it; set one.", "options");
        }
        if (Limit is <= 0)
        {
            throw new ArgumentOutOfRangeException("options", Limit, $"ListOptions.Limit must be positive, or null for no limit; it was {Limit}.");
        }
        foreach (var bound in (ReadOnlySpan<string?>)[Start, StartAfter, End, Prefix])
        {
            if (bound is not null)
            {
                StorageLimits.CheckKey(bound, "options");
            }
        }
    }

    /// <summary>These options with room for <paramref name="extra"/> more entries, for a store read that newer deletes will thin.</summary>
    internal ListOptions Widen(int extra) => Limit is { } limit && extra > 0
        ? new ListOptions { Start = Start, StartAfter = StartAfter, End = End, Prefix = Prefix, Reverse = Reverse, Limit = limit + extra }
        : this;
}
