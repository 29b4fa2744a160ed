using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using SourceGenDO.Dispatch;
using SourceGenDO.Serialization;
using SourceGenDO.Server;
using SourceGenDO.Server.Execution;
using SourceGenDO.Server.Health;
using SourceGenDO.Server.Hosting;
using SourceGenDO.Server.Listing;
using SourceGenDO.Server.Rpc;
using SourceGenDO.Server.Security;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Hosting;

// In the DI namespace, as ASP.NET Core's own Add* methods are, so that Program.cs needs no using.
namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the durable object host.</summary>
public static class DurableObjectsServiceCollectionExtensions
{
    /// <summary>
    /// Hosts durable objects: add namespaces in <paramref name="configure"/>, then call
    /// <c>app.MapDurableObjects()</c>.
    /// </summary>
    /// <remarks>
    /// Also sets defaults for Kestrel's connection limits, which the app's own Kestrel configuration
    /// overrides whether made before or after this call: <c>Limits.KeepAliveTimeout</c> 30 s (a
    /// connection with no stream open, or one that never speaks, is closed after that);
    /// <c>Limits.Http2.KeepAlivePingDelay</c> 30 s and <c>KeepAlivePingTimeout</c> 20 s (a connection that
    /// stops answering is closed); and, where the process has an open-file limit (Linux, macOS),
    /// <c>Limits.MaxConcurrentConnections</c> and <c>Limits.MaxConcurrentUpgradedConnections</c> at half
    /// each of the files left when Kestrel starts, less an eighth of the limit (at least 128 files), so that
    /// sockets can never use up the process's files. Connections past the limit are closed at once. Behind
    /// Kestrel's limits, the socket transport holds at most that budget of sockets open at once, whatever
    /// the limits say: at the bound it stops accepting (connections wait in the listen backlog) until one
    /// closes, and logs a warning at most once a minute.
    /// <para>
    /// Access: with no access token (<see cref="DurableObjectsOptions.Access"/>, or the configuration key
    /// <c>DurableObjects:AccessToken</c>) and no client certificate validation, the server serves loopback only
    /// and refuses to start when it is bound to any other address. With a token, every call, route, WebSocket
    /// upgrade and <c>/api/durable_objects</c> request must carry it.
    /// </para>
    /// <para>
    /// Registers the health check <c>sourcegendo-storage</c> (<see cref="StorageHealthCheck"/>), unhealthy
    /// while storage cannot commit: map it with <c>app.MapHealthChecks("/healthz")</c>.
    /// </para>
    /// </remarks>
    /// <example><code>builder.Services.AddDurableObjects(o =&gt; o.AddNamespace&lt;Counter&gt;("COUNTERS"));</code></example>
    public static IServiceCollection AddDurableObjects(this IServiceCollection services, Action<DurableObjectsOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        services.Configure(configure);
        // First in the collection, so that it runs before every other configuration of Kestrel, whenever
        // that was registered: the app's own settings win over these defaults.
        if (!services.Any(static service => service.ImplementationInstance is KestrelConnectionDefaults))
        {
            services.Insert(0, ServiceDescriptor.Singleton<IConfigureOptions<KestrelServerOptions>>(new KestrelConnectionDefaults()));
            // Registered after Kestrel's own socket transport, so Kestrel tries it first for every endpoint it
            // can bind (TCP, Unix sockets); a transport the app registers later still comes before it.
            services.AddSingleton<IConnectionListenerFactory, BoundedSocketTransportFactory>();
        }
        services.AddGrpc(grpc =>
        {
            grpc.MaxReceiveMessageSize = PayloadLimits.MaxFrameBytes;
            grpc.MaxSendMessageSize = PayloadLimits.MaxFrameBytes;
        });
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<StorageService>();
        services.TryAddSingleton<DurableObjectHost>();
        services.TryAddSingleton<DurableObjectsService>();
        services.TryAddSingleton<IDurableObjectNamespaceProvider, LocalNamespaceProvider>();
        // Access control: tokens from code and configuration, the checks of every surface, and the refusal to
        // start beyond loopback without a credential.
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IConfigureOptions<DurableObjectsOptions>, AccessConfiguration>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IOptionsChangeTokenSource<DurableObjectsOptions>, AccessConfiguration>());
        services.TryAddSingleton<AccessPolicy>();
        services.TryAddSingleton<AccessGate>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IStartupFilter, ApiAccessStartupFilter>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, ListenAddressCheck>());
        ListingEndpoints.Register(services);
        StorageHealthCheck.Register(services);
        services.AddHostedService<StorageLifetime>();
        services.AddHostedService<EvictionService>();
        return services;
    }
}
