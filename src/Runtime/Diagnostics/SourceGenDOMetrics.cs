using System.Diagnostics;
using System.Diagnostics.Metrics;
using Instruments = SourceGenDO.SourceGenDOTelemetry.Instruments;

namespace SourceGenDO.Diagnostics;

/// <summary>
/// Every instrument on SourceGenDO's meter. Recording sites check <see cref="Instrument.Enabled"/> (or the
/// <c>...Observed</c> properties here) first, so that with no listener a call reads a few fields and
/// allocates nothing; the gauges are observable, read only when a listener collects.
/// </summary>
internal static class SourceGenDOMetrics
{
    // Seconds, from 10 µs (an in-process call) to 10 s: OpenTelemetry's default buckets are for milliseconds.
    private static readonly InstrumentAdvice<double> Seconds = new()
    {
        HistogramBucketBoundaries = [0.00001, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    };

    public static readonly Counter<long> ClientCalls = SourceGenDOTelemetry.Meter.CreateCounter<long>(
        Instruments.ClientCalls, "{call}", "Calls made through stubs, counted as they end.");

    public static readonly Histogram<double> ClientCallDuration = SourceGenDOTelemetry.Meter.CreateHistogram(
        Instruments.ClientCallDuration, "s", "How long calls took at the caller, from the call to its result.", tags: null, advice: Seconds);

    public static readonly Counter<long> ClientErrors = SourceGenDOTelemetry.Meter.CreateCounter<long>(
        Instruments.ClientErrors, "{error}", "Calls through stubs that failed, by kind of error.");

    public static readonly Counter<long> ServerCalls = SourceGenDOTelemetry.Meter.CreateCounter<long>(
        Instruments.ServerCalls, "{call}", "Calls the server answered.");

    public static readonly Histogram<double> ServerCallDuration = SourceGenDOTelemetry.Meter.CreateHistogram(
        Instruments.ServerCallDuration, "s", "How long the server took over calls, from reading them off the stream to answering them.", tags: null, advice: Seconds);

    public static readonly Counter<long> ServerErrors = SourceGenDOTelemetry.Meter.CreateCounter<long>(
        Instruments.ServerErrors, "{error}", "Calls the server answered with an error, by kind of error.");

    public static readonly Counter<long> StorageCommits = SourceGenDOTelemetry.Meter.CreateCounter<long>(
        Instruments.StorageCommits, "{commit}", "Group commits of storage writes: each makes the write batches of many objects durable together.");

    public static readonly Histogram<double> StorageCommitDuration = SourceGenDOTelemetry.Meter.CreateHistogram(
        Instruments.StorageCommitDuration, "s", "How long one group commit took in the storage backend.", tags: null, advice: Seconds);

    public static readonly ObservableUpDownCounter<long> Activations = SourceGenDOTelemetry.Meter.CreateObservableUpDownCounter(
        Instruments.Activations, static () => ServerGauges.Read(GaugeKind.Activations), "{activation}", "Live object instances.");

    public static readonly ObservableUpDownCounter<long> QueuedEvents = SourceGenDOTelemetry.Meter.CreateObservableUpDownCounter(
        Instruments.QueuedEvents, static () => ServerGauges.Read(GaugeKind.QueuedEvents), "{event}",
        "Events (calls, fetches, alarms, socket messages) accepted by live instances and not yet finished: running or waiting in their queues.");

    public static readonly ObservableUpDownCounter<long> WebSockets = SourceGenDOTelemetry.Meter.CreateObservableUpDownCounter(
        Instruments.WebSockets, static () => ServerGauges.Read(GaugeKind.WebSockets), "{socket}", "Accepted WebSockets that are open, hibernated ones included.");

    /// <summary>True when a listener records any client call instrument.</summary>
    public static bool ClientObserved => ClientCalls.Enabled || ClientCallDuration.Enabled || ClientErrors.Enabled;

    /// <summary>True when a listener records any server call instrument.</summary>
    public static bool ServerObserved => ServerCalls.Enabled || ServerCallDuration.Enabled || ServerErrors.Enabled;

    /// <summary>Counts a call that ended, on the client or the server (<paramref name="client"/>).</summary>
    public static void RecordCall(bool client, string @namespace, string method, string? errorKind, long startedTimestamp)
    {
        var outcome = errorKind is null ? TelemetryTags.Ok : TelemetryTags.Error;
        var calls = client ? ClientCalls : ServerCalls;
        var duration = client ? ClientCallDuration : ServerCallDuration;
        var errors = client ? ClientErrors : ServerErrors;
        var tags = new TagList
        {
            { TelemetryTags.Namespace, @namespace },
            { TelemetryTags.RpcMethod, method },
            { TelemetryTags.Outcome, outcome },
        };
        if (calls.Enabled)
        {
            calls.Add(1, tags);
        }
        if (startedTimestamp != 0 && duration.Enabled)
        {
            duration.Record(Stopwatch.GetElapsedTime(startedTimestamp).TotalSeconds, tags);
        }
        if (errorKind is not null && errors.Enabled)
        {
            errors.Add(1, new TagList
            {
                { TelemetryTags.Namespace, @namespace },
                { TelemetryTags.RpcMethod, method },
                { TelemetryTags.ErrorKind, errorKind },
            });
        }
    }
}

/// <summary>What the observable instruments read from the servers of the process.</summary>
internal enum GaugeKind
{
    Activations,
    QueuedEvents,
    WebSockets,
}

/// <summary>A server whose gauges the observable instruments read, per namespace.</summary>
internal interface IServerGauges
{
    /// <summary>Adds one measurement per namespace of <paramref name="kind"/>, tagged with the namespace.</summary>
    void Read(GaugeKind kind, List<Measurement<long>> measurements);
}

/// <summary>
/// The servers running in this process, registered while they run, so that the observable instruments
/// report all of them (a process may host several, as tests do).
/// </summary>
internal static class ServerGauges
{
    private static readonly List<IServerGauges> Servers = [];

    public static void Register(IServerGauges server)
    {
        // Touches the instruments, so that they exist before anyone collects.
        _ = SourceGenDOMetrics.Activations;
        lock (Servers)
        {
            Servers.Add(server);
        }
    }

    public static void Unregister(IServerGauges server)
    {
        lock (Servers)
        {
            Servers.Remove(server);
        }
    }

    public static IEnumerable<Measurement<long>> Read(GaugeKind kind)
    {
        var measurements = new List<Measurement<long>>();
        lock (Servers)
        {
            foreach (var server in Servers)
            {
                server.Read(kind, measurements);
            }
        }
        return measurements;
    }
}
