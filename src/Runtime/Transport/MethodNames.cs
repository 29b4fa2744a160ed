using System.Collections.Concurrent;
using System.Text;

namespace SourceGenDO.Transport;

/// <summary>
/// Turns the UTF-8 method names of incoming calls into strings without allocating one per call: a
/// class has few method names, so each is decoded once and looked up afterwards.
/// </summary>
internal static class MethodNames
{
    // Bounded, so that a client inventing names cannot grow the cache without limit.
    private const int MaxCached = 4096;
    private const int MaxCachedLength = 256;

    private static readonly ConcurrentDictionary<string, string> Cache = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, string>.AlternateLookup<ReadOnlySpan<char>> Lookup =
        Cache.GetAlternateLookup<ReadOnlySpan<char>>();

    public static string Get(ReadOnlySpan<byte> utf8)
    {
        if (utf8.Length > MaxCachedLength)
        {
            return Encoding.UTF8.GetString(utf8);
        }
        Span<char> chars = stackalloc char[MaxCachedLength];
        // Invalid bytes become U+FFFD: such a name matches no method, and the call fails saying so.
        var length = Encoding.UTF8.GetChars(utf8, chars);
        if (Lookup.TryGetValue(chars[..length], out var name))
        {
            return name;
        }
        name = new string(chars[..length]);
        if (Cache.Count < MaxCached)
        {
            Cache.TryAdd(name, name);
        }
        return name;
    }
}
