using SourceGenDO.Serialization;
using SourceGenDO.Wire;

namespace SourceGenDO;

/// <summary>A call sent on a stub's stream and not yet answered.</summary>
internal interface IPendingCall
{
    void Complete(Result result);

    void Fail(Exception exception);
}

/// <summary>
/// The caller's side of one call: the task it awaits, how to decode the result, and its cancellation
/// registration. Whoever removes it from the connection's pending map completes it, so it completes
/// exactly once.
/// </summary>
internal sealed class PendingCall<T> : TaskCompletionSource<T>, IPendingCall
{
    private readonly StubConnection _connection;
    private readonly ulong _callId;
    private readonly string _method;
    private readonly ResultReader<T>? _readResult;
    private CancellationTokenRegistration _cancellation;

    public PendingCall(StubConnection connection, ulong callId, string method, ResultReader<T>? readResult)
        : base(TaskCreationOptions.RunContinuationsAsynchronously)
    {
        _connection = connection;
        _callId = callId;
        _method = method;
        _readResult = readResult;
    }

    public void ObserveCancellation(CancellationToken cancellationToken) =>
        _cancellation = cancellationToken.UnsafeRegister(
            static (state, token) => ((PendingCall<T>)state!).OnCanceled(token), this);

    public void Complete(Result result)
    {
        _cancellation.Dispose();
        if (result.OutcomeCase == Result.OutcomeOneofCase.Error)
        {
            TrySetException(RemoteErrors.ToException(result.Error, _connection.Id));
            return;
        }
        if (_readResult is null)
        {
            TrySetResult(default!);
            return;
        }
        try
        {
            var reader = new WireReader(result.Value.Span);
            TrySetResult(_readResult(ref reader));
        }
        catch (WireFormatException e)
        {
            TrySetException(RemoteErrors.MalformedResult(_method, e, _connection.Id));
        }
    }

    public void Fail(Exception exception)
    {
        _cancellation.Dispose();
        TrySetException(exception);
    }

    private void OnCanceled(CancellationToken token)
    {
        if (_connection.TryForget(_callId))
        {
            TrySetCanceled(token);
            _connection.SendCancel(_callId);
        }
    }
}
