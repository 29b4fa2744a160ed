using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Reflection;

namespace SourceGenDO;

/// <summary>
/// The names under which SourceGenDO reports traces and metrics through <c>System.Diagnostics</c>: one
/// <see cref="ActivitySource"/> and one <see cref="Meter"/>, both named <see cref="Name"/>. Nothing is
/// recorded, and a call pays nothing for it, until a listener subscribes to them; with OpenTelemetry:
/// <code>
/// builder.Services.AddOpenTelemetry()
///     .WithTracing(tracing =&gt; tracing.AddSource(SourceGenDOTelemetry.Name))
///     .WithMetrics(metrics =&gt; metrics.AddMeter(SourceGenDOTelemetry.Name));
/// </code>
/// </summary>
/// <remarks>
/// Spans: one per call on the client (<see cref="ActivityKind.Client"/>) and on the server
/// (<see cref="ActivityKind.Server"/>), named <c>{namespace}/{method}</c>, joined across the wire by the
/// W3C trace context; a fetch is the call <c>{namespace}/$fetch</c>, a request through an HTTP route the
/// span <c>{namespace}/$fetch</c> beside ASP.NET Core's own, an alarm run the span <c>{namespace}/$alarm</c>.
/// The metric instruments are named by the constants of <see cref="Instruments"/>.
/// </remarks>
public static class SourceGenDOTelemetry
{
    /// <summary>The name of SourceGenDO's <see cref="ActivitySource"/> and <see cref="Meter"/>: "SourceGenDO".</summary>
    public const string Name = "SourceGenDO";

    /// <summary>The version the source and the meter report: the runtime assembly's informational version.</summary>
    public static string Version { get; } =
        typeof(SourceGenDOTelemetry).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
        ?? typeof(SourceGenDOTelemetry).Assembly.GetName().Version?.ToString()
        ?? "0.0.0";

    /// <summary>The source of every SourceGenDO span, client and server.</summary>
    internal static readonly ActivitySource Source = new(Name, Version);

    /// <summary>The meter of every SourceGenDO instrument (Diagnostics/SourceGenDOMetrics.cs).</summary>
    internal static readonly Meter Meter = new(Name, Version);

    /// <summary>The names of the metric instruments on the <see cref="Name"/> meter.</summary>
    public static class Instruments
    {
        /// <summary>Calls made through stubs, counted as they end (counter, <c>{call}</c>; tags namespace, method, outcome).</summary>
        public const string ClientCalls = "sourcegendo.client.calls";

        /// <summary>How long calls took at the caller, from the call to its result (histogram, seconds; tags namespace, method, outcome).</summary>
        public const string ClientCallDuration = "sourcegendo.client.call.duration";

        /// <summary>Calls through stubs that failed, by kind (counter, <c>{error}</c>; tags namespace, method, kind).</summary>
        public const string ClientErrors = "sourcegendo.client.errors";

        /// <summary>Calls the server answered, counted as they are answered (counter, <c>{call}</c>; tags namespace, method, outcome).</summary>
        public const string ServerCalls = "sourcegendo.server.calls";

        /// <summary>How long the server took over calls, from reading them to answering (histogram, seconds; tags namespace, method, outcome).</summary>
        public const string ServerCallDuration = "sourcegendo.server.call.duration";

        /// <summary>Calls the server answered with an error, by kind (counter, <c>{error}</c>; tags namespace, method, kind).</summary>
        public const string ServerErrors = "sourcegendo.server.errors";

        /// <summary>Live object instances (observable up-down counter, <c>{activation}</c>; tag namespace).</summary>
        public const string Activations = "sourcegendo.server.activations";

        /// <summary>Events accepted by live instances and not yet finished, running or queued (observable up-down counter, <c>{event}</c>; tag namespace).</summary>
        public const string QueuedEvents = "sourcegendo.server.queued_events";

        /// <summary>Group commits of storage writes (counter, <c>{commit}</c>; tag outcome).</summary>
        public const string StorageCommits = "sourcegendo.server.storage.commits";

        /// <summary>How long one group commit took in the storage backend (histogram, seconds; tag outcome).</summary>
        public const string StorageCommitDuration = "sourcegendo.server.storage.commit.duration";

        /// <summary>Accepted WebSockets that are open, hibernated ones included (observable up-down counter, <c>{socket}</c>; tag namespace).</summary>
        public const string WebSockets = "sourcegendo.server.websockets";
    }
}
