using Google.Protobuf;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SourceGenDO.Server.Hosting;
using SourceGenDO.Wire;

namespace SourceGenDO.Server.Execution;

/// <summary>Every namespace the server hosts, built once from <see cref="DurableObjectsOptions"/>.</summary>
internal sealed class DurableObjectHost
{
    private readonly Dictionary<string, NamespaceHost> _namespaces;

    public DurableObjectHost(IOptions<DurableObjectsOptions> options, IServiceProvider services, TimeProvider time, ILoggerFactory loggers, StorageService storage)
    {
        var settings = options.Value;
        var secret = NamespaceSecret.Load(settings);
        var logger = loggers.CreateLogger("SourceGenDO.Server");
        _namespaces = settings.Namespaces.ToDictionary(
            pair => pair.Key,
            pair => new NamespaceHost(pair.Key, pair.Value, NamespaceSecret.KeyFor(secret, pair.Key), settings, services, time, logger, storage.Context),
            StringComparer.Ordinal);
        Handshake = new HandshakeResponse();
        foreach (var host in _namespaces.Values.OrderBy(host => host.Name, StringComparer.Ordinal))
        {
            Handshake.Namespaces.Add(new NamespaceInfo
            {
                Name = host.Name,
                ClassName = host.Dispatcher.ClassName,
                IdKey = ByteString.CopyFrom(host.Key.Key),
            });
        }
    }

    /// <summary>What clients learn when they connect.</summary>
    public HandshakeResponse Handshake { get; }

    public IReadOnlyCollection<NamespaceHost> Namespaces => _namespaces.Values;

    public bool TryGetNamespace(string name, out NamespaceHost host) => _namespaces.TryGetValue(name, out host!);
}
