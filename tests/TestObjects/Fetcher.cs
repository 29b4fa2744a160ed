using System.Collections.Concurrent;
using System.Net;
using System.Text;

namespace SourceGenDO.TestObjects;

/// <summary>
/// Answers HTTP requests sent with <c>stub.FetchAsync</c>, one path per behaviour the fetch tests prove;
/// its RPC methods share a log with the fetches, to show their order.
/// </summary>
public class Fetcher(DurableObjectState ctx, DurableObjectNamespace<FetcherStub> fetchers) : DurableObject(ctx)
{
    private readonly List<string> _log = [];

    /// <summary>What fetch handlers observed, by object name, for tests that look from outside (bodies that broke off, heap figures).</summary>
    public static ConcurrentDictionary<string, string> Observed { get; } = new();

    public Task Note(string entry)
    {
        _log.Add(entry);
        return Task.CompletedTask;
    }

    public Task<List<string>> Log() => Task.FromResult(_log);

    /// <summary>Writes, then fetches another fetcher: the output gate holds the fetch until the write is durable.</summary>
    public async Task<string> WriteAndFetch(string otherName, string value)
    {
        Ctx.Storage.Put("written", value);
        using var response = await fetchers.GetByName(otherName).FetchAsync("http://do/log?" + value);
        return await response.Content.ReadAsStringAsync();
    }

    /// <summary>Fetches a generated body of <paramref name="bytes"/> from another fetcher and counts it, object to object.</summary>
    public async Task<string> CountFrom(string otherName, long bytes)
    {
        using var response = await fetchers.GetByName(otherName).FetchAsync("http://do/generate?" + bytes);
        var stream = await response.Content.ReadAsStreamAsync();
        var buffer = new byte[81920];
        long count = 0;
        var matches = true;
        int read;
        while ((read = await stream.ReadAsync(buffer)) > 0)
        {
            matches &= GeneratedContent.Matches(buffer.AsSpan(0, read), count);
            count += read;
        }
        return $"{count} {(matches ? "match" : "differ")}";
    }

    protected override async Task<HttpResponseMessage> Fetch(HttpRequestMessage request)
    {
        var query = request.RequestUri!.Query.TrimStart('?');
        switch (request.RequestUri.AbsolutePath)
        {
            case "/log":
                // Logged before any await: the log shows the order fetches started in.
                _log.Add("fetch:" + query);
                return new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent(query) };
            case "/echo":
                return await Echo(request);
            case "/throw":
                throw new InvalidOperationException("The fetch handler failed: " + query);
            case "/throw-custom":
                throw new CustomFailureException("A custom failure: " + query);
            case "/count":
                return await Count(request, query);
            case "/generate":
                return new HttpResponseMessage(HttpStatusCode.OK)
                {
                    Content = new GeneratedContent(long.Parse(query, System.Globalization.CultureInfo.InvariantCulture), Ctx.Id.Name!),
                };
            case "/generate-then-fail":
                return new HttpResponseMessage(HttpStatusCode.OK)
                {
                    Content = new GeneratedContent(long.Parse(query, System.Globalization.CultureInfo.InvariantCulture), Ctx.Id.Name!, failAtEnd: true),
                };
            case "/read-some":
                // One read, then an answer: the rest of the body is never read.
                var some = await (await request.Content!.ReadAsStreamAsync()).ReadAsync(new byte[81920]);
                return new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent("read " + some) };
            case "/read-sync":
                return ReadSynchronously(request);
            case "/declared-small":
                // A body far longer than the Content-Length its handler declares.
                var declared = new GeneratedContent(long.Parse(query, System.Globalization.CultureInfo.InvariantCulture), Ctx.Id.Name!);
                declared.Headers.ContentLength = 10;
                return new HttpResponseMessage(HttpStatusCode.OK) { Content = declared };
            case "/write":
                Ctx.Storage.Put("fetched", query);
                return new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent("written " + query) };
            case "/read":
                return new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent(await Ctx.Storage.GetAsync<string>("fetched") ?? "") };
            default:
                return await base.Fetch(request);
        }
    }

    private static async Task<HttpResponseMessage> Echo(HttpRequestMessage request)
    {
        var body = request.Content is null ? [] : await request.Content.ReadAsByteArrayAsync();
        var response = new HttpResponseMessage(HttpStatusCode.Accepted) { ReasonPhrase = "Echoed", Content = new ByteArrayContent(body) };
        response.Headers.TryAddWithoutValidation("X-Method", request.Method.Method);
        response.Headers.TryAddWithoutValidation("X-Path", request.RequestUri!.AbsolutePath);
        response.Headers.TryAddWithoutValidation("X-Query", request.RequestUri.Query);
        response.Headers.TryAddWithoutValidation("X-Host", request.RequestUri.Host);
        foreach (var (name, values) in request.Headers.NonValidated)
        {
            response.Headers.TryAddWithoutValidation("X-Request-" + name, values);
        }
        if (request.Content is not null)
        {
            foreach (var (name, values) in request.Content.Headers.NonValidated)
            {
                response.Headers.TryAddWithoutValidation("X-Content-" + name, values);
            }
        }
        response.Content.Headers.TryAddWithoutValidation("Content-Type", "application/x-echo");
        response.Content.Headers.TryAddWithoutValidation("Content-Language", "en-GB");
        return response;
    }

    /// <summary>Reads the request body with a synchronous read, which a body refuses: answers with what the read threw.</summary>
    private static HttpResponseMessage ReadSynchronously(HttpRequestMessage request)
    {
        string outcome;
        try
        {
            var stream = request.Content!.ReadAsStream();
            var buffer = new byte[81920];
            long count = 0;
            int read;
            while ((read = stream.Read(buffer, 0, buffer.Length)) > 0)
            {
                count += read;
            }
            outcome = "read " + count;
        }
        catch (NotSupportedException e)
        {
            outcome = e.Message;
        }
        return new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent(outcome) };
    }

    /// <summary>
    /// Reads the request body as a stream, counting its bytes and checking them against
    /// <see cref="GeneratedContent"/>'s pattern; with <c>?measure</c>, takes the process's heap size
    /// (after a full collection) half way, when 32 MiB have passed.
    /// </summary>
    private async Task<HttpResponseMessage> Count(HttpRequestMessage request, string query)
    {
        var name = Ctx.Id.Name!;
        var stream = await request.Content!.ReadAsStreamAsync();
        var buffer = new byte[81920];
        long count = 0;
        var matches = true;
        try
        {
            int read;
            while ((read = await stream.ReadAsync(buffer)) > 0)
            {
                matches &= GeneratedContent.Matches(buffer.AsSpan(0, read), count);
                var before = count;
                count += read;
                if (query == "measure" && before < 32 * 1024 * 1024 && count >= 32 * 1024 * 1024)
                {
                    Observed[name + ":heap"] = GC.GetTotalMemory(forceFullCollection: true).ToString(System.Globalization.CultureInfo.InvariantCulture);
                }
            }
        }
        catch (Exception e)
        {
            Observed[name + ":request"] = $"{e.GetType().Name} after {count} bytes: {e.Message}";
            throw;
        }
        Observed[name + ":request"] = $"read {count}";
        return new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent($"{count} {(matches ? "match" : "differ")}", Encoding.UTF8) };
    }
}

/// <summary>A content of unknown length written by <see cref="HttpContent.SerializeToStreamAsync(Stream, System.Net.TransportContext?, CancellationToken)"/> alone.</summary>
public abstract class UnknownLengthContent : HttpContent
{
    protected override Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context) =>
        SerializeToStreamAsync(stream, context, CancellationToken.None);

    protected override bool TryComputeLength(out long length)
    {
        length = 0;
        return false;
    }
}

/// <summary>A body of a given length made as it is read (never held whole), in a pattern a reader can check.</summary>
public sealed class GeneratedContent(long length, string name, bool failAtEnd = false) : UnknownLengthContent
{
    private const int Piece = 64 * 1024;

    /// <summary>How many bytes each named body has produced so far, and how its producing ended.</summary>
    public static ConcurrentDictionary<string, long> Produced { get; } = new();

    public static ConcurrentDictionary<string, string> Ended { get; } = new();

    /// <summary>The pattern byte at <paramref name="position"/>.</summary>
    public static byte At(long position) => (byte)((position * 31 + (position >> 16)) & 0xFF);

    public static bool Matches(ReadOnlySpan<byte> bytes, long start)
    {
        for (var i = 0; i < bytes.Length; i++)
        {
            if (bytes[i] != At(start + i))
            {
                return false;
            }
        }
        return true;
    }

    protected override async Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context, CancellationToken cancellationToken)
    {
        var buffer = new byte[Piece];
        long written = 0;
        try
        {
            while (written < length)
            {
                var count = (int)Math.Min(Piece, length - written);
                for (var i = 0; i < count; i++)
                {
                    buffer[i] = At(written + i);
                }
                await stream.WriteAsync(buffer.AsMemory(0, count), cancellationToken);
                written += count;
                Produced[name] = written;
            }
            if (failAtEnd)
            {
                throw new InvalidOperationException($"The generator failed after {written} bytes.");
            }
            Ended[name] = "completed";
        }
        catch (Exception e)
        {
            Ended[name] = e.GetType().Name;
            throw;
        }
    }
}
