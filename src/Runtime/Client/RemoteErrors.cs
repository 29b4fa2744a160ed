using Grpc.Core;
using SourceGenDO.Serialization;
using SourceGenDO.Wire;

namespace SourceGenDO;

/// <summary>
/// Turns exceptions into error frames on the server and error frames back into exceptions on the
/// client. Only a fixed list of standard types is ever instantiated from a wire name.
/// </summary>
internal static class RemoteErrors
{
    public const string LostConnectionMessage = "Network connection lost.";
    public const string OverloadedMessage = "Durable Object is overloaded. Too many requests queued.";

    /// <summary>An error frame for an exception thrown by object code.</summary>
    public static Error FromObjectCode(Exception exception)
    {
        var error = new Error
        {
            Type = exception.GetType().FullName ?? exception.GetType().Name,
            Message = exception.Message,
            Remote = true,
        };
        if (exception is DurableObjectException durable)
        {
            error.Retryable = durable.Retryable;
            error.Overloaded = durable.Overloaded;
            error.Reset = durable.DurableObjectReset;
        }
        return error;
    }

    /// <summary>An error frame for a failure of the runtime itself (unknown method, malformed arguments, overload).</summary>
    public static Error FromRuntime(string message, bool overloaded = false, bool retryable = false, bool reset = false) => new()
    {
        Type = typeof(DurableObjectException).FullName!,
        Message = message,
        Overloaded = overloaded,
        Retryable = retryable,
        Reset = reset,
    };

    /// <summary>The exception a caller sees for an error frame.</summary>
    public static Exception ToException(Error error, DurableObjectId id)
    {
        if (!error.Remote)
        {
            return new DurableObjectException(error.Message)
            {
                Retryable = error.Retryable,
                Overloaded = error.Overloaded,
                DurableObjectReset = error.Reset,
                DurableObjectId = id,
            };
        }
        var standard = CreateStandard(error.Type, error.Message);
        if (standard is null)
        {
            return new DurableObjectException(error.Message)
            {
                Remote = true,
                RemoteType = error.Type,
                Retryable = error.Retryable,
                Overloaded = error.Overloaded,
                DurableObjectReset = error.Reset,
                DurableObjectId = id,
            };
        }
        standard.Data[RemoteExceptionExtensions.RemoteKey] = true;
        standard.Data[RemoteExceptionExtensions.IdKey] = id;
        return standard;
    }

    /// <summary>
    /// The exception every call of every stub on a stream fails with once the stream has failed; it names
    /// no object, since the stream carried many.
    /// </summary>
    public static DurableObjectException FromStreamFailure(Exception? cause)
    {
        // The server ends a stream with one of these codes when the stream itself was refused (an
        // oversize frame, a missing credential): the message says why, and retrying cannot help.
        if (cause is RpcException { StatusCode: StatusCode.InvalidArgument or StatusCode.NotFound or StatusCode.Unauthenticated
                or StatusCode.PermissionDenied or StatusCode.FailedPrecondition or StatusCode.ResourceExhausted
                or StatusCode.Unimplemented } refused)
        {
            return new DurableObjectException(refused.Status.Detail, refused);
        }
        // The server could not write to the stream (it says why): a new stream may well work.
        if (cause is RpcException { StatusCode: StatusCode.Aborted } aborted && aborted.Status.Detail.Length > 0)
        {
            return new DurableObjectException(aborted.Status.Detail, aborted) { Retryable = true };
        }
        return new DurableObjectException(LostConnectionMessage, cause) { Retryable = true };
    }

    /// <summary>The exception for a result that does not decode.</summary>
    public static DurableObjectException MalformedResult(string method, WireFormatException cause, DurableObjectId id) =>
        new($"The result of \"{method}\" could not be decoded: {cause.Message}", cause) { DurableObjectId = id };

    // The base-library types a caller may catch by type. Nothing else is ever created from a wire name.
    private static Exception? CreateStandard(string type, string message) => type switch
    {
        "System.ArgumentException" => new ArgumentException(message),
        "System.ArgumentNullException" => new ArgumentNullException(null, message),
        "System.ArgumentOutOfRangeException" => new ArgumentOutOfRangeException(null, message),
        "System.InvalidOperationException" => new InvalidOperationException(message),
        "System.ObjectDisposedException" => new ObjectDisposedException(null, message),
        "System.Collections.Generic.KeyNotFoundException" => new KeyNotFoundException(message),
        "System.NotSupportedException" => new NotSupportedException(message),
        "System.FormatException" => new FormatException(message),
        "System.TimeoutException" => new TimeoutException(message),
        "System.UnauthorizedAccessException" => new UnauthorizedAccessException(message),
        "System.OperationCanceledException" => new OperationCanceledException(message),
        "System.Threading.Tasks.TaskCanceledException" => new TaskCanceledException(message),
        _ => null,
    };
}
