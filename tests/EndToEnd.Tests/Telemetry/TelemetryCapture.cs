using System.Collections;
using System.Diagnostics;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace SourceGenDO.EndToEnd.Tests.Telemetry;

/// <summary>The telemetry tests run alone: they count what every server and client of the process records.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TelemetryCollection
{
    public const string Name = "Telemetry";
}

/// <summary>A test server with OpenTelemetry listening from before it started, and a client connected to it.</summary>
internal sealed class ObservedServer : IAsyncDisposable
{
    private ObservedServer(TelemetryCapture capture, RunningServer server, DurableObjectClient client) =>
        (Capture, Server, Client) = (capture, server, client);

    public TelemetryCapture Capture { get; }

    public RunningServer Server { get; }

    public DurableObjectClient Client { get; }

    public static async Task<ObservedServer> StartAsync(Action<SourceGenDO.Server.DurableObjectsOptions>? configure = null, TimeProvider? time = null)
    {
        var capture = new TelemetryCapture();
        var server = await RunningServer.StartAsync(configure, time: time);
        return new ObservedServer(capture, server, await server.ConnectAsync());
    }

    public void Deconstruct(out TelemetryCapture capture, out RunningServer server, out DurableObjectClient client) =>
        (capture, server, client) = (Capture, Server, Client);

    public async ValueTask DisposeAsync()
    {
        await Client.DisposeAsync();
        await Server.DisposeAsync();
        Capture.Dispose();
    }
}

/// <summary>
/// OpenTelemetry wired as a user would (<c>AddSource</c>/<c>AddMeter</c> with <see cref="SourceGenDOTelemetry.Name"/>),
/// exporting SourceGenDO's spans and metrics into memory for a test to read.
/// </summary>
internal sealed class TelemetryCapture : IDisposable
{
    private readonly LockedCollection<Activity> _spans = new();
    private readonly LockedCollection<MetricSnapshot> _metrics = new();
    private readonly TracerProvider _tracing;
    private readonly MeterProvider _meters;

    public TelemetryCapture()
    {
        _tracing = Sdk.CreateTracerProviderBuilder().AddSource(SourceGenDOTelemetry.Name).AddInMemoryExporter(_spans).Build();
        _meters = Sdk.CreateMeterProviderBuilder().AddMeter(SourceGenDOTelemetry.Name).AddInMemoryExporter(_metrics).Build();
    }

    /// <summary>The spans that ended so far.</summary>
    public IReadOnlyList<Activity> Spans => _spans.Snapshot();

    /// <summary>Waits for the one ended span that <paramref name="match"/> selects.</summary>
    public async Task<Activity> SpanAsync(Func<Activity, bool> match, string what)
    {
        await Eventually.True(() => Spans.Any(match),
            $"the span {what} ended (ended: {string.Join("; ", Spans.Select(static span => $"{span.DisplayName} {span.Kind} {string.Join(",", span.TagObjects.Select(static tag => $"{tag.Key}={tag.Value}"))}"))})");
        return Assert.Single(Spans, span => match(span));
    }

    /// <summary>Waits until <paramref name="count"/> ended spans match, and returns them.</summary>
    public async Task<IReadOnlyList<Activity>> SpansAsync(Func<Activity, bool> match, int count, string what)
    {
        await Eventually.True(() => Spans.Count(match) >= count, $"{count} spans {what} ended");
        return Spans.Where(match).ToArray();
    }

    /// <summary>Collects the metrics now (cumulative since this capture began).</summary>
    public IReadOnlyList<MetricSnapshot> Collect()
    {
        _metrics.Clear();
        _meters.ForceFlush();
        return _metrics.Snapshot();
    }

    /// <summary>The sum of a counter (or up-down counter) over its points that carry every one of <paramref name="tags"/>.</summary>
    public long Sum(string instrument, params (string Key, object Value)[] tags) =>
        Points(instrument, tags).Sum(static point => point.GetSumLong());

    /// <summary>How many measurements a histogram took over its points that carry every one of <paramref name="tags"/>.</summary>
    public long Count(string instrument, params (string Key, object Value)[] tags) =>
        Points(instrument, tags).Sum(static point => point.GetHistogramCount());

    /// <summary>Polls the collected <see cref="Sum"/> until it is <paramref name="expected"/>.</summary>
    public Task SumBecomes(long expected, string instrument, params (string Key, object Value)[] tags) =>
        Eventually.True(() => Sum(instrument, tags) == expected, $"{instrument} {string.Join(",", tags)} is {expected} (last {Sum(instrument, tags)})");

    private List<MetricPoint> Points(string instrument, (string Key, object Value)[] tags)
    {
        var points = new List<MetricPoint>();
        foreach (var metric in Collect().Where(metric => metric.Name == instrument))
        {
            foreach (var point in metric.MetricPoints)
            {
                var pointTags = new Dictionary<string, object?>();
                foreach (var tag in point.Tags)
                {
                    pointTags[tag.Key] = tag.Value;
                }
                if (tags.All(tag => pointTags.TryGetValue(tag.Key, out var value) && Equals(value, tag.Value)))
                {
                    points.Add(point);
                }
            }
        }
        return points;
    }

    public void Dispose()
    {
        _tracing.Dispose();
        _meters.Dispose();
    }

    /// <summary>The value of a span's tag, or null.</summary>
    public static object? Tag(Activity span, string key) => span.GetTagItem(key);

    /// <summary>Exporters add from the threads that end spans; the test reads from its own.</summary>
    private sealed class LockedCollection<T> : ICollection<T>
    {
        private readonly List<T> _items = [];

        public int Count
        {
            get
            {
                lock (_items)
                {
                    return _items.Count;
                }
            }
        }

        public bool IsReadOnly => false;

        public T[] Snapshot()
        {
            lock (_items)
            {
                return [.. _items];
            }
        }

        public void Add(T item)
        {
            lock (_items)
            {
                _items.Add(item);
            }
        }

        public void Clear()
        {
            lock (_items)
            {
                _items.Clear();
            }
        }

        public bool Contains(T item) => Snapshot().Contains(item);

        public void CopyTo(T[] array, int arrayIndex) => Snapshot().CopyTo(array, arrayIndex);

        public bool Remove(T item)
        {
            lock (_items)
            {
                return _items.Remove(item);
            }
        }

        public IEnumerator<T> GetEnumerator() => ((IEnumerable<T>)Snapshot()).GetEnumerator();

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
