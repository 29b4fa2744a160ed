using System.Collections.Concurrent;

namespace SourceGenDO.Diagnostics;

/// <summary>
/// The span names <c>{namespace}/{method}</c> (OpenTelemetry's <c>{rpc.service}/{rpc.method}</c>), made
/// once per pair rather than per span. Bounded, as method names on the server come from clients.
/// </summary>
internal static class SpanNames
{
    public const string Fetch = "$fetch";
    public const string Alarm = "$alarm";

    private const int MaxCached = 4096;

    private static readonly ConcurrentDictionary<(string Namespace, string Method), string> Cache = new();

    public static string Of(string @namespace, string method)
    {
        if (Cache.TryGetValue((@namespace, method), out var name))
        {
            return name;
        }
        name = string.Concat(@namespace, "/", method);
        if (Cache.Count < MaxCached)
        {
            Cache.TryAdd((@namespace, method), name);
        }
        return name;
    }
}
