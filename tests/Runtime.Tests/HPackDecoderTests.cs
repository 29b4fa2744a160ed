using System.Buffers;
using SourceGenDO.Transport.Http2;

namespace SourceGenDO.Runtime.Tests;

/// <summary>The HTTP/2 client's header decoding, against the worked examples of RFC 7541 Appendix C.</summary>
public sealed class HPackDecoderTests
{
    private static byte[] Hex(string hex) => Convert.FromHexString(hex.Replace(" ", ""));

    private static List<KeyValuePair<string, string>> Decode(HPackDecoder decoder, string hex)
    {
        var headers = new List<KeyValuePair<string, string>>();
        decoder.Decode(Hex(hex), headers);
        return headers;
    }

    [Fact]
    public void HuffmanCodedResponsesDecodeAndEvictAsTheRfcShows()
    {
        // C.6: a 256-byte table, so the third response evicts entries the first two added.
        var decoder = new HPackDecoder(maxTableSize: 256);
        Assert.Equal(
            [new(":status", "302"), new("cache-control", "private"), new("date", "Mon, 21 Oct 2013 20:13:21 GMT"), new("location", "https://www.example.com")],
            Decode(decoder, "4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6 2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3"));
        Assert.Equal(
            [new(":status", "307"), new("cache-control", "private"), new("date", "Mon, 21 Oct 2013 20:13:21 GMT"), new("location", "https://www.example.com")],
            Decode(decoder, "4883 640e ffc1 c0bf"));
        Assert.Equal(
            [
                new(":status", "200"), new("cache-control", "private"), new("date", "Mon, 21 Oct 2013 20:13:22 GMT"),
                new("location", "https://www.example.com"), new("content-encoding", "gzip"),
                new("set-cookie", "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1"),
            ],
            Decode(decoder, "88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab 77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f 9587 3160 65c0 03ed 4ee5 b106 3d50 07"));
        // After the evictions the newest entry is index 62 and only three remain.
        Assert.Equal([new("set-cookie", "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1"), new("date", "Mon, 21 Oct 2013 20:13:22 GMT")],
            Decode(decoder, "be c0"));
        Assert.Throws<Http2ProtocolException>(() => Decode(decoder, "c1"));
    }

    [Fact]
    public void HuffmanCodedRequestsDecodeWithTheirTable()
    {
        // C.4: requests; the authority literal is added to the table and referenced by index afterwards.
        var decoder = new HPackDecoder();
        Assert.Equal([new(":method", "GET"), new(":scheme", "http"), new(":path", "/"), new(":authority", "www.example.com")],
            Decode(decoder, "8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff"));
        Assert.Equal([new(":method", "GET"), new(":scheme", "http"), new(":path", "/"), new(":authority", "www.example.com"), new("cache-control", "no-cache")],
            Decode(decoder, "8286 84be 5886 a8eb 1064 9cbf"));
        Assert.Equal([new(":method", "GET"), new(":scheme", "https"), new(":path", "/index.html"), new(":authority", "www.example.com"), new("custom-key", "custom-value")],
            Decode(decoder, "8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf"));
    }

    [Fact]
    public void ATableSizeUpdateEvictsOnlyWhatNoLongerFits()
    {
        var decoder = new HPackDecoder();
        // Two literals added to the table: custom-key (54 bytes with overhead), then grpc-a: b (39 bytes).
        Decode(decoder, "400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572");
        Decode(decoder, "4006 6772 7063 2d61 0162");
        // Shrinking to 50 bytes keeps the newest entry (index 62) and drops the older one.
        Assert.Equal([new("grpc-a", "b")], Decode(decoder, "3f13 be"));
        Assert.Throws<Http2ProtocolException>(() => Decode(decoder, "bf"));
    }

    [Theory]
    [InlineData("82 bf", "not in the table")]
    [InlineData("40 8c f1e3", "longer than its block")]
    [InlineData("41 81 fe", "padded wrongly")]
    [InlineData("3fe2 1f", "header table size")]
    [InlineData("1f", "ends inside an integer")]
    public void MalformedBlocksAreCompressionErrorsThatSayWhy(string hex, string message)
    {
        var error = Assert.Throws<Http2ProtocolException>(() => Decode(new HPackDecoder(), hex));
        Assert.Equal(Http2ErrorCode.CompressionError, error.Code);
        Assert.Contains(message, error.Message);
    }

    [Fact]
    public void RequestHeadersDecodeToWhatWasWritten()
    {
        var path = "/" + new string('p', 300);
        var block = new ArrayBufferWriter<byte>();
        RequestHeaders.Write(block, "127.0.0.1:5000", path, TimeSpan.FromSeconds(2), new Grpc.Core.Metadata { { "x-tenant", "blue" } });
        var headers = new List<KeyValuePair<string, string>>();
        new HPackDecoder().Decode(block.WrittenSpan, headers);
        Assert.Equal(
            [
                new(":method", "POST"), new(":scheme", "http"), new(":path", path), new(":authority", "127.0.0.1:5000"),
                new("content-type", "application/grpc"), new("te", "trailers"), new("user-agent", "sourcegendo-dotnet"),
                new("grpc-timeout", "2000m"), new("x-tenant", "blue"),
            ],
            headers);
    }
}
