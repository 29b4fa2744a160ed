using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace SourceGenDO.Server.Security;

/// <summary>What the server's other HTTP surfaces (the listing API) ask of the access rules.</summary>
internal static class DurableObjectsAccess
{
    /// <summary>
    /// Whether the caller of <paramref name="context"/> may see the namespace <paramref name="namespace"/>: true on a
    /// server without credentials (local callers only get this far) and for tokens and certificates granting every
    /// namespace; for a scoped token, only for its namespaces; false for a caller without a valid credential.
    /// </summary>
    public static bool CanSeeNamespace(HttpContext context, string @namespace) =>
        context.RequestServices.GetRequiredService<AccessGate>().CanSeeNamespace(context, @namespace);

    /// <summary>
    /// Refuses the endpoints of <paramref name="builder"/> to callers without a valid credential (401 in the API's
    /// envelope), wherever they are mapped: the path guard of <see cref="AccessGate.ApiPrefix"/> sees paths before
    /// a <c>UsePathBase</c> strips them, this sees the endpoint.
    /// </summary>
    public static TBuilder RequireDurableObjectsAccess<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder
    {
        // Finally: for minimal-API endpoints the request delegate is made after the ordinary conventions ran.
        builder.Finally(endpoint =>
        {
            var inner = endpoint.RequestDelegate ?? throw new InvalidOperationException($"The endpoint {endpoint.DisplayName} has no request delegate to guard.");
            endpoint.RequestDelegate = context => context.RequestServices.GetRequiredService<AccessGate>().GuardApiAsync(context, inner);
        });
        return builder;
    }
}
