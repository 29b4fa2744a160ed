using System.Diagnostics;

namespace SourceGenDO.Diagnostics;

/// <summary>
/// The spans of events that are not calls: a request through an HTTP route into an object's Fetch, and
/// a run of an object's Alarm handler. Null, and nothing done, unless a listener wants SourceGenDO's spans.
/// </summary>
internal static class EventTelemetry
{
    /// <summary>
    /// The span of a route's request; a child of ASP.NET Core's span of the request when there is one
    /// (then <see cref="ActivityKind.Internal"/>, since that one is the server's span), else the server's span.
    /// Call from an async method: the span is current until it stops, and what was current before is put
    /// back when that method returns.
    /// </summary>
    public static Activity? StartRouteFetch(string @namespace, DurableObjectId id, HttpRequestMessage request)
    {
        if (!SourceGenDOTelemetry.Source.HasListeners())
        {
            return null;
        }
        // Left current by the async route code that calls this (and put back when it returns).
        var kind = CurrentActivity.ClearPlaceholder() is { } ambient && Activity.Current == ambient ? ActivityKind.Internal : ActivityKind.Server;
        var activity = SourceGenDOTelemetry.Source.StartActivity(SpanNames.Of(@namespace, SpanNames.Fetch), kind);
        if (activity is { IsAllDataRequested: true })
        {
            CurrentActivity.TagObject(activity, @namespace, id);
            CurrentActivity.TagRequest(activity, request);
        }
        return activity;
    }

    /// <summary>The span of one run of an alarm handler, the root of a trace of its own.</summary>
    public static Activity? StartAlarm(string @namespace, DurableObjectId id, AlarmInfo info)
    {
        if (!SourceGenDOTelemetry.Source.HasListeners())
        {
            return null;
        }
        var activity = SourceGenDOTelemetry.Source.StartActivity(SpanNames.Of(@namespace, SpanNames.Alarm), ActivityKind.Internal, parentContext: default);
        if (activity is { IsAllDataRequested: true })
        {
            CurrentActivity.TagObject(activity, @namespace, id);
            activity.SetTag(TelemetryTags.AlarmRetryCount, info.RetryCount);
        }
        return activity;
    }

    /// <summary>Ends an event's span: failed with <paramref name="failure"/>, or succeeded when it is null.</summary>
    public static void End(Activity? activity, Exception? failure)
    {
        if (failure is not null)
        {
            Fail(activity, failure);
        }
        activity?.Stop();
    }

    /// <summary>Marks an event's span failed with <paramref name="failure"/> (the exception of the object's code, or the reset).</summary>
    public static void Fail(Activity? activity, Exception failure)
    {
        if (activity is not null)
        {
            var kind = failure is DurableObjectException { DurableObjectReset: true } ? ErrorKinds.Reset : ErrorKinds.AppException;
            CurrentActivity.SetError(activity, failure.GetType().FullName ?? failure.GetType().Name, kind, failure.Message);
        }
    }

    /// <summary>Makes an event's span current in the event's own async code, which runs on the object's scheduler without the context it was queued from.</summary>
    public static void Adopt(Activity? activity)
    {
        if (activity is not null)
        {
            Activity.Current = activity;
        }
    }
}
