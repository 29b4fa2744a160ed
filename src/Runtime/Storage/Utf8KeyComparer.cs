namespace SourceGenDO;

/// <summary>
/// Orders keys as their UTF-8 bytes compare, which is code point order: ordinal UTF-16 order, except that
/// surrogate pairs (code points past U+FFFF) sort after U+E000..U+FFFF, as their UTF-8 forms do.
/// </summary>
internal sealed class Utf8KeyComparer : IComparer<string>
{
    public static readonly Utf8KeyComparer Instance = new();

    public int Compare(string? x, string? y)
    {
        if (ReferenceEquals(x, y))
        {
            return 0;
        }
        if (x is null)
        {
            return -1;
        }
        if (y is null)
        {
            return 1;
        }
        var length = Math.Min(x.Length, y.Length);
        var common = x.AsSpan(0, length).CommonPrefixLength(y.AsSpan(0, length));
        if (common == length)
        {
            return x.Length.CompareTo(y.Length);
        }
        return Rank(x[common]).CompareTo(Rank(y[common]));
    }

    // Moves surrogates (U+D800..U+DFFF) above U+E000..U+FFFF and keeps every other order.
    private static int Rank(char c) => c >= 0xE000 ? c - 0x800 : c >= 0xD800 ? c + 0x2000 : c;
}
