namespace SourceGenDO.Transport.Http2;

/// <summary>
/// Decodes HPACK's Huffman-coded strings (RFC 7541, section 5.2). The code is canonical, so the table of
/// code lengths (Appendix B) defines it: codes of one length are consecutive, in symbol order.
/// </summary>
internal static class Huffman
{
    private const int MaxCodeLength = 30;
    private const int EndOfString = 256;

    // Code length of each symbol 0-255 and of EOS (256), from RFC 7541 Appendix B.
    private static ReadOnlySpan<byte> CodeLengths =>
    [
        13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28,
        28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28,
        6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6,
        5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10,
        13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
        7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6,
        15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5,
        6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28,
        20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23,
        24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24,
        22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23,
        21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23,
        26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25,
        19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27,
        20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23,
        26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26,
        30,
    ];

    // For each length: the first code of that length, how many codes have it, and where its symbols start.
    private static readonly int[] s_firstCode = new int[MaxCodeLength + 1];
    private static readonly int[] s_count = new int[MaxCodeLength + 1];
    private static readonly int[] s_offset = new int[MaxCodeLength + 1];
    private static readonly short[] s_symbols = BuildTable();

    private static short[] BuildTable()
    {
        var lengths = CodeLengths;
        foreach (var length in lengths)
        {
            s_count[length]++;
        }
        var code = 0;
        var offset = 0;
        for (var length = 1; length <= MaxCodeLength; length++)
        {
            s_firstCode[length] = code;
            s_offset[length] = offset;
            offset += s_count[length];
            code = (code + s_count[length]) << 1;
        }
        var symbols = new short[lengths.Length];
        var next = (int[])s_offset.Clone();
        for (var length = 1; length <= MaxCodeLength; length++)
        {
            for (short symbol = 0; symbol < lengths.Length; symbol++)
            {
                if (lengths[symbol] == length)
                {
                    symbols[next[length]++] = symbol;
                }
            }
        }
        return symbols;
    }

    /// <summary>Decodes <paramref name="source"/> into <paramref name="destination"/>; returns the number of bytes written.</summary>
    /// <exception cref="Http2ProtocolException">The input is not a valid Huffman-coded string.</exception>
    public static int Decode(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        var written = 0;
        var code = 0;
        var length = 0;
        foreach (var octet in source)
        {
            for (var bit = 7; bit >= 0; bit--)
            {
                code = (code << 1) | ((octet >> bit) & 1);
                length++;
                var index = code - s_firstCode[length];
                if (index < s_count[length])
                {
                    var symbol = s_symbols[s_offset[length] + index];
                    if (symbol == EndOfString)
                    {
                        throw new Http2ProtocolException(Http2ErrorCode.CompressionError, "A Huffman-coded header contains the end-of-string symbol.");
                    }
                    destination[written++] = (byte)symbol;
                    code = 0;
                    length = 0;
                }
                else if (length == MaxCodeLength)
                {
                    throw new Http2ProtocolException(Http2ErrorCode.CompressionError, "A Huffman-coded header contains an invalid code.");
                }
            }
        }
        // What is left must be padding: fewer than eight bits, all ones (a prefix of EOS).
        if (length > 7 || code != (1 << length) - 1)
        {
            throw new Http2ProtocolException(Http2ErrorCode.CompressionError, "A Huffman-coded header is padded wrongly.");
        }
        return written;
    }
}
