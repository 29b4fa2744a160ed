using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace SourceGenDO.Load;

/// <summary>
/// A listener that does little, for the <c>telemetry</c> command: it turns SourceGenDO's spans (every one
/// sampled and recorded, with all its tags) and/or every instrument of its meter on, and throws what it
/// gets away, so that a run measures what SourceGenDO itself pays once someone listens.
/// </summary>
internal static class TelemetryListener
{
    public const string Off = "off";
    public const string Metrics = "metrics";
    public const string All = "all";

    public static readonly string[] Modes = [Off, Metrics, All];

    // Kept for the process's life: a listener that is collected stops listening.
    private static ActivityListener? s_spans;
    private static MeterListener? s_meters;
    private static long s_spansEnded;
    private static long s_measurements;

    /// <summary>Starts what <c>--telemetry</c> names (off by default).</summary>
    public static void Start(Arguments arguments)
    {
        var mode = arguments.Get("telemetry") ?? Off;
        if (!Modes.Contains(mode))
        {
            throw new ArgumentException($"Unknown --telemetry \"{mode}\": use {string.Join(", ", Modes)}.");
        }
        if (mode is Metrics or All)
        {
            s_meters = new MeterListener
            {
                InstrumentPublished = static (instrument, listener) =>
                {
                    if (instrument.Meter.Name == SourceGenDOTelemetry.Name)
                    {
                        listener.EnableMeasurementEvents(instrument);
                    }
                },
            };
            s_meters.SetMeasurementEventCallback<long>(static (_, _, _, _) => Interlocked.Increment(ref s_measurements));
            s_meters.SetMeasurementEventCallback<double>(static (_, _, _, _) => Interlocked.Increment(ref s_measurements));
            s_meters.Start();
        }
        if (mode is All)
        {
            s_spans = new ActivityListener
            {
                ShouldListenTo = static source => source.Name == SourceGenDOTelemetry.Name,
                Sample = static (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
                ActivityStopped = static _ => Interlocked.Increment(ref s_spansEnded),
            };
            ActivitySource.AddActivityListener(s_spans);
        }
    }
}
