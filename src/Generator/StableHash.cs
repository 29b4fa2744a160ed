namespace SourceGenDO.Generator;

/// <summary>
/// A 64-bit FNV-1a hash of a string's UTF-16 code units. <c>string.GetHashCode</c> is randomized per
/// process, so generated names need a hash that gives the same value in every build.
/// </summary>
internal static class StableHash
{
    private const ulong OffsetBasis = 14695981039346656037;
    private const ulong Prime = 1099511628211;

    /// <summary>The hash of <paramref name="text"/> as 16 upper-case hexadecimal digits.</summary>
    public static string Hex(string text)
    {
        var hash = OffsetBasis;
        foreach (var c in text)
        {
            hash = unchecked((hash ^ c) * Prime);
        }
        return hash.ToString("X16", System.Globalization.CultureInfo.InvariantCulture);
    }
}
