using Microsoft.AspNetCore.Routing;
using SourceGenDO.Server.Listing;
using SourceGenDO.Server.Rpc;

// In the routing namespace, as ASP.NET Core's own Map* methods are.
namespace Microsoft.AspNetCore.Builder;

/// <summary>Maps the durable object endpoints.</summary>
public static class DurableObjectsEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Maps the gRPC dispatcher service that stubs connect to, and the listing: its gRPC service (the
    /// client's <c>ListNamespacesAsync</c>/<c>ListObjectsAsync</c>) and the HTTP JSON API under
    /// <c>/api/durable_objects</c>. gRPC needs HTTP/2: over plain HTTP, serve it on an endpoint whose
    /// protocol is <c>HttpProtocols.Http2</c>; the JSON API answers on every endpoint, HTTP/1.1 or HTTP/2.
    /// Conventions added to the result (<c>RequireHost</c>, <c>RequireAuthorization</c>, ...) apply to all of them.
    /// </summary>
    public static IEndpointConventionBuilder MapDurableObjects(this IEndpointRouteBuilder endpoints) =>
        new EndpointConventions(endpoints.MapGrpcService<DurableObjectsService>(), ListingEndpoints.Map(endpoints));
}
