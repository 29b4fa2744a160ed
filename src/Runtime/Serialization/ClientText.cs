using System.Globalization;
using System.Text;

namespace SourceGenDO.Serialization;

/// <summary>
/// Quotes text that came from the wire (namespace names, method names, ids) in error messages, cut to a
/// short length: an error is answered to every call it applies to, so it must never carry a client's
/// megabytes back, once per call.
/// </summary>
internal static class ClientText
{
    /// <summary>The most characters of client text an error quotes; longer text is cut there.</summary>
    public const int MaxQuotedChars = 128;

    /// <summary>
    /// <paramref name="text"/> in double quotes when it has at most <see cref="MaxQuotedChars"/>
    /// characters; otherwise its first 128 characters and an ellipsis in quotes, followed by its full
    /// length: <c>"abc…" (1,048,576 bytes)</c>.
    /// </summary>
    public static string Quote(string text)
    {
        if (text.Length <= MaxQuotedChars)
        {
            return $"\"{text}\"";
        }
        var cut = MaxQuotedChars;
        if (char.IsHighSurrogate(text[cut - 1]))
        {
            // Never split a surrogate pair: the message must stay valid UTF-16 (and encode as UTF-8).
            cut--;
        }
        return string.Create(CultureInfo.InvariantCulture, $"\"{text.AsSpan(0, cut)}…\" ({Encoding.UTF8.GetByteCount(text):N0} bytes)");
    }
}
