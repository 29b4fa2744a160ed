using Microsoft.Extensions.DependencyInjection.Extensions;
using SourceGenDO.Dispatch;
using SourceGenDO.Serialization;
using SourceGenDO.Server;
using SourceGenDO.Server.Execution;
using SourceGenDO.Server.Hosting;
using SourceGenDO.Server.Rpc;

// In the DI namespace, as ASP.NET Core's own Add* methods are, so that Program.cs needs no using.
namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the durable object host.</summary>
public static class DurableObjectsServiceCollectionExtensions
{
    /// <summary>
    /// Hosts durable objects: add namespaces in <paramref name="configure"/>, then call
    /// <c>app.MapDurableObjects()</c>.
    /// </summary>
    /// <example><code>builder.Services.AddDurableObjects(o =&gt; o.AddNamespace&lt;Counter&gt;("COUNTERS"));</code></example>
    public static IServiceCollection AddDurableObjects(this IServiceCollection services, Action<DurableObjectsOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        services.Configure(configure);
        services.AddGrpc(grpc =>
        {
            grpc.MaxReceiveMessageSize = PayloadLimits.MaxFrameBytes;
            grpc.MaxSendMessageSize = PayloadLimits.MaxFrameBytes;
        });
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<DurableObjectHost>();
        services.TryAddSingleton<DurableObjectsService>();
        services.TryAddSingleton<IDurableObjectNamespaceProvider, LocalNamespaceProvider>();
        services.AddHostedService<EvictionService>();
        return services;
    }
}
