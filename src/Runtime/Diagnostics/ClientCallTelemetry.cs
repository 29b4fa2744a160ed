using System.Diagnostics;
using SourceGenDO.Wire;

namespace SourceGenDO.Diagnostics;

/// <summary>
/// The client's span and timing of one call, held by the call's <see cref="PendingCall{T}"/> from the call
/// to its end. Default (nothing at all) unless a listener wants SourceGenDO's spans or call metrics.
/// </summary>
internal struct ClientCallTelemetry
{
    private Activity? _activity;
    // Stopwatch.GetTimestamp() when the call was made and a listener wanted its duration; 0 otherwise.
    private long _started;

    /// <summary>The call's span; null when no listener wants it.</summary>
    public readonly Activity? Activity => _activity;

    /// <summary>The span whose W3C trace context goes on the wire with the call; null for none (a span in another id format has none).</summary>
    public readonly Activity? WireTrace => _activity is { IdFormat: ActivityIdFormat.W3C } activity ? activity : null;

    public static ClientCallTelemetry Start(string @namespace, DurableObjectId id, string method) =>
        SourceGenDOTelemetry.Source.HasListeners() || SourceGenDOMetrics.ClientObserved ? StartObserved(@namespace, id, method) : default;

    private static ClientCallTelemetry StartObserved(string @namespace, DurableObjectId id, string method)
    {
        var telemetry = new ClientCallTelemetry
        {
            _started = SourceGenDOMetrics.ClientCallDuration.Enabled ? Stopwatch.GetTimestamp() : 0,
        };
        // The caller's current span (a server span, inside an object) becomes the parent.
        var parent = CurrentActivity.ClearPlaceholder();
        var activity = SourceGenDOTelemetry.Source.CreateActivity(SpanNames.Of(@namespace, method), ActivityKind.Client);
        if (activity is not null)
        {
            if (activity.IsAllDataRequested)
            {
                CurrentActivity.TagCall(activity, @namespace, id, method);
            }
            activity.Start();
            telemetry._activity = activity;
        }
        // The call is not an async method: the span must not stay current in the caller's code.
        CurrentActivity.Restore(parent);
        return telemetry;
    }

    /// <summary>
    /// Ends the span and counts the call: failed with the error frame <paramref name="error"/> the server
    /// sent, or with <paramref name="failure"/> otherwise; succeeded when both are null.
    /// </summary>
    public readonly void End(string @namespace, string method, Error? error, Exception? failure, int? httpStatus = null)
    {
        if (_activity is null && _started == 0 && !SourceGenDOMetrics.ClientObserved)
        {
            return;
        }
        var kind = error is not null ? ErrorKinds.Of(error) : failure is not null ? ErrorKinds.Of(failure) : null;
        SourceGenDOMetrics.RecordCall(client: true, @namespace, method, kind, _started);
        if (_activity is not { } activity)
        {
            return;
        }
        if (kind is not null)
        {
            var type = error?.Type ?? (failure as DurableObjectException)?.RemoteType ?? failure!.GetType().FullName ?? failure.GetType().Name;
            CurrentActivity.SetError(activity, type, kind, error?.Message ?? failure!.Message);
        }
        if (httpStatus is { } status)
        {
            CurrentActivity.TagStatus(activity, status);
        }
        CurrentActivity.StopDetached(activity);
    }

    /// <summary>Counts a call that failed before it was sent (the stub broken or disposed, the client full); returns <paramref name="failed"/>.</summary>
    public static Task<T> Refused<T>(string @namespace, string method, Task<T> failed)
    {
        if (SourceGenDOMetrics.ClientObserved)
        {
            SourceGenDOMetrics.RecordCall(client: true, @namespace, method,
                failed.Exception?.InnerException is { } e ? ErrorKinds.Of(e) : ErrorKinds.Canceled, startedTimestamp: 0);
        }
        return failed;
    }
}
