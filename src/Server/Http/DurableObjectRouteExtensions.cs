using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Patterns;
using Microsoft.Extensions.DependencyInjection;
using SourceGenDO;
using SourceGenDO.Dispatch;
using SourceGenDO.Server.Execution;
using SourceGenDO.Server.Http;

// In the routing namespace, as ASP.NET Core's own Map* methods are.
namespace Microsoft.AspNetCore.Builder;

/// <summary>Maps HTTP routes (and WebSocket upgrades on them) to durable objects' <c>Fetch</c> handlers.</summary>
public static class DurableObjectRouteExtensions
{
    /// <summary>
    /// Sends every request matching <paramref name="pattern"/> (any method) to the <c>Fetch</c> handler of
    /// one <typeparamref name="TObject"/>, hosted in the only namespace that hosts the class: the route value
    /// <c>name</c> names the object (<c>IdFromName</c>), or the route value <c>id</c> gives its id (64 hex
    /// digits; an invalid or foreign id answers 400). The object sees the full original URL, method, headers
    /// and body (streamed), and its response is streamed back. A WebSocket upgrade on the route is handed to
    /// <c>Fetch</c> through <c>request.GetWebSocket()</c>.
    /// </summary>
    /// <remarks>
    /// Browsers and <c>ClientWebSocket</c> speak HTTP/1.1: serve the route on an endpoint with HTTP/1.1
    /// (<c>HttpProtocols.Http1</c>, or <c>Http1AndHttp2</c> with TLS); see the README's "HTTP routes".
    /// </remarks>
    /// <example><code>app.MapDurableObjectRoute&lt;ChatRoom&gt;("/rooms/{name}/{**rest}");</code></example>
    /// <exception cref="InvalidOperationException">No namespace, or more than one, hosts <typeparamref name="TObject"/>.</exception>
    /// <exception cref="ArgumentException">The pattern has neither a <c>name</c> nor an <c>id</c> parameter.</exception>
    public static IEndpointConventionBuilder MapDurableObjectRoute<TObject>(this IEndpointRouteBuilder endpoints, string pattern)
        where TObject : DurableObject
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var host = endpoints.ServiceProvider.GetRequiredService<DurableObjectHost>();
        var dispatcher = DurableObjectRegistry.Get<TObject>();
        var hosting = host.Namespaces.Where(ns => ns.Dispatcher == dispatcher).Select(ns => ns.Name).Order(StringComparer.Ordinal).ToArray();
        return hosting.Length switch
        {
            1 => Map(endpoints, pattern, host, hosting[0]),
            0 => throw new InvalidOperationException(
                $"No namespace hosts {typeof(TObject).FullName}: add one with AddNamespace<{typeof(TObject).Name}>(name) in AddDurableObjects before mapping a route to it."),
            _ => throw new InvalidOperationException(
                $"Several namespaces host {typeof(TObject).FullName} ({string.Join(", ", hosting)}): name one with MapDurableObjectRoute<{typeof(TObject).Name}>(pattern, namespaceName)."),
        };
    }

    /// <summary>
    /// Like <see cref="MapDurableObjectRoute{TObject}(IEndpointRouteBuilder, string)"/>, for the objects of the
    /// namespace <paramref name="namespaceName"/>, when several namespaces host <typeparamref name="TObject"/>.
    /// </summary>
    /// <exception cref="InvalidOperationException">The server has no such namespace, or it hosts another class.</exception>
    /// <exception cref="ArgumentException">The pattern has neither a <c>name</c> nor an <c>id</c> parameter.</exception>
    public static IEndpointConventionBuilder MapDurableObjectRoute<TObject>(this IEndpointRouteBuilder endpoints, string pattern, string namespaceName)
        where TObject : DurableObject
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentException.ThrowIfNullOrWhiteSpace(namespaceName);
        var host = endpoints.ServiceProvider.GetRequiredService<DurableObjectHost>();
        var dispatcher = DurableObjectRegistry.Get<TObject>();
        if (!host.TryGetNamespace(namespaceName, out var ns))
        {
            var names = string.Join(", ", host.Namespaces.Select(n => n.Name).Order(StringComparer.Ordinal));
            throw new InvalidOperationException($"The server has no namespace \"{namespaceName}\" to map a route to (it has: {names}).");
        }
        if (ns.Dispatcher != dispatcher)
        {
            throw new InvalidOperationException(
                $"The namespace \"{namespaceName}\" hosts {ns.Dispatcher.ClassName}, not {typeof(TObject).FullName}.");
        }
        return Map(endpoints, pattern, host, namespaceName);
    }

    private static IEndpointConventionBuilder Map(IEndpointRouteBuilder endpoints, string pattern, DurableObjectHost host, string namespaceName)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(pattern);
        var parsed = RoutePatternFactory.Parse(pattern);
        var key = parsed.GetParameter("name") is not null ? RouteKey.Name
            : parsed.GetParameter("id") is not null ? RouteKey.Id
            : throw new ArgumentException(
                $"The route pattern \"{pattern}\" names no object: give it a {{name}} parameter (the object's name) or an {{id}} parameter (its id).", nameof(pattern));
        host.TryGetNamespace(namespaceName, out var ns);
        var route = new ObjectRoute(ns, key, endpoints.ServiceProvider);
        return endpoints.Map(parsed, route.Handler).WithDisplayName($"Durable object route {pattern} -> {namespaceName}");
    }
}
