using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

using SourceGenDO.Server.Security;

namespace SourceGenDO.Server.Listing;

/// <summary>
/// The HTTP JSON listing API under <see cref="Prefix"/>, in the shape of the Durable Objects REST API:
/// <c>GET /namespaces</c> (page, per_page) and <c>GET /namespaces/{namespace}/objects</c> (limit, cursor).
/// Every answer, errors included, is the JSON envelope; any other path under the prefix is a 404 (or a
/// 405 for a method other than GET on a listing path) in the same envelope.
/// </summary>
internal static class ListingHttpApi
{
    /// <summary>The path every listing endpoint is under.</summary>
    public const string Prefix = "/api/durable_objects";

    private const string JsonContentType = "application/json; charset=utf-8";

    public static RouteGroupBuilder Map(IEndpointRouteBuilder endpoints)
    {
        var listing = endpoints.ServiceProvider.GetRequiredService<ObjectListing>();
        var group = endpoints.MapGroup(Prefix);
        group.MapGet("/namespaces", (RequestDelegate)(context => Answer(context, listing, NamespacesAsync)))
            .WithDisplayName("Durable object listing: namespaces");
        group.MapGet("/namespaces/{namespace}/objects", (RequestDelegate)(context => Answer(context, listing, ObjectsAsync)))
            .WithDisplayName("Durable object listing: objects");
        group.Map("/{**rest}", (RequestDelegate)(context => Answer(context, listing, static (_, context) => throw NoRoute(context.Request))))
            .WithDisplayName("Durable object listing: no route");
        return group;
    }

    private static Task NamespacesAsync(ObjectListing listing, HttpContext context)
    {
        var query = context.Request.Query;
        var page = listing.ListNamespaces(PagingValue.Parse("page", query["page"]), PagingValue.Parse("per_page", query["per_page"]),
            name => DurableObjectsAccess.CanSeeNamespace(context, name));
        var envelope = new ListingEnvelope<NamespaceJson[], PageInfoJson>
        {
            Success = true,
            Result = page.Namespaces.Select(static ns => new NamespaceJson(ns.Id, ns.Name, ns.ClassName)).ToArray(),
            ResultInfo = new PageInfoJson(page.Page, page.PerPage, page.Namespaces.Count, page.TotalCount),
        };
        return context.Response.WriteAsJsonAsync(envelope, ListingJsonContext.Api.ListingEnvelopeNamespaceJsonArrayPageInfoJson, JsonContentType, context.RequestAborted);
    }

    private static async Task ObjectsAsync(ObjectListing listing, HttpContext context)
    {
        var query = context.Request.Query;
        var limit = PagingValue.Parse("limit", query["limit"]);
        var cursors = query["cursor"];
        if (cursors.Count > 1)
        {
            throw new ListingException(400, ListingException.InvalidCursorCode, $"Invalid value for cursor: it is given {cursors.Count} times. Give it once.");
        }
        var @namespace = (string)context.Request.RouteValues["namespace"]!;
        var page = await listing.ListObjectsAsync(@namespace, limit, cursors.Count == 0 ? null : cursors[0],
            name => DurableObjectsAccess.CanSeeNamespace(context, name), context.RequestAborted).ConfigureAwait(false);
        var envelope = new ListingEnvelope<ObjectJson[], CursorInfoJson>
        {
            Success = true,
            Result = page.Objects.Select(static o => new ObjectJson(o.Id, o.HasStoredData, o.Name)).ToArray(),
            ResultInfo = new CursorInfoJson(page.Objects.Count, page.Cursor),
        };
        await context.Response.WriteAsJsonAsync(envelope, ListingJsonContext.Api.ListingEnvelopeObjectJsonArrayCursorInfoJson, JsonContentType, context.RequestAborted).ConfigureAwait(false);
    }

    private static ListingException NoRoute(HttpRequest request)
    {
        var path = (request.Path.Value ?? "").TrimEnd('/');
        var listingPath = path == Prefix + "/namespaces"
            || (path.StartsWith(Prefix + "/namespaces/", StringComparison.Ordinal) && path.EndsWith("/objects", StringComparison.Ordinal));
        return listingPath && !HttpMethods.IsGet(request.Method)
            ? new ListingException(405, ListingException.MethodNotAllowedCode, $"Method {request.Method} is not allowed here: the listing API answers GET only.")
            : new ListingException(404, ListingException.NoRouteCode,
                "No route for that URI. The listing API has GET /api/durable_objects/namespaces and GET /api/durable_objects/namespaces/{namespace}/objects.");
    }

    /// <summary>Runs one request's listing; a <see cref="ListingException"/> becomes its status and an error envelope.</summary>
    private static async Task Answer(HttpContext context, ObjectListing listing, Func<ObjectListing, HttpContext, Task> handle)
    {
        try
        {
            await handle(listing, context).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client went away; nobody is left to answer.
        }
        catch (ListingException e) when (!context.Response.HasStarted)
        {
            context.Response.StatusCode = e.HttpStatus;
            if (e.HttpStatus == StatusCodes.Status405MethodNotAllowed)
            {
                context.Response.Headers.Allow = "GET";
            }
            var envelope = new ListingEnvelope<ObjectJson[], CursorInfoJson> { Success = false, Errors = [new ListingMessage(e.Code, e.Message)] };
            await context.Response.WriteAsJsonAsync(envelope, ListingJsonContext.Api.ListingEnvelopeObjectJsonArrayCursorInfoJson, JsonContentType, context.RequestAborted).ConfigureAwait(false);
        }
    }
}
