using System.Diagnostics.Metrics;
using Google.Protobuf;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SourceGenDO.Diagnostics;
using SourceGenDO.Server.Hosting;
using SourceGenDO.Wire;

namespace SourceGenDO.Server.Execution;

/// <summary>
/// Every namespace the server hosts, built once from <see cref="DurableObjectsOptions"/>. Registered with
/// the observable instruments (live activations, queued events, open WebSockets) until disposed.
/// </summary>
internal sealed class DurableObjectHost : IServerGauges, IDisposable
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
        ServerGauges.Register(this);
    }

    /// <summary>What clients learn when they connect.</summary>
    public HandshakeResponse Handshake { get; }

    public IReadOnlyCollection<NamespaceHost> Namespaces => _namespaces.Values;

    public bool TryGetNamespace(string name, out NamespaceHost host) => _namespaces.TryGetValue(name, out host!);

    void IServerGauges.Read(GaugeKind kind, List<Measurement<long>> measurements)
    {
        foreach (var host in _namespaces.Values)
        {
            var value = kind switch
            {
                GaugeKind.Activations => host.ActivationCount,
                GaugeKind.QueuedEvents => host.EventCount,
                _ => host.Sockets.Count,
            };
            measurements.Add(new Measurement<long>(value, new KeyValuePair<string, object?>(TelemetryTags.Namespace, host.Name)));
        }
    }

    /// <summary>Leaves the observable instruments: a server disposed reports nothing more.</summary>
    public void Dispose() => ServerGauges.Unregister(this);
}
