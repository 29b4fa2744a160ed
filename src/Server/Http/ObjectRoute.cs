using Microsoft.AspNetCore.Http;
using SourceGenDO.Server.Execution;

namespace SourceGenDO.Server.Http;

/// <summary>Which route value names the object.</summary>
internal enum RouteKey
{
    Name,
    Id,
}

/// <summary>One mapped route: finds the object a request names and hands the request to its <c>Fetch</c>.</summary>
internal sealed class ObjectRoute
{
    private readonly NamespaceHost _namespace;
    private readonly RouteKey _key;

    public ObjectRoute(NamespaceHost ns, RouteKey key, IServiceProvider services)
    {
        _namespace = ns;
        _key = key;
        _ = services;
    }

    public Task HandleAsync(HttpContext context) => throw new NotImplementedException();
}
