namespace SourceGenDO.Diagnostics;

/// <summary>
/// The tag names and values of SourceGenDO's spans and metrics: OpenTelemetry's RPC and HTTP semantic
/// conventions where they fit (<c>rpc.*</c>, <c>http.*</c>, <c>url.path</c>, <c>error.type</c>), and
/// <c>sourcegendo.*</c> for the rest.
/// </summary>
internal static class TelemetryTags
{
    public const string RpcSystem = "rpc.system";
    public const string RpcSystemValue = "sourcegendo";
    public const string RpcService = "rpc.service";
    public const string RpcMethod = "rpc.method";
    public const string Namespace = "sourcegendo.namespace";
    public const string ObjectId = "sourcegendo.object.id";
    public const string ObjectName = "sourcegendo.object.name";
    public const string Outcome = "sourcegendo.outcome";
    public const string ErrorKind = "sourcegendo.error.kind";
    public const string ErrorType = "error.type";
    public const string AlarmRetryCount = "sourcegendo.alarm.retry_count";
    public const string HttpMethod = "http.request.method";
    public const string UrlPath = "url.path";
    public const string HttpStatus = "http.response.status_code";

    public const string Ok = "ok";
    public const string Error = "error";

    /// <summary>
    /// The method of a server metric whose call never reached a method of the object (unknown, malformed,
    /// refused before dispatch): the name came from the client unchecked, and must not grow the metric's series.
    /// </summary>
    public const string OtherMethod = "_OTHER";

    /// <summary>The namespace of a server metric whose call named no namespace the server hosts.</summary>
    public const string OtherNamespace = "_OTHER";
}

/// <summary>The kinds of error the error metrics count (tag <see cref="TelemetryTags.ErrorKind"/>).</summary>
internal static class ErrorKinds
{
    /// <summary>A bound was reached: the object's queue, the client's, the storage's; not retried.</summary>
    public const string Overloaded = "overloaded";

    /// <summary>The object instance was reset (a failed write, <c>Ctx.Abort</c>, a failed <c>BlockConcurrencyWhile</c>).</summary>
    public const string Reset = "reset";

    /// <summary>The object's own code threw.</summary>
    public const string AppException = "app_exception";

    /// <summary>The caller cancelled the call.</summary>
    public const string Canceled = "canceled";

    /// <summary>The connection or stream failed (client side only).</summary>
    public const string Network = "network";

    /// <summary>The server refused the call for now (it is shutting down); retryable.</summary>
    public const string Unavailable = "unavailable";

    /// <summary>Any other failure of the runtime: an unknown method, arguments or a result that do not decode, a refused channel, a disposed stub.</summary>
    public const string Runtime = "runtime";

    /// <summary>The kind of an error frame.</summary>
    public static string Of(Wire.Error error) =>
        error.Overloaded ? Overloaded
        : error.Reset ? Reset
        : error.Remote ? AppException
        : error.Retryable ? Unavailable
        : Runtime;

    /// <summary>The kind of an exception a call failed with on the client, other than one decoded from an error frame.</summary>
    public static string Of(Exception exception) => exception switch
    {
        DurableObjectException { Overloaded: true } => Overloaded,
        DurableObjectException { DurableObjectReset: true } => Reset,
        _ when exception.IsRemote() => AppException,
        OperationCanceledException => Canceled,
        DurableObjectException { Retryable: true } => Network,
        _ => Runtime,
    };
}
