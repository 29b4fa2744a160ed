using Grpc.Core;

namespace SourceGenDO.Server.Listing;

/// <summary>
/// A listing request that fails, with what both APIs answer: the HTTP status and the error code and
/// message of the JSON envelope, and the gRPC status the listing service ends the call with.
/// </summary>
/// <remarks>
/// The codes are SourceGenDO's, numbered in the style of the Cloudflare API's envelope errors (7000 and
/// 7003 are Cloudflare's codes for a path with no route and for an identifier in the path that names
/// nothing).
/// </remarks>
internal sealed class ListingException(int httpStatus, int code, string message, Exception? inner = null) : Exception(message, inner)
{
    public const int NoRouteCode = 7000, MethodNotAllowedCode = 7001, UnknownNamespaceCode = 7003;
    public const int InvalidParameterCode = 10001, InvalidCursorCode = 10002, StorageUnavailableCode = 10003;
    public const int NotSupportedCode = 10004, FailedCode = 10005;

    public int HttpStatus { get; } = httpStatus;

    public int Code { get; } = code;

    public StatusCode GrpcStatus => HttpStatus switch
    {
        400 => StatusCode.InvalidArgument,
        404 => StatusCode.NotFound,
        501 => StatusCode.Unimplemented,
        503 => StatusCode.Unavailable,
        _ => StatusCode.Internal,
    };
}
