using System.Runtime.CompilerServices;
using Grpc.Core;
using SourceGenDO.Wire;

namespace SourceGenDO;

public sealed partial class DurableObjectClient
{
    /// <summary>
    /// Every namespace the server hosts, ordered by name, asked of the server (its listing service, the
    /// same listing as <c>GET /api/durable_objects/namespaces</c>) one page at a time as the sequence is read.
    /// </summary>
    /// <param name="pageSize">Namespaces asked for per round trip, from 1 to 1,000.</param>
    /// <param name="cancellationToken">Ends the sequence (the next read throws <see cref="OperationCanceledException"/>).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="pageSize"/> is out of range (thrown at once).</exception>
    /// <exception cref="DurableObjectException">The server could not be asked (<see cref="DurableObjectException.Retryable"/> when it could not be reached), thrown by the read.</exception>
    public IAsyncEnumerable<DurableObjectNamespaceInfo> ListNamespacesAsync(
        int pageSize = ListingRpc.MaxNamespacesPerPage, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(pageSize, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(pageSize, ListingRpc.MaxNamespacesPerPage);
        return Pages(pageSize, cancellationToken);

        async IAsyncEnumerable<DurableObjectNamespaceInfo> Pages(int pageSize, [EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            for (var page = 1u; ; page++)
            {
                var response = await ListingCallAsync(
                    ListingRpc.ListNamespaces, new ListNamespacesRequest { Page = page, PerPage = (uint)pageSize }, cancellationToken).ConfigureAwait(false);
                foreach (var ns in response.Namespaces)
                {
                    yield return new DurableObjectNamespaceInfo(ns.Id, ns.Name, ns.ClassName);
                }
                // Namespaces are the server's configuration, so page numbers stay valid between requests.
                if (response.Namespaces.Count < pageSize || (long)page * pageSize >= response.TotalCount)
                {
                    yield break;
                }
            }
        }
    }

    /// <summary>
    /// The objects of the namespace <paramref name="namespaceName"/> that have stored data (keys or an
    /// alarm), ordered by id, asked of the server one page at a time as the sequence is read; see
    /// <see cref="DurableObjectNamespace{TStub}.ListObjectsAsync"/>. For tools that have no stub type.
    /// </summary>
    /// <exception cref="ArgumentException">The server has no such namespace (thrown at once).</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="pageSize"/> is not from 10 to 10,000 (thrown at once).</exception>
    /// <exception cref="DurableObjectException">The server could not be asked, thrown by the read.</exception>
    public IAsyncEnumerable<DurableObjectInfo> ListObjectsAsync(
        string namespaceName, int pageSize = ListingRpc.DefaultObjectsPerPage, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(namespaceName);
        if (!_keys.ContainsKey(namespaceName))
        {
            throw new ArgumentException(
                $"The server has no namespace \"{namespaceName}\". It hosts: {string.Join(", ", _namespaces.Keys.Order(StringComparer.Ordinal))}.", nameof(namespaceName));
        }
        return ListObjectsCore(namespaceName, pageSize, cancellationToken);
    }

    internal IAsyncEnumerable<DurableObjectInfo> ListObjectsCore(string namespaceName, int pageSize, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(pageSize, ListingRpc.MinObjectsPerPage);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(pageSize, ListingRpc.MaxObjectsPerPage);
        return Pages(namespaceName, pageSize, cancellationToken);

        async IAsyncEnumerable<DurableObjectInfo> Pages(string namespaceName, int pageSize, [EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            var key = _keys[namespaceName];
            var request = new ListObjectsRequest { Namespace = namespaceName, Limit = (uint)pageSize };
            while (true)
            {
                var response = await ListingCallAsync(ListingRpc.ListObjects, request, cancellationToken).ConfigureAwait(false);
                foreach (var listed in response.Objects)
                {
                    DurableObjectId id;
                    try
                    {
                        id = key.Parse(listed.Id).WithName(listed.HasName ? listed.Name : null);
                    }
                    catch (ArgumentException e)
                    {
                        throw new DurableObjectException($"The server listed an object id of namespace \"{namespaceName}\" that is not valid for it: {e.Message}", e);
                    }
                    yield return new DurableObjectInfo(id, listed.HasStoredData);
                }
                // Keyset paging: the cursor holds the last id, so objects created or deleted meanwhile never
                // make one present throughout appear twice or not at all.
                if (response.Cursor.Length == 0)
                {
                    yield break;
                }
                request = new ListObjectsRequest { Namespace = namespaceName, Limit = (uint)pageSize, Cursor = response.Cursor };
            }
        }
    }

    /// <summary>One unary call of the listing service; its errors as <see cref="DurableObjectException"/>.</summary>
    private async Task<TResponse> ListingCallAsync<TRequest, TResponse>(Method<TRequest, TResponse> method, TRequest request, CancellationToken cancellationToken)
        where TRequest : class
        where TResponse : class
    {
        try
        {
            return await Invoker.AsyncUnaryCall(method, null, new CallOptions(_headers, cancellationToken: cancellationToken), request).ConfigureAwait(false);
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.Cancelled && cancellationToken.IsCancellationRequested)
        {
            throw new OperationCanceledException(cancellationToken);
        }
        catch (RpcException e)
        {
            throw new DurableObjectException($"Listing failed: {e.Status.Detail}", e)
            {
                Retryable = e.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded,
            };
        }
    }
}
