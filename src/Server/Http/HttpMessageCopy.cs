using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Extensions;
using Microsoft.AspNetCore.Http.Features;

namespace SourceGenDO.Server.Http;

/// <summary>Turns an ASP.NET Core request into the <see cref="HttpRequestMessage"/> an object's <c>Fetch</c> takes, and its response back; bodies stream.</summary>
internal static class HttpMessageCopy
{
    // Hop-by-hop headers (RFC 9110 section 7.6.1) describe one connection: never copied onto another.
    private static readonly HashSet<string> HopByHop = new(StringComparer.OrdinalIgnoreCase)
    {
        "Connection", "Keep-Alive", "Proxy-Connection", "Transfer-Encoding", "Upgrade", "TE", "Trailer",
    };

    /// <summary>
    /// The request as the client sent it: full URL, method, headers (but the hop-by-hop ones), and the body
    /// as a stream read while the object reads it; null, with the <paramref name="problem"/> to answer 400
    /// with, when its Host header makes no valid URL.
    /// </summary>
    public static HttpRequestMessage? ToRequestMessage(HttpContext context, bool upgrade, out string problem)
    {
        var source = context.Request;
        var host = source.Host;
        if (!host.HasValue)
        {
            // HTTP/1.0 may leave the Host header out: the address the request came to stands in.
            var connection = context.Connection;
            host = new HostString(connection.LocalIpAddress?.ToString() ?? "localhost", connection.LocalPort);
        }
        var text = UriHelper.BuildAbsolute(source.Scheme, host, source.PathBase, source.Path, source.QueryString);
        if (!Uri.TryCreate(text, UriKind.Absolute, out var url))
        {
            problem = $"The request's Host header \"{source.Host.Value}\" does not make a valid URL.";
            return null;
        }
        problem = string.Empty;
        var request = new HttpRequestMessage(new HttpMethod(source.Method), url);
        var protocol = source.Protocol;
        request.Version = HttpProtocol.IsHttp2(protocol) ? new Version(2, 0) : HttpProtocol.IsHttp3(protocol) ? new Version(3, 0) : new Version(1, 1);
        if (context.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody ?? source.ContentLength > 0)
        {
            request.Content = new StreamContent(source.Body);
        }
        foreach (var (name, values) in source.Headers)
        {
            // A WebSocket upgrade keeps Connection and Upgrade, which say what it is.
            if (name.StartsWith(':') || (HopByHop.Contains(name) && !(upgrade && IsUpgradeHeader(name))))
            {
                continue;
            }
            if (!request.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values) && request.Content is { } content)
            {
                content.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values);
            }
        }
        return request;
    }

    private static bool IsUpgradeHeader(string name) =>
        string.Equals(name, "Connection", StringComparison.OrdinalIgnoreCase) || string.Equals(name, "Upgrade", StringComparison.OrdinalIgnoreCase);

    /// <summary>Writes <paramref name="response"/>'s status and headers, then streams its body.</summary>
    public static async Task CopyResponseAsync(HttpResponseMessage response, HttpContext context)
    {
        var target = context.Response;
        target.StatusCode = (int)response.StatusCode;
        CopyHeaders(response.Headers, target.Headers);
        if (response.Content is not { } content)
        {
            return;
        }
        CopyHeaders(content.Headers, target.Headers);
        var body = await content.ReadAsStreamAsync(context.RequestAborted).ConfigureAwait(false);
        await using (body.ConfigureAwait(false))
        {
            await body.CopyToAsync(target.Body, context.RequestAborted).ConfigureAwait(false);
        }
    }

    private static void CopyHeaders(System.Net.Http.Headers.HttpHeaders source, IHeaderDictionary target)
    {
        foreach (var (name, values) in source.NonValidated)
        {
            if (!HopByHop.Contains(name))
            {
                target[name] = values.ToArray();
            }
        }
    }
}
