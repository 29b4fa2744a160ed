using SourceGenDO.Dispatch;
using SourceGenDO.Server.Execution;
using SourceGenDO.Server.Listing;
using SourceGenDO.Server.Rpc;

namespace SourceGenDO.Server.Hosting;

/// <summary>
/// Gives objects the namespaces of this server, so they can call each other; the calls travel through
/// the same dispatcher service as remote ones, in process.
/// </summary>
internal sealed class LocalNamespaceProvider : IDurableObjectNamespaceProvider
{
    private readonly Lazy<DurableObjectClient> _client;

    public LocalNamespaceProvider(DurableObjectHost host, DurableObjectsService service, ListingRpcService listing) =>
        _client = new Lazy<DurableObjectClient>(() => DurableObjectClient.CreateConnected(new InProcessCallInvoker(service, listing), host.Handshake.Namespaces));

    public DurableObjectNamespace<TStub> GetNamespace<TStub>() where TStub : DurableObjectStub, IDurableObjectStub<TStub>
    {
        var hosting = _client.Value.NamespacesHosting(TStub.ObjectClassName).Select(info => info.Name).ToArray();
        return hosting.Length switch
        {
            1 => _client.Value.GetNamespace<TStub>(hosting[0]),
            0 => throw new InvalidOperationException($"No namespace of this server hosts '{TStub.ObjectClassName}'; add one with AddNamespace."),
            _ => throw new InvalidOperationException(
                $"Several namespaces host '{TStub.ObjectClassName}' ({string.Join(", ", hosting)}); take the client's GetNamespace with a name instead."),
        };
    }
}
