using System.Buffers;
using System.Text;
using Grpc.Core;

namespace SourceGenDO.Transport.Http2;

/// <summary>
/// Encodes the header block that opens a gRPC request (RFC 7541): static-table names, literal values,
/// never Huffman-coded and never added to the server's dynamic table, so encoding keeps no state.
/// </summary>
internal static class RequestHeaders
{
    // Static table indexes (RFC 7541, Appendix A).
    private const byte MethodPost = 3;
    private const byte SchemeHttp = 6;
    private const int AuthorityName = 1;
    private const int PathName = 4;
    private const int ContentTypeName = 31;
    private const int UserAgentName = 58;

    private const string UserAgent = "sourcegendo-dotnet";

    /// <summary>Writes the request headers of a call to <paramref name="path"/> on <paramref name="authority"/>.</summary>
    public static void Write(IBufferWriter<byte> output, string authority, string path, TimeSpan? timeout, Metadata? metadata)
    {
        WriteIndexed(output, MethodPost);
        WriteIndexed(output, SchemeHttp);
        WriteLiteral(output, PathName, path);
        WriteLiteral(output, AuthorityName, authority);
        WriteLiteral(output, ContentTypeName, "application/grpc");
        WriteLiteral(output, "te", "trailers");
        WriteLiteral(output, UserAgentName, UserAgent);
        if (timeout is { } remaining)
        {
            // At most eight digits (gRPC over HTTP/2): milliseconds cover 27 hours, longer goes in seconds.
            var milliseconds = Math.Max(1, (long)Math.Ceiling(remaining.TotalMilliseconds));
            WriteLiteral(output, "grpc-timeout", milliseconds < 100_000_000
                ? $"{milliseconds}m"
                : $"{Math.Min(99_999_999, milliseconds / 1000)}S");
        }
        if (metadata is not null)
        {
            foreach (var entry in metadata)
            {
                WriteLiteral(output, entry.Key, entry.IsBinary ? Convert.ToBase64String(entry.ValueBytes) : entry.Value);
            }
        }
    }

    private static void WriteIndexed(IBufferWriter<byte> output, byte index)
    {
        output.GetSpan(1)[0] = (byte)(0x80 | index);
        output.Advance(1);
    }

    // Literal header field without indexing, indexed name (RFC 7541, section 6.2.2).
    private static void WriteLiteral(IBufferWriter<byte> output, int nameIndex, string value)
    {
        WriteInteger(output, 0x00, 4, nameIndex);
        WriteString(output, value);
    }

    // Literal header field without indexing, new name.
    private static void WriteLiteral(IBufferWriter<byte> output, string name, string value)
    {
        WriteInteger(output, 0x00, 4, 0);
        WriteString(output, name);
        WriteString(output, value);
    }

    private static void WriteString(IBufferWriter<byte> output, string value)
    {
        var length = Encoding.Latin1.GetByteCount(value);
        WriteInteger(output, 0x00, 7, length);
        var span = output.GetSpan(length);
        Encoding.Latin1.GetBytes(value, span);
        output.Advance(length);
    }

    /// <summary>An integer with an N-bit prefix after the pattern bits in <paramref name="first"/> (RFC 7541, section 5.1).</summary>
    internal static void WriteInteger(IBufferWriter<byte> output, byte first, int prefixBits, int value)
    {
        var span = output.GetSpan(6);
        var max = (1 << prefixBits) - 1;
        if (value < max)
        {
            span[0] = (byte)(first | value);
            output.Advance(1);
            return;
        }
        span[0] = (byte)(first | max);
        var written = 1;
        value -= max;
        while (value >= 0x80)
        {
            span[written++] = (byte)((value & 0x7f) | 0x80);
            value >>= 7;
        }
        span[written++] = (byte)value;
        output.Advance(written);
    }
}
