using Google.Protobuf;
using Grpc.Core;
using SourceGenDO.Wire;

namespace SourceGenDO;

/// <summary>
/// The gRPC methods of the listing service (protos/sourcegendo.proto, <c>DurableObjectListing</c>), which
/// the client calls and the server binds, and the paging bounds both sides check.
/// </summary>
internal static class ListingRpc
{
    public const string ServiceName = "sourcegendo.v1.DurableObjectListing";

    /// <summary>Objects per page when none is asked for, and the fewest and most a page may hold (as on Cloudflare).</summary>
    public const int DefaultObjectsPerPage = 1000, MinObjectsPerPage = 10, MaxObjectsPerPage = 10_000;

    /// <summary>Namespaces per page when none is asked for, and the most a page may hold (as on Cloudflare).</summary>
    public const int DefaultNamespacesPerPage = 20, MaxNamespacesPerPage = 1000;

    public static readonly Method<ListNamespacesRequest, ListNamespacesResponse> ListNamespaces = Unary(
        "ListNamespaces", ListNamespacesRequest.Parser, ListNamespacesResponse.Parser);

    public static readonly Method<ListObjectsRequest, ListObjectsResponse> ListObjects = Unary(
        "ListObjects", ListObjectsRequest.Parser, ListObjectsResponse.Parser);

    private static Method<TRequest, TResponse> Unary<TRequest, TResponse>(string name, MessageParser<TRequest> request, MessageParser<TResponse> response)
        where TRequest : IMessage<TRequest>
        where TResponse : IMessage<TResponse> =>
        new(MethodType.Unary, ServiceName, name,
            Marshallers.Create(static (TRequest message) => message.ToByteArray(), request.ParseFrom),
            Marshallers.Create(static (TResponse message) => message.ToByteArray(), response.ParseFrom));
}
