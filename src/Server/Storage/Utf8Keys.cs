using System.Text;
using SourceGenDO.Serialization;

namespace SourceGenDO.Server.Storage;

/// <summary>Keys as backends store and order them: their UTF-8 bytes, compared byte by byte.</summary>
internal static class Utf8Keys
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>The UTF-8 bytes of <paramref name="key"/>; a key with a lone surrogate has none and is refused.</summary>
    public static byte[] Encode(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        try
        {
            return StrictUtf8.GetBytes(key);
        }
        catch (EncoderFallbackException e)
        {
            throw new ArgumentException($"The key {ClientText.Quote(key)} is not valid UTF-16 (it holds a lone surrogate), so it has no UTF-8 form.", nameof(key), e);
        }
    }

    /// <summary>The key whose UTF-8 bytes are <paramref name="bytes"/> (stored keys are always valid UTF-8).</summary>
    public static string Decode(byte[] bytes) => Encoding.UTF8.GetString(bytes);

    /// <summary>
    /// The least byte string above every byte string that starts with <paramref name="prefix"/>, so that
    /// "starts with prefix" is the range <c>prefix &lt;= key &lt; bound</c>; null when there is no such bound
    /// (an empty prefix, or one of 0xFF bytes only), and the range is then <c>prefix &lt;= key</c>.
    /// </summary>
    public static byte[]? PrefixUpperBound(ReadOnlySpan<byte> prefix)
    {
        // Trailing 0xFF bytes cannot be incremented: drop them and increment the byte before. (Valid UTF-8
        // never holds 0xFF, but the range must be right for any bytes.)
        var length = prefix.Length;
        while (length > 0 && prefix[length - 1] == 0xFF)
        {
            length--;
        }
        if (length == 0)
        {
            return null;
        }
        var bound = prefix[..length].ToArray();
        bound[length - 1]++;
        return bound;
    }
}
