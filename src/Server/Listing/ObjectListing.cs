using System.Globalization;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using SourceGenDO.Serialization;
using SourceGenDO.Server.Execution;
using SourceGenDO.Server.Storage;

namespace SourceGenDO.Server.Listing;

/// <summary>
/// The listing of namespaces and objects that the HTTP JSON API (<see cref="ListingHttpApi"/>) and the
/// gRPC listing service (<see cref="ListingRpcService"/>) both answer from: paging bounds, the namespace a
/// request names, the cursor, and the storage query, checked and run in one place so the two always agree.
/// </summary>
/// <remarks>
/// Objects are read from the storage backend, so the listing shows what is committed: an object appears
/// once its first write is durable, and leaves once the write that removed its last key and its alarm
/// (<c>DeleteAllAsync</c>) is. Writes still in an instance's write-back cache are not shown; since the
/// output gate releases no result before the writes made ahead of it are durable, everything a caller
/// saw acknowledged is listed.
/// </remarks>
internal sealed class ObjectListing
{
    private readonly StorageService _storage;
    private readonly ILogger _logger;
    private readonly DurableObjectNamespaceInfo[] _namespaces;
    private readonly Dictionary<string, NamespaceHost> _byId = new(StringComparer.Ordinal);
    private readonly DurableObjectHost _host;

    public ObjectListing(DurableObjectHost host, StorageService storage, ILoggerFactory loggers)
    {
        _host = host;
        _storage = storage;
        _logger = loggers.CreateLogger("SourceGenDO.Server.Listing");
        var ordered = host.Namespaces.OrderBy(static ns => ns.Name, StringComparer.Ordinal).ToArray();
        _namespaces = new DurableObjectNamespaceInfo[ordered.Length];
        for (var i = 0; i < ordered.Length; i++)
        {
            var id = NamespaceId(ordered[i]);
            _byId.Add(id, ordered[i]);
            _namespaces[i] = new DurableObjectNamespaceInfo(id, ordered[i].Name, ordered[i].Dispatcher.ClassName);
        }
    }

    /// <summary>
    /// A namespace's id for the listing: 32 hex digits, like a Cloudflare namespace id, derived from its id
    /// key (so it changes only when the server secret does, as every object id then does too).
    /// </summary>
    public static string NamespaceId(NamespaceHost ns) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(ns.Key.Key, "sgdo/namespace-id"u8)[..16]);

    /// <summary>One page of the namespaces, ordered by name; <paramref name="page"/> past the end is an empty page.</summary>
    /// <param name="page">From 1; null for 1.</param>
    /// <param name="perPage">From 1 to 1,000; null for 20.</param>
    /// <param name="visible">The namespaces the caller's access grants, by name: the others are left out as if absent.</param>
    public NamespacePage ListNamespaces(PagingValue page, PagingValue perPage, Func<string, bool> visible)
    {
        var number = InRange("page", page, 1, 1, int.MaxValue);
        var size = InRange("per_page", perPage, ListingRpc.DefaultNamespacesPerPage, 1, ListingRpc.MaxNamespacesPerPage);
        var seen = Array.FindAll(_namespaces, ns => visible(ns.Name));
        var skip = (long)(number - 1) * size;
        var items = skip >= seen.Length ? [] : seen.AsSpan((int)skip, (int)Math.Min(size, seen.Length - skip)).ToArray();
        return new NamespacePage(items, number, size, seen.Length);
    }

    /// <summary>One page of the objects of a namespace, ordered by id, with the cursor of the next page ("" after the last).</summary>
    /// <param name="namespace">The namespace's id (32 hex digits) or, failing that, its name.</param>
    /// <param name="limit">From 10 to 10,000; null for 1,000.</param>
    /// <param name="cursor">Null or empty for the first page; else the cursor of the page before.</param>
    /// <param name="visible">The namespaces the caller's access grants, by name: another one is answered as unknown, so a scoped token learns nothing of it.</param>
    /// <param name="cancellationToken">Ends the storage read.</param>
    /// <exception cref="ListingException">A value is invalid, the namespace unknown, or storage cannot be read.</exception>
    public async Task<ObjectPage> ListObjectsAsync(string @namespace, PagingValue limit, string? cursor, Func<string, bool> visible, CancellationToken cancellationToken)
    {
        var ns = Namespace(@namespace, visible);
        var size = InRange("limit", limit, ListingRpc.DefaultObjectsPerPage, ListingRpc.MinObjectsPerPage, ListingRpc.MaxObjectsPerPage);
        var after = string.IsNullOrEmpty(cursor) ? null : ListingCursor.Parse(cursor, ns.Key, ns.Name);
        if (!_storage.Opened.IsCompletedSuccessfully || _storage.Context.IsStopped)
        {
            throw new ListingException(503, ListingException.StorageUnavailableCode, _storage.Context.IsStopped
                ? "Durable Object storage is no longer accessible: the server is shutting down."
                : "Durable Object storage is not open yet: the server is starting.");
        }
        IReadOnlyList<ListedObject> objects;
        try
        {
            // One more than the page, to know whether another page follows without asking again.
            objects = await _storage.Backend.ListObjectsAsync(ns.Name, after, size + 1, cancellationToken).ConfigureAwait(false);
        }
        catch (NotSupportedException e)
        {
            throw new ListingException(501, ListingException.NotSupportedCode, e.Message, e);
        }
        catch (ObjectDisposedException e)
        {
            throw new ListingException(503, ListingException.StorageUnavailableCode, "Durable Object storage is no longer accessible: the server is shutting down.", e);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            _logger.LogError(e, "Listing the objects of namespace {Namespace} failed.", ns.Name);
            throw new ListingException(500, ListingException.FailedCode, $"Listing the objects of namespace \"{ns.Name}\" failed: {e.Message}", e);
        }
        if (objects.Count <= size)
        {
            return new ObjectPage(objects, "");
        }
        var page = objects.Take(size).ToArray();
        return new ObjectPage(page, ListingCursor.After(page[^1].Id));
    }

    private NamespaceHost Namespace(string text, Func<string, bool> visible)
    {
        if ((_byId.TryGetValue(text, out var ns) || _host.TryGetNamespace(text, out ns)) && visible(ns.Name))
        {
            return ns;
        }
        throw new ListingException(404, ListingException.UnknownNamespaceCode,
            $"The server has no namespace with the id or name {ClientText.Quote(text)}; GET /api/durable_objects/namespaces lists them.");
    }

    /// <summary><paramref name="value"/>, or <paramref name="fallback"/> when absent, checked against the bounds.</summary>
    private static int InRange(string parameter, PagingValue value, int fallback, int min, int max)
    {
        if (value.Value is not { } given)
        {
            return fallback;
        }
        if (given < min || given > max)
        {
            var quoted = value.Text is { } text ? ClientText.Quote(text) : given.ToString(CultureInfo.InvariantCulture);
            throw new ListingException(400, ListingException.InvalidParameterCode, string.Create(CultureInfo.InvariantCulture,
                $"Invalid value for {parameter}: {quoted}. It must be an integer from {min} to {max}{(fallback == min ? "" : $" (default {fallback})")}."));
        }
        return (int)given;
    }
}

/// <summary>
/// A paging value as a request gave it: absent (null), or an integer, with the text it was parsed from
/// when it came as text (to quote in an error).
/// </summary>
internal readonly record struct PagingValue(long? Value, string? Text = null)
{
    public static PagingValue Absent => default;

    /// <summary>
    /// A query parameter's values as the HTTP API received them: absent, or one integer (one too large
    /// for a long counts as out of range), else a <see cref="ListingException"/> saying what is wrong.
    /// </summary>
    public static PagingValue Parse(string parameter, IReadOnlyList<string?> values)
    {
        if (values.Count == 0)
        {
            return Absent;
        }
        if (values.Count > 1)
        {
            throw new ListingException(400, ListingException.InvalidParameterCode,
                $"Invalid value for {parameter}: it is given {values.Count} times. Give it once.");
        }
        var text = values[0] ?? "";
        if (long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
        {
            return new PagingValue(value, text);
        }
        var digits = text.AsSpan(text.StartsWith('-') ? 1 : 0);
        if (digits.Length > 0 && !digits.ContainsAnyExceptInRange('0', '9'))
        {
            return new PagingValue(text.StartsWith('-') ? long.MinValue : long.MaxValue, text);
        }
        throw new ListingException(400, ListingException.InvalidParameterCode,
            $"Invalid value for {parameter}: {ClientText.Quote(text)}. It must be an integer.");
    }
}

/// <summary>One page of namespaces, with the page number and size used and the count of all namespaces.</summary>
internal sealed record NamespacePage(IReadOnlyList<DurableObjectNamespaceInfo> Namespaces, int Page, int PerPage, int TotalCount);

/// <summary>One page of objects and the cursor of the next page ("" when this is the last).</summary>
internal sealed record ObjectPage(IReadOnlyList<ListedObject> Objects, string Cursor);
