using SourceGenDO.Serialization;
using SourceGenDO.Transport;

namespace SourceGenDO;

/// <summary>A call sent on a client stream and not yet answered.</summary>
internal interface IPendingCall
{
    /// <summary>The call's id on its stream, set when it is sent.</summary>
    ulong CallId { get; set; }

    /// <summary>The channel the call was sent on.</summary>
    uint Channel { get; }

    void Complete(IncomingResult result);

    void Fail(Exception exception);
}

/// <summary>
/// The caller's side of one call: the task it awaits, how to decode the result, and its cancellation
/// registration. Whoever removes it from the stream's pending map completes it, so it completes
/// exactly once.
/// </summary>
internal sealed class PendingCall<T> : TaskCompletionSource<T>, IPendingCall
{
    private readonly StubChannel _channel;
    private readonly ClientStream _stream;
    private readonly string _method;
    private readonly ResultReader<T>? _readResult;
    private CancellationTokenRegistration _cancellation;

    public PendingCall(StubChannel channel, ClientStream stream, string method, ResultReader<T>? readResult)
        : base(TaskCreationOptions.RunContinuationsAsynchronously)
    {
        _channel = channel;
        _stream = stream;
        _method = method;
        _readResult = readResult;
    }

    public ulong CallId { get; set; }

    public uint Channel { get; init; }

    public void ObserveCancellation(CancellationToken cancellationToken) =>
        _cancellation = cancellationToken.UnsafeRegister(
            static (state, token) => ((PendingCall<T>)state!).OnCanceled(token), this);

    public void Complete(IncomingResult result)
    {
        _cancellation.Dispose();
        if (result.Error is { } error)
        {
            Finish(TrySetException(RemoteErrors.ToException(error, _channel.Id)));
            return;
        }
        if (_readResult is null)
        {
            Finish(TrySetResult(default!));
            return;
        }
        try
        {
            var reader = new WireReader(result.Value.Span);
            Finish(TrySetResult(_readResult(ref reader)));
        }
        catch (WireFormatException e)
        {
            Finish(TrySetException(RemoteErrors.MalformedResult(_method, e, _channel.Id)));
        }
    }

    public void Fail(Exception exception)
    {
        _cancellation.Dispose();
        Finish(TrySetException(exception));
    }

    private void OnCanceled(CancellationToken token)
    {
        if (_stream.TryForget(CallId))
        {
            Finish(TrySetCanceled(token));
            _stream.SendCancel(CallId);
        }
    }

    private void Finish(bool completed)
    {
        if (completed)
        {
            _channel.OnCallFinished();
        }
    }
}
