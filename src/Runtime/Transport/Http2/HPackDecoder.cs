using System.Text;

namespace SourceGenDO.Transport.Http2;

/// <summary>
/// Decodes the header blocks of one HTTP/2 connection (RFC 7541): the static table, the connection's
/// dynamic table, literals plain or Huffman-coded. One instance per connection, used by its reading loop only.
/// </summary>
internal sealed class HPackDecoder
{
    // Each entry's size counts its name and value plus 32 bytes (RFC 7541, section 4.1).
    private const int EntryOverhead = 32;

    private static readonly (string Name, string Value)[] s_staticTable =
    [
        (":authority", ""), (":method", "GET"), (":method", "POST"), (":path", "/"), (":path", "/index.html"),
        (":scheme", "http"), (":scheme", "https"), (":status", "200"), (":status", "204"), (":status", "206"),
        (":status", "304"), (":status", "400"), (":status", "404"), (":status", "500"), ("accept-charset", ""),
        ("accept-encoding", "gzip, deflate"), ("accept-language", ""), ("accept-ranges", ""), ("accept", ""),
        ("access-control-allow-origin", ""), ("age", ""), ("allow", ""), ("authorization", ""), ("cache-control", ""),
        ("content-disposition", ""), ("content-encoding", ""), ("content-language", ""), ("content-length", ""),
        ("content-location", ""), ("content-range", ""), ("content-type", ""), ("cookie", ""), ("date", ""),
        ("etag", ""), ("expect", ""), ("expires", ""), ("from", ""), ("host", ""), ("if-match", ""),
        ("if-modified-since", ""), ("if-none-match", ""), ("if-range", ""), ("if-unmodified-since", ""),
        ("last-modified", ""), ("link", ""), ("location", ""), ("max-forwards", ""), ("proxy-authenticate", ""),
        ("proxy-authorization", ""), ("range", ""), ("referer", ""), ("refresh", ""), ("retry-after", ""),
        ("server", ""), ("set-cookie", ""), ("strict-transport-security", ""), ("transfer-encoding", ""),
        ("user-agent", ""), ("vary", ""), ("via", ""), ("www-authenticate", ""),
    ];

    // Newest first, as the index counts them.
    private readonly LinkedList<(string Name, string Value)> _dynamic = new();
    private readonly int _maxAllowedTableSize;
    private int _maxTableSize;
    private int _tableSize;

    /// <param name="maxTableSize">The SETTINGS_HEADER_TABLE_SIZE this side announced (4,096 unless it sent another).</param>
    public HPackDecoder(int maxTableSize = 4096)
    {
        _maxAllowedTableSize = maxTableSize;
        _maxTableSize = maxTableSize;
    }

    /// <summary>Decodes a complete header block into <paramref name="headers"/>.</summary>
    /// <exception cref="Http2ProtocolException">The block is malformed (a COMPRESSION_ERROR for the whole connection).</exception>
    public void Decode(ReadOnlySpan<byte> block, List<KeyValuePair<string, string>> headers)
    {
        var position = 0;
        while (position < block.Length)
        {
            var first = block[position];
            if ((first & 0x80) != 0)
            {
                var (name, value) = Lookup(ReadInteger(block, ref position, 7));
                headers.Add(new(name, value));
            }
            else if ((first & 0xc0) == 0x40)
            {
                var (name, value) = ReadLiteral(block, ref position, 6);
                headers.Add(new(name, value));
                Insert(name, value);
            }
            else if ((first & 0xe0) == 0x20)
            {
                var size = ReadInteger(block, ref position, 5);
                if (size > _maxAllowedTableSize)
                {
                    throw Malformed($"The server set the header table size to {size}, above the {_maxAllowedTableSize} allowed.");
                }
                _maxTableSize = size;
                Evict(size);
            }
            else
            {
                // Literal without indexing (0000) or never indexed (0001): same shape, not added.
                var (name, value) = ReadLiteral(block, ref position, 4);
                headers.Add(new(name, value));
            }
        }
    }

    private (string Name, string Value) ReadLiteral(ReadOnlySpan<byte> block, ref int position, int prefixBits)
    {
        var index = ReadInteger(block, ref position, prefixBits);
        var name = index == 0 ? ReadString(block, ref position) : Lookup(index).Name;
        return (name, ReadString(block, ref position));
    }

    private (string Name, string Value) Lookup(int index)
    {
        if (index >= 1 && index <= s_staticTable.Length)
        {
            return s_staticTable[index - 1];
        }
        var dynamicIndex = index - s_staticTable.Length - 1;
        if (index == 0 || dynamicIndex >= _dynamic.Count)
        {
            throw Malformed($"Header index {index} is not in the table.");
        }
        var entry = _dynamic.First!;
        for (var i = 0; i < dynamicIndex; i++)
        {
            entry = entry.Next!;
        }
        return entry.Value;
    }

    private void Insert(string name, string value)
    {
        var size = Encoding.ASCII.GetByteCount(name) + Encoding.ASCII.GetByteCount(value) + EntryOverhead;
        if (size > _maxTableSize)
        {
            // An entry larger than the table empties it and is not added (RFC 7541, section 4.4).
            _dynamic.Clear();
            _tableSize = 0;
            return;
        }
        Evict(_maxTableSize - size);
        _dynamic.AddFirst((name, value));
        _tableSize += size;
    }

    private void Evict(int targetSize)
    {
        while (_tableSize > targetSize && _dynamic.Last is { } oldest)
        {
            _tableSize -= Encoding.ASCII.GetByteCount(oldest.Value.Name) + Encoding.ASCII.GetByteCount(oldest.Value.Value) + EntryOverhead;
            _dynamic.RemoveLast();
        }
    }

    private static string ReadString(ReadOnlySpan<byte> block, ref int position)
    {
        if (position >= block.Length)
        {
            throw Malformed("A header block ends inside a string.");
        }
        var huffman = (block[position] & 0x80) != 0;
        var length = ReadInteger(block, ref position, 7);
        if (length > block.Length - position)
        {
            throw Malformed("A header string is longer than its block.");
        }
        var raw = block.Slice(position, length);
        position += length;
        if (!huffman)
        {
            return Encoding.Latin1.GetString(raw);
        }
        // A symbol takes at least five bits.
        var decoded = raw.Length * 8 / 5 <= 256 ? stackalloc byte[256] : new byte[raw.Length * 8 / 5];
        var written = Huffman.Decode(raw, decoded);
        return Encoding.Latin1.GetString(decoded[..written]);
    }

    /// <summary>An integer with an N-bit prefix (RFC 7541, section 5.1).</summary>
    internal static int ReadInteger(ReadOnlySpan<byte> block, ref int position, int prefixBits)
    {
        if (position >= block.Length)
        {
            throw Malformed("A header block ends inside an integer.");
        }
        var mask = (1 << prefixBits) - 1;
        var value = block[position++] & mask;
        if (value < mask)
        {
            return value;
        }
        var shift = 0;
        while (true)
        {
            if (position >= block.Length)
            {
                throw Malformed("A header block ends inside an integer.");
            }
            if (shift > 21)
            {
                throw Malformed("A header integer is too large.");
            }
            var octet = block[position++];
            value += (octet & 0x7f) << shift;
            shift += 7;
            if ((octet & 0x80) == 0)
            {
                return value;
            }
        }
    }

    private static Http2ProtocolException Malformed(string message) => new(Http2ErrorCode.CompressionError, message);
}
