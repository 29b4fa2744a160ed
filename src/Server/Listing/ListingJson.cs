using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace SourceGenDO.Server.Listing;

/// <summary>
/// The JSON envelope of the listing API, in the shape of the Cloudflare API's: <c>success</c>,
/// <c>errors</c> and <c>messages</c> (arrays of <c>{code, message}</c>), <c>result</c> and <c>result_info</c>.
/// </summary>
internal sealed class ListingEnvelope<TResult, TInfo>
    where TResult : class
    where TInfo : class
{
    [JsonPropertyName("success")]
    public bool Success { get; init; }

    [JsonPropertyName("errors")]
    public IReadOnlyList<ListingMessage> Errors { get; init; } = [];

    [JsonPropertyName("messages")]
    public IReadOnlyList<ListingMessage> Messages { get; init; } = [];

    /// <summary>Null (written as <c>null</c>) when the request failed.</summary>
    [JsonPropertyName("result")]
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public TResult? Result { get; init; }

    /// <summary>Left out when the request failed.</summary>
    [JsonPropertyName("result_info")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public TInfo? ResultInfo { get; init; }
}

/// <summary>An entry of <c>errors</c> or <c>messages</c>.</summary>
internal sealed record ListingMessage(
    [property: JsonPropertyName("code")] int Code,
    [property: JsonPropertyName("message")] string Message);

/// <summary>A namespace of <c>GET /api/durable_objects/namespaces</c>.</summary>
internal sealed record NamespaceJson(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("class")] string Class);

/// <summary>An object of <c>GET /api/durable_objects/namespaces/{namespace}/objects</c>; <c>name</c> is left out when unknown.</summary>
internal sealed record ObjectJson(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("hasStoredData")] bool HasStoredData,
    [property: JsonPropertyName("name"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Name);

/// <summary>The <c>result_info</c> of the namespaces: page paging.</summary>
internal sealed record PageInfoJson(
    [property: JsonPropertyName("page")] int Page,
    [property: JsonPropertyName("per_page")] int PerPage,
    [property: JsonPropertyName("count")] int Count,
    [property: JsonPropertyName("total_count")] int TotalCount);

/// <summary>The <c>result_info</c> of the objects: cursor paging, <c>cursor</c> empty on the last page.</summary>
internal sealed record CursorInfoJson(
    [property: JsonPropertyName("count")] int Count,
    [property: JsonPropertyName("cursor")] string Cursor);

/// <summary>The source-generated serializers of the envelopes: no reflection, trim- and AOT-safe.</summary>
[JsonSerializable(typeof(ListingEnvelope<NamespaceJson[], PageInfoJson>))]
[JsonSerializable(typeof(ListingEnvelope<ObjectJson[], CursorInfoJson>))]
internal sealed partial class ListingJsonContext : JsonSerializerContext
{
    /// <summary>
    /// The serializers with quotes, apostrophes and non-ASCII text written as they are (<c>"</c>, not
    /// <c>\u0022</c>), as the Cloudflare API writes them: the answers are <c>application/json</c>, never
    /// embedded in HTML, so the default encoder's HTML-safe escaping only makes error messages unreadable.
    /// </summary>
    public static ListingJsonContext Api { get; } = new(new JsonSerializerOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
}
