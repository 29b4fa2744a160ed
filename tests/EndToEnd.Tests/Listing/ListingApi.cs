using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using SourceGenDO.Server.Execution;
using SourceGenDO.Server.Storage;

namespace SourceGenDO.EndToEnd.Tests.Listing;

/// <summary>
/// A test's way to the listing of one running server: GETs of the HTTP JSON API (on the HTTP/1.1 endpoint,
/// or the HTTP/2 one), paging through every object as a client of the API would, and objects written
/// straight into the server's storage backend, so that thousands are set up in one commit.
/// </summary>
internal sealed class ListingApi(RunningServer server) : IDisposable
{
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(60) };

    /// <summary>The parsed answer of <c>GET path</c>, with its status, checked to be the envelope.</summary>
    public async Task<(HttpStatusCode Status, JsonElement Body)> GetAsync(string path, bool http2 = false)
    {
        var address = http2 ? server.Address : server.HttpAddress;
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(address, path));
        if (http2)
        {
            // Cleartext HTTP/2 with prior knowledge, as the gRPC endpoint speaks it.
            request.Version = HttpVersion.Version20;
            request.VersionPolicy = HttpVersionPolicy.RequestVersionExact;
        }
        return await SendAsync(request);
    }

    public async Task<(HttpStatusCode Status, JsonElement Body)> SendAsync(HttpRequestMessage request)
    {
        using var response = await _http.SendAsync(request);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
        var success = body.GetProperty("success").GetBoolean();
        Assert.Equal(response.IsSuccessStatusCode, success);
        Assert.Equal(JsonValueKind.Array, body.GetProperty("messages").ValueKind);
        Assert.Equal(success ? 0 : 1, body.GetProperty("errors").GetArrayLength());
        if (!success)
        {
            Assert.Equal(JsonValueKind.Null, body.GetProperty("result").ValueKind);
        }
        return (response.StatusCode, body);
    }

    /// <summary>
    /// Every page of <c>GET .../namespaces/{namespace}/objects</c> with <paramref name="limit"/>, following
    /// the cursors; <paramref name="betweenPages"/> runs after each page but the last.
    /// </summary>
    public async Task<List<JsonElement>> PagesAsync(string @namespace, int? limit = null, Func<Task>? betweenPages = null)
    {
        var pages = new List<JsonElement>();
        var cursor = "";
        do
        {
            var query = new List<string>();
            if (limit is { } l)
            {
                query.Add($"limit={l}");
            }
            if (cursor.Length > 0)
            {
                query.Add($"cursor={Uri.EscapeDataString(cursor)}");
            }
            var (status, body) = await GetAsync($"/api/durable_objects/namespaces/{Uri.EscapeDataString(@namespace)}/objects{(query.Count > 0 ? "?" + string.Join('&', query) : "")}");
            Assert.Equal(HttpStatusCode.OK, status);
            pages.Add(body);
            var info = body.GetProperty("result_info");
            Assert.Equal(body.GetProperty("result").GetArrayLength(), info.GetProperty("count").GetInt32());
            cursor = info.GetProperty("cursor").GetString()!;
            if (cursor.Length > 0 && betweenPages is not null)
            {
                await betweenPages();
            }
        }
        while (cursor.Length > 0);
        return pages;
    }

    /// <summary>The objects of every page, in order: id, hasStoredData, and name (null when left out).</summary>
    public static List<(string Id, bool HasStoredData, string? Name)> Objects(IEnumerable<JsonElement> pages) =>
        pages.SelectMany(static page => page.GetProperty("result").EnumerateArray())
            .Select(static o => (
                o.GetProperty("id").GetString()!,
                o.GetProperty("hasStoredData").GetBoolean(),
                o.TryGetProperty("name", out var name) ? name.GetString() : null))
            .ToList();

    /// <summary>Stores one key for each object in one commit, as if each had written it (with its name, when it has one).</summary>
    public Task WriteAsync(string @namespace, IEnumerable<DurableObjectId> ids) =>
        CommitAsync(ids.Select(id =>
        {
            var batch = new ObjectWriteBatch(new ObjectAddress(@namespace, id.ToString()), id.Name);
            batch.Writes["k"] = [1];
            return batch;
        }));

    /// <summary>Deletes everything of each object in one commit, as its <c>DeleteAllAsync</c> would.</summary>
    public Task DeleteAllAsync(string @namespace, IEnumerable<DurableObjectId> ids) =>
        CommitAsync(ids.Select(id => new ObjectWriteBatch(new ObjectAddress(@namespace, id.ToString()), null) { DeleteAll = true }));

    private Task CommitAsync(IEnumerable<ObjectWriteBatch> batches) =>
        server.App.Services.GetRequiredService<StorageService>().Backend.CommitAsync([.. batches], CancellationToken.None).AsTask();

    public void Dispose() => _http.Dispose();
}
