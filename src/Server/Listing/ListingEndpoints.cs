using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace SourceGenDO.Server.Listing;

/// <summary>Registers and maps the listing: its gRPC service and its HTTP JSON API.</summary>
internal static class ListingEndpoints
{
    public static void Register(IServiceCollection services)
    {
        services.TryAddSingleton<ObjectListing>();
        services.TryAddSingleton<ListingRpcService>();
    }

    /// <summary>Maps both; the conventions added to the result apply to every listing endpoint.</summary>
    public static IEndpointConventionBuilder Map(IEndpointRouteBuilder endpoints) =>
        new EndpointConventions(endpoints.MapGrpcService<ListingRpcService>(), ListingHttpApi.Map(endpoints));
}

/// <summary>Several endpoints' convention builders as one: what is added to it is added to each.</summary>
internal sealed class EndpointConventions(params IEndpointConventionBuilder[] builders) : IEndpointConventionBuilder
{
    public void Add(Action<EndpointBuilder> convention)
    {
        foreach (var builder in builders)
        {
            builder.Add(convention);
        }
    }

    public void Finally(Action<EndpointBuilder> finallyConvention)
    {
        foreach (var builder in builders)
        {
            builder.Finally(finallyConvention);
        }
    }
}
