using System.Buffers;
using System.Buffers.Binary;
using Grpc.Core;
using SourceGenDO.Pooling;
using SourceGenDO.Serialization;

namespace SourceGenDO.Transport.Http2;

/// <summary>
/// One HTTP/2 stream as a gRPC call sees it from the connection: the connection's reading loop hands it
/// DATA and HEADERS, it cuts the DATA into gRPC messages and reads the status from the trailers.
/// </summary>
internal abstract class Http2Stream
{
    private const int GrpcPrefixLength = 5;

    private readonly byte[] _prefix = new byte[GrpcPrefixLength];
    private int _prefixFilled;
    private byte[]? _message;
    private int _messageLength;
    private int _messageFilled;
    private bool _headersReceived;

    /// <summary>The stream's id, set by the connection when it sends the request headers.</summary>
    public int Id { get; set; }

    /// <summary>How many DATA bytes the server still accepts on this stream; guarded by the connection's window lock.</summary>
    public long SendWindow { get; set; }

    /// <summary>DATA bytes received and not yet given back to the server in a WINDOW_UPDATE; reading loop only.</summary>
    public int Unacknowledged { get; set; }

    /// <summary>DATA bytes received on the stream; reading loop only.</summary>
    public long Received { get; set; }

    /// <summary>Window granted in updates handed to the socket (beyond the initial window); the control flush adds.</summary>
    public long Granted;

    /// <summary>Frames received on the stream; the reading loop counts, the stall check compares.</summary>
    public int Activity;

    /// <summary>While a write waits for window: when it started waiting, or last saw <see cref="Activity"/> change. Window lock.</summary>
    public long BlockedSince { get; set; }

    /// <summary><see cref="Activity"/> as the stall check last saw it. Window lock.</summary>
    public int BlockedActivity { get; set; }

    /// <summary>Why the connection gave up this stream's writes, if it did.</summary>
    public RpcException? WriteFailure { get; private set; }

    /// <summary>Ends the stream because its writes cannot go on: writers get <paramref name="failure"/>, readers its status.</summary>
    public void FailWrites(RpcException failure)
    {
        WriteFailure ??= failure;
        Finish(failure.Status, []);
    }

    /// <summary>True once the status is known: the stream takes no more frames.</summary>
    public abstract bool IsFinished { get; }

    /// <summary>The reading loop's part: cuts a DATA payload into messages; returns true when one or more completed.</summary>
    /// <exception cref="RpcException">A message cannot be read; the stream must be reset.</exception>
    public bool ReceiveData(byte[] buffer, int offset, int count)
    {
        if (!_headersReceived)
        {
            throw new RpcException(new Status(StatusCode.Internal, "The server sent data before the response headers."));
        }
        var delivered = false;
        while (true)
        {
            if (_prefixFilled < GrpcPrefixLength)
            {
                var take = Math.Min(GrpcPrefixLength - _prefixFilled, count);
                buffer.AsSpan(offset, take).CopyTo(_prefix.AsSpan(_prefixFilled));
                offset += take;
                count -= take;
                _prefixFilled += take;
                if (_prefixFilled < GrpcPrefixLength)
                {
                    return delivered;
                }
                StartMessage();
                if (count >= _messageLength)
                {
                    // The usual case: the whole message is in this frame, read where it lies.
                    OnMessage(buffer, offset, _messageLength);
                    delivered = true;
                    offset += _messageLength;
                    count -= _messageLength;
                    _prefixFilled = 0;
                    continue;
                }
                _message = PooledBytes.RentArray(_messageLength);
                _messageFilled = 0;
            }
            if (count == 0)
            {
                return delivered;
            }
            var part = Math.Min(_messageLength - _messageFilled, count);
            buffer.AsSpan(offset, part).CopyTo(_message.AsSpan(_messageFilled));
            offset += part;
            count -= part;
            _messageFilled += part;
            if (_messageFilled == _messageLength)
            {
                var message = _message!;
                _message = null;
                _prefixFilled = 0;
                try
                {
                    OnMessage(message, 0, _messageLength);
                }
                finally
                {
                    PooledBytes.ReturnArray(message);
                }
                delivered = true;
            }
        }
    }

    /// <summary>The reading loop's part: response headers, or trailers when <paramref name="endStream"/>.</summary>
    public void ReceiveHeaders(List<KeyValuePair<string, string>> headers, bool endStream)
    {
        if (!_headersReceived)
        {
            _headersReceived = true;
            var httpStatus = Find(headers, ":status");
            if (httpStatus != "200")
            {
                Finish(new Status(FromHttpStatus(httpStatus), $"The server answered with HTTP status {httpStatus ?? "(none)"} instead of a gRPC response."), []);
                return;
            }
            var contentType = Find(headers, "content-type");
            if (contentType is null || !contentType.StartsWith("application/grpc", StringComparison.OrdinalIgnoreCase))
            {
                Finish(new Status(StatusCode.Internal, $"The server's response is not gRPC (content type \"{contentType}\")."), []);
                return;
            }
            if (!endStream)
            {
                OnResponseHeaders(ToMetadata(headers));
                return;
            }
            // A trailers-only response: the status is in these headers.
        }
        else if (!endStream)
        {
            Finish(new Status(StatusCode.Internal, "The server sent a second header block before the end of the stream."), []);
            return;
        }
        if (_prefixFilled != 0)
        {
            Finish(new Status(StatusCode.Internal, "The server ended the response in the middle of a message."), []);
            return;
        }
        Finish(StatusOf(headers), ToMetadata(headers));
    }

    /// <summary>The reading loop's part: a DATA frame ended the stream, so no trailers came.</summary>
    public void ReceiveEndWithoutTrailers() =>
        Finish(new Status(StatusCode.Internal, "The server ended the response without a gRPC status."), []);

    /// <summary>
    /// Hands what arrived to a reader waiting for it. The reading loop calls this once its next receive is
    /// under way, so the reader's code may run on its thread.
    /// </summary>
    public abstract void Signal();

    /// <summary>Ends the stream with <paramref name="status"/>, once; later calls do nothing.</summary>
    public abstract void Finish(Status status, Metadata trailers);

    /// <summary>A message arrived; the payload is only valid during the call.</summary>
    protected abstract void OnMessage(byte[] buffer, int offset, int length);

    protected abstract void OnResponseHeaders(Metadata headers);

    /// <summary>
    /// Gives back what the stream holds while a message is half-received. Reading loop only: a stream
    /// finished from another thread leaves its buffer to the garbage collector.
    /// </summary>
    public void ReleaseReceiveBuffer()
    {
        if (_message is { } message)
        {
            _message = null;
            PooledBytes.ReturnArray(message);
        }
    }

    private void StartMessage()
    {
        if (_prefix[0] != 0)
        {
            throw new RpcException(new Status(StatusCode.Internal, "The server sent a compressed message, but no compression was agreed."));
        }
        var length = BinaryPrimitives.ReadUInt32BigEndian(_prefix.AsSpan(1));
        if (length > PayloadLimits.MaxFrameBytes)
        {
            throw new RpcException(new Status(StatusCode.ResourceExhausted,
                $"The server sent a message of {length:N0} bytes, over the limit of {PayloadLimits.MaxFrameBytes:N0}."));
        }
        _messageLength = (int)length;
    }

    private static Status StatusOf(List<KeyValuePair<string, string>> trailers)
    {
        var code = Find(trailers, "grpc-status");
        if (code is null || !int.TryParse(code, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var value))
        {
            return new Status(StatusCode.Internal, "The server ended the response without a gRPC status.");
        }
        var message = Find(trailers, "grpc-message");
        return new Status((StatusCode)value, message is null ? string.Empty : Uri.UnescapeDataString(message));
    }

    // gRPC's mapping of HTTP statuses for responses that are not gRPC (doc/http-grpc-status-mapping.md).
    private static StatusCode FromHttpStatus(string? status) => status switch
    {
        "400" => StatusCode.Internal,
        "401" => StatusCode.Unauthenticated,
        "403" => StatusCode.PermissionDenied,
        "404" => StatusCode.Unimplemented,
        "429" or "502" or "503" or "504" => StatusCode.Unavailable,
        _ => StatusCode.Unknown,
    };

    private static string? Find(List<KeyValuePair<string, string>> headers, string name)
    {
        foreach (var (key, value) in headers)
        {
            if (key == name)
            {
                return value;
            }
        }
        return null;
    }

    private static Metadata ToMetadata(List<KeyValuePair<string, string>> headers)
    {
        var metadata = new Metadata();
        foreach (var (key, value) in headers)
        {
            if (key.StartsWith(':') || key is "grpc-status" or "grpc-message" || key.EndsWith("-bin", StringComparison.Ordinal))
            {
                continue;
            }
            try
            {
                metadata.Add(key, value);
            }
            catch (ArgumentException)
            {
                // A header name gRPC metadata cannot hold: nothing a call reads.
            }
        }
        return metadata;
    }
}
