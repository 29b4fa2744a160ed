using Microsoft.AspNetCore.Routing;
using SourceGenDO.Server.Rpc;

// In the routing namespace, as ASP.NET Core's own Map* methods are.
namespace Microsoft.AspNetCore.Builder;

/// <summary>Maps the durable object endpoints.</summary>
public static class DurableObjectsEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Maps the gRPC dispatcher service that stubs connect to. gRPC needs HTTP/2: over plain HTTP, serve
    /// it on an endpoint whose protocol is <c>HttpProtocols.Http2</c>.
    /// </summary>
    public static IEndpointConventionBuilder MapDurableObjects(this IEndpointRouteBuilder endpoints) =>
        endpoints.MapGrpcService<DurableObjectsService>();
}
