using System.Diagnostics;

namespace SourceGenDO.Diagnostics;

/// <summary>
/// Keeps <see cref="Activity.Current"/> right around SourceGenDO's spans. Starting an activity makes it
/// current and stopping one makes its predecessor current, on whatever thread that happens; a call's span
/// starts on the caller's thread and stops on the thread that read its result, so each side puts back
/// what was current before. Nothing here runs unless a span exists.
/// </summary>
internal static class CurrentActivity
{
    /// <summary>
    /// Clears <see cref="Activity.Current"/> when it is a placeholder that decided nothing, and returns what
    /// was current, for <see cref="Restore"/>. ASP.NET Core makes an activity for every request, listened to
    /// or not, so that its logs carry a trace id; one that nobody records and that continues no caller's
    /// trace would make a sampler that follows its parent (OpenTelemetry's default) drop SourceGenDO's span,
    /// in an app that listens to SourceGenDO alone. Without it, the span starts the trace instead.
    /// </summary>
    public static Activity? ClearPlaceholder()
    {
        var current = Activity.Current;
        if (current is { Recorded: false, ParentId: null } && current.Source.Name.Length == 0)
        {
            Activity.Current = null;
        }
        return current;
    }

    /// <summary>Makes <paramref name="previous"/> current again, if something else became current meanwhile.</summary>
    public static void Restore(Activity? previous)
    {
        // A stopped activity cannot be made current (the setter refuses it, through an exception it catches).
        if (Activity.Current != previous && (previous is null || !previous.IsStopped))
        {
            Activity.Current = previous;
        }
    }

    /// <summary>Stops <paramref name="activity"/> without changing what is current on this thread.</summary>
    public static void StopDetached(Activity activity)
    {
        var current = Activity.Current;
        activity.Stop();
        Restore(current);
    }

    /// <summary>Marks a span failed: status Error with the message, and the error's type and kind as tags.</summary>
    public static void SetError(Activity activity, string type, string kind, string message)
    {
        activity.SetStatus(ActivityStatusCode.Error, message);
        if (activity.IsAllDataRequested)
        {
            activity.SetTag(TelemetryTags.ErrorType, type);
            activity.SetTag(TelemetryTags.ErrorKind, kind);
        }
    }

    /// <summary>The tags every call span carries, client and server.</summary>
    public static void TagCall(Activity activity, string @namespace, DurableObjectId id, string method)
    {
        activity.SetTag(TelemetryTags.RpcSystem, TelemetryTags.RpcSystemValue);
        activity.SetTag(TelemetryTags.RpcService, @namespace);
        activity.SetTag(TelemetryTags.RpcMethod, method);
        TagObject(activity, @namespace, id);
    }

    /// <summary>The tags that name the object a span concerns.</summary>
    public static void TagObject(Activity activity, string @namespace, DurableObjectId id)
    {
        activity.SetTag(TelemetryTags.Namespace, @namespace);
        activity.SetTag(TelemetryTags.ObjectId, id.ToString());
        if (id.Name is { } name)
        {
            activity.SetTag(TelemetryTags.ObjectName, name);
        }
    }

    /// <summary>The HTTP tags of a fetch span: the request's method and path.</summary>
    public static void TagRequest(Activity? activity, HttpRequestMessage request)
    {
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag(TelemetryTags.HttpMethod, request.Method.Method);
            activity.SetTag(TelemetryTags.UrlPath, request.RequestUri?.AbsolutePath);
        }
    }

    /// <summary>The response status of a fetch span.</summary>
    public static void TagStatus(Activity? activity, int status)
    {
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag(TelemetryTags.HttpStatus, status);
        }
    }
}
