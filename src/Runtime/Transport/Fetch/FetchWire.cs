using System.Globalization;
using System.Net.Http.Headers;
using SourceGenDO.Serialization;

namespace SourceGenDO.Transport.Fetch;

/// <summary>
/// The constants of fetch on the Connect stream (protos/sourcegendo.proto: FetchRequest, FetchResponse,
/// BodyChunk, BodyCredit) and the header copying both sides share.
/// </summary>
internal static class FetchWire
{
    /// <summary>The method name a fetch call carries: no C# method can be named so.</summary>
    public const string Method = "$fetch";

    /// <summary>The largest body sent whole in its head: 64 KiB. Larger bodies, and bodies of unknown length, stream.</summary>
    public const int MaxInlineBodyBytes = 64 * 1024;

    /// <summary>The most data one body chunk carries: 64 KiB. A peer that sends more breaks the protocol.</summary>
    public const int MaxChunkBytes = 64 * 1024;

    /// <summary>
    /// The credit every streamed body starts with, and the most bytes of it ever sent and not yet read:
    /// 256 KiB. Its reader grants credit back as it reads (in steps of <see cref="CreditStep"/>).
    /// </summary>
    public const int Window = 256 * 1024;

    /// <summary>How many bytes a reader reads before it grants them back as credit: a quarter of the window.</summary>
    public const int CreditStep = Window / 4;

    /// <summary>
    /// The most bodies one stream carries at once in each direction: 64, so that a stream's buffered body
    /// bytes stay within 64 × 256 KiB (16 MiB) each way. A request body past it fails its fetch alone, as
    /// overloaded; a response body past it waits for one to end (its head is answered already).
    /// </summary>
    public const int MaxStreamedBodiesPerStream = 64;

    /// <summary>
    /// The most response bodies of one stream either being sent or waiting to be: 1,024. Each one waiting
    /// holds its handler's response (not yet read); past it, a fetch fails after its handler ran.
    /// </summary>
    public const int MaxResponseBodiesPerStream = 1024;

    /// <summary>What a sender gathers before it sends a chunk, unless the body is flushed or ends: 16 KiB.</summary>
    public const int GatherBytes = 16 * 1024;

    // Field numbers of FetchRequest and FetchResponse, and of Header.
    public const int HeadMethodOrStatus = 1, HeadUrlOrReason = 2, HeadHeaders = 3, HeadBody = 4, HeadStreamedBody = 5;
    public const int HeaderName = 1, HeaderValue = 2;

    /// <summary>The error of a fetch refused because its stream carries <see cref="MaxStreamedBodiesPerStream"/> request bodies.</summary>
    public static string TooManyRequestBodies() => string.Create(CultureInfo.InvariantCulture,
        $"Durable Object is overloaded: the stream carries {MaxStreamedBodiesPerStream:N0} streamed request bodies, its limit; the fetch was not delivered.");

    /// <summary>The error of a fetch whose handler ran but whose response body its stream has no room for.</summary>
    public static string TooManyResponseBodies() => string.Create(CultureInfo.InvariantCulture,
        $"Durable Object is overloaded: the stream carries {MaxResponseBodiesPerStream:N0} streamed response bodies (sent or waiting), its limit; the object's Fetch handler ran, but its response was dropped.");

    /// <summary>The error of a synchronous read or write of a fetch body (<paramref name="which"/>: "request" or "response").</summary>
    public static string NoSynchronousIO(string which) =>
        $"A fetch body cannot be read or written synchronously: read the {which} body with ReadAsync/CopyToAsync " +
        "(or ReadAsStringAsync/ReadAsByteArrayAsync) and write it with WriteAsync; a thread blocked on it could stop the stream that carries it.";

    /// <summary>Writes the headers of a message and of its content as repeated Header fields.</summary>
    public static void WriteHeaders(WireWriter writer, HttpHeaders headers, HttpContent? content)
    {
        Write(writer, headers);
        if (content is not null)
        {
            Write(writer, content.Headers);
        }

        static void Write(WireWriter writer, HttpHeaders headers)
        {
            foreach (var (name, values) in headers.NonValidated)
            {
                foreach (var value in values)
                {
                    var start = writer.BeginMessage(HeadHeaders);
                    writer.WriteString(HeaderName, name);
                    writer.WriteString(HeaderValue, value);
                    writer.EndMessage(start);
                }
            }
        }
    }

    /// <summary>Reads one Header message.</summary>
    public static (string Name, string Value) ReadHeader(ref WireReader reader)
    {
        var name = "";
        var value = "";
        while (reader.ReadTag(out var field))
        {
            switch (field)
            {
                case HeaderName:
                    name = reader.ReadString();
                    break;
                case HeaderValue:
                    value = reader.ReadString();
                    break;
                default:
                    reader.Skip();
                    break;
            }
        }
        return (name, value);
    }

    /// <summary>
    /// Adds received headers: each to the message's headers, or to its content's when it is a content
    /// header (<paramref name="content"/> made on demand: headers such as Content-Type need a content).
    /// </summary>
    public static void AddHeaders(IEnumerable<(string Name, string Value)> headers, HttpHeaders target, ref HttpContent? content)
    {
        foreach (var (name, value) in headers)
        {
            if (target.TryAddWithoutValidation(name, value))
            {
                continue;
            }
            content ??= new ByteArrayContent([]);
            content.Headers.TryAddWithoutValidation(name, value);
        }
    }

    /// <summary>
    /// The body of <paramref name="content"/> when it can go whole in the head without waiting: an
    /// in-memory content of at most <see cref="MaxInlineBodyBytes"/>. Null means it streams.
    /// </summary>
    public static byte[]? InlineBody(HttpContent content)
    {
        if (content is not (ByteArrayContent or ReadOnlyMemoryContent) || content.Headers.ContentLength is not { } length || length > MaxInlineBodyBytes)
        {
            return null;
        }
        using var stream = content.ReadAsStream();
        if (stream.Length != length)
        {
            // A declared length that is not the content's: the body streams, all of it.
            return null;
        }
        var body = new byte[length];
        stream.ReadExactly(body);
        return body;
    }
}
