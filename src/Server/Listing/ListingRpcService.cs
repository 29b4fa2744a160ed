using Grpc.Core;
using SourceGenDO.Server.Rpc;
using SourceGenDO.Server.Security;
using SourceGenDO.Wire;

namespace SourceGenDO.Server.Listing;

/// <summary>
/// The gRPC listing service (<c>sourcegendo.v1.DurableObjectListing</c>), which the client's
/// <c>ListNamespacesAsync</c> and <c>ListObjectsAsync</c> call: the same <see cref="ObjectListing"/> as the
/// HTTP JSON API, with its errors as the call's status (INVALID_ARGUMENT, NOT_FOUND, ...) and message.
/// </summary>
/// <remarks>
/// Bound by hand, like the dispatcher service; gRPC finds the handlers by reflection at startup and
/// accepts only virtual methods declared by the bound type, hence the unsealed class and virtual methods.
/// Zero in a request's number fields means the default, as proto3 cannot tell it from absent. A caller
/// is admitted as a handshake is (the access token, Unauthenticated without it) and sees only the
/// namespaces its token grants; object code listing in process is the server itself.
/// </remarks>
[BindServiceMethod(typeof(ListingRpcService), nameof(BindService))]
internal class ListingRpcService(ObjectListing listing, AccessGate access)
{
    /// <summary>Declares the service's methods to gRPC, which then finds them on the service by name.</summary>
    public static void BindService(ServiceBinderBase binder, ListingRpcService? service)
    {
        binder.AddMethod(ListingRpc.ListNamespaces, service is null ? null! : service.ListNamespaces);
        binder.AddMethod(ListingRpc.ListObjects, service is null ? null! : service.ListObjects);
    }

    public virtual Task<ListNamespacesResponse> ListNamespaces(ListNamespacesRequest request, ServerCallContext context)
    {
        NamespacePage page;
        try
        {
            page = listing.ListNamespaces(Value(request.Page), Value(request.PerPage), Admit(context));
        }
        catch (ListingException e)
        {
            throw new RpcException(new Status(e.GrpcStatus, e.Message));
        }
        var response = new ListNamespacesResponse { Page = (uint)page.Page, PerPage = (uint)page.PerPage, TotalCount = (uint)page.TotalCount };
        foreach (var ns in page.Namespaces)
        {
            response.Namespaces.Add(new ListedNamespace { Id = ns.Id, Name = ns.Name, ClassName = ns.ClassName });
        }
        return Task.FromResult(response);
    }

    public virtual async Task<ListObjectsResponse> ListObjects(ListObjectsRequest request, ServerCallContext context)
    {
        ObjectPage page;
        try
        {
            page = await listing.ListObjectsAsync(request.Namespace, Value(request.Limit), request.Cursor, Admit(context), context.CancellationToken).ConfigureAwait(false);
        }
        catch (ListingException e)
        {
            throw new RpcException(new Status(e.GrpcStatus, e.Message));
        }
        var response = new ListObjectsResponse { Cursor = page.Cursor };
        foreach (var listed in page.Objects)
        {
            var entry = new Wire.ListedObject { Id = listed.Id, HasStoredData = listed.HasStoredData };
            if (listed.Name is not null)
            {
                entry.Name = listed.Name;
            }
            response.Objects.Add(entry);
        }
        return response;
    }

    // The namespaces the caller may see; throws Unauthenticated or PermissionDenied for a caller without access.
    private Func<string, bool> Admit(ServerCallContext context)
    {
        if (DurableObjectsService.IsInProcess(context))
        {
            return static _ => true;
        }
        return access.AdmitCall(context, "a listing call").Allows;
    }

    private static PagingValue Value(uint number) => number == 0 ? PagingValue.Absent : new PagingValue(number);
}
