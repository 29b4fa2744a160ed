using System.Diagnostics;
using System.Text;
using SourceGenDO.Transport;
using SourceGenDO.Wire;

namespace SourceGenDO.Diagnostics;

/// <summary>
/// The server's span and timing of one call, from reading it off the stream to answering it, held by the
/// call on its way through the object. Default (nothing at all) unless a listener wants SourceGenDO's spans
/// or call metrics. The span is the child of the caller's, when the call carries its trace context.
/// </summary>
internal struct ServerCallTelemetry
{
    private Activity? _activity;
    private long _started;
    private bool _entered;

    public static ServerCallTelemetry Start(string @namespace, DurableObjectId id, in IncomingCallData call) =>
        SourceGenDOTelemetry.Source.HasListeners() || SourceGenDOMetrics.ServerObserved ? StartObserved(@namespace, id, call) : default;

    private static ServerCallTelemetry StartObserved(string @namespace, DurableObjectId id, in IncomingCallData call)
    {
        var telemetry = new ServerCallTelemetry
        {
            _started = SourceGenDOMetrics.ServerCallDuration.Enabled ? Stopwatch.GetTimestamp() : 0,
        };
        // Without a trace context from the caller the span starts a trace of its own: nothing is current
        // on the stream's reading loop (DurableObjectsService.Connect sees to it), so it has no parent.
        var parent = TraceParentOf(call);
        var activity = SourceGenDOTelemetry.Source.CreateActivity(SpanNames.Of(@namespace, call.Method), ActivityKind.Server, parent);
        if (activity is not null)
        {
            if (activity.IsAllDataRequested)
            {
                CurrentActivity.TagCall(activity, @namespace, id, call.Method);
            }
            // Started when the object runs the call (Enter), so that its code sees the span as current;
            // timed from now, so that it covers the wait in the object's queue.
            activity.SetStartTime(DateTime.UtcNow);
            telemetry._activity = activity;
        }
        return telemetry;
    }

    private static ActivityContext TraceParentOf(in IncomingCallData call)
    {
        if (call.TraceParent.IsEmpty)
        {
            return default;
        }
        var traceState = call.TraceState.IsEmpty ? null : Encoding.UTF8.GetString(call.TraceState.Span);
        // A malformed context is ignored, as W3C trace context asks: the span starts a new trace.
        return ActivityContext.TryParse(Encoding.ASCII.GetString(call.TraceParent.Span), traceState, isRemote: true, out var parent) ? parent : default;
    }

    /// <summary>
    /// Makes the call's span current while the object runs its turn (its code, and every continuation of
    /// it, then sees the span as its parent: calls it makes to other objects join the trace). Dispose the
    /// scope when the turn returns; the call may have been answered (and this struct reused) by then.
    /// </summary>
    public Scope Enter()
    {
        if (_activity is not { } activity)
        {
            return default;
        }
        var outer = Activity.Current;
        if (_entered)
        {
            // The second try of a call that waited for the constructor's BlockConcurrencyWhile.
            Activity.Current = activity;
            return new Scope(outer, active: true);
        }
        _entered = true;
        if (outer is not null)
        {
            // Started with nothing current: a span without a parent context would otherwise adopt it.
            Activity.Current = null;
        }
        activity.Start();
        return new Scope(outer, active: true);
    }

    /// <summary>Ends the span and counts the call, answered with <paramref name="error"/> (null: a value).</summary>
    public readonly void End(string @namespace, string method, Error? error)
    {
        if (_activity is null && _started == 0 && !SourceGenDOMetrics.ServerObserved)
        {
            return;
        }
        var kind = error is null ? null : ErrorKinds.Of(error);
        // A runtime error (an unknown method, arguments that do not decode) may name a method the client
        // made up: counted under one name, so that clients cannot grow the metric's series.
        SourceGenDOMetrics.RecordCall(client: false, @namespace, kind == ErrorKinds.Runtime ? TelemetryTags.OtherMethod : method, kind, _started);
        if (_activity is not { } activity || !_entered)
        {
            return;
        }
        if (error is not null)
        {
            CurrentActivity.SetError(activity, error.Type, kind!, error.Message);
        }
        CurrentActivity.StopDetached(activity);
    }

    /// <summary>Counts a call the server refused before it reached an object (no span); call when <see cref="SourceGenDOMetrics.ServerObserved"/>.</summary>
    public static void Refused(string? @namespace, Error error) =>
        SourceGenDOMetrics.RecordCall(client: false, @namespace ?? TelemetryTags.OtherNamespace, TelemetryTags.OtherMethod, ErrorKinds.Of(error), startedTimestamp: 0);

    /// <summary>What <see cref="Enter"/> made current, to put back.</summary>
    public readonly struct Scope(Activity? outer, bool active) : IDisposable
    {
        public void Dispose()
        {
            if (active)
            {
                CurrentActivity.Restore(outer);
            }
        }
    }
}
