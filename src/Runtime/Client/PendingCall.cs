using System.Diagnostics;
using System.Threading.Tasks.Sources;
using SourceGenDO.Diagnostics;
using SourceGenDO.Pooling;
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

    /// <summary>The call's span whose trace context goes on the wire with it; null when nobody traces the call.</summary>
    Activity? Trace { get; }

    /// <summary>
    /// Completes the call with its result. With <paramref name="runContinuationInline"/>, a caller awaiting
    /// without a context of its own continues on this thread; otherwise on the thread pool. Either way the
    /// continuation runs inside <see cref="ClientStream.EnterContinuation"/>, which releases the hold of
    /// <paramref name="holdGeneration"/> that the reader took on the stream's writes for this call.
    /// </summary>
    void Complete(IncomingResult result, int holdGeneration, bool runContinuationInline);

    void Fail(Exception exception);
}

/// <summary>
/// The caller's side of one call: what the caller awaits, how to decode the result, and its cancellation
/// registration. Whoever removes it from the stream's pending map completes it, so it completes exactly
/// once. Instances are pooled: the caller's await takes the result and the instance goes back for the
/// next call, so a call allocates no awaitable of its own.
/// </summary>
/// <remarks>
/// An instance has two owners until the call is over: the side that completes it and the caller that
/// takes its result. Either may finish first (a caller polling for completion can see it while the
/// completion is still signalling), so the instance is recycled only when both have let go; otherwise
/// a recycled instance could receive the end of the signal meant for its previous call. The
/// cancellation registration is disposed before completing (disposing waits for a running callback),
/// so a recycled instance never hears of an old token either.
/// </remarks>
internal sealed class PendingCall<T> : IPendingCall, IValueTaskSource<T>, IValueTaskSource, IThreadPoolWorkItem
{
    // A failure of the stream or a cancellation (Fail, CancelIfPending) may come on any thread: the core
    // sends its continuation to the thread pool. A result runs it itself (Complete): on the reader's
    // thread once its next read waits on its own, otherwise on this instance's own thread-pool turn.
    private ManualResetValueTaskSourceCore<T> _core = new() { RunContinuationsAsynchronously = true };
    private StubChannel _channel = null!;
    private ClientStream _stream = null!;
    private string _method = "";
    private ResultReader<T>? _readResult;
    private CancellationTokenRegistration _cancellation;
    // The completing side and the caller; the last to let go recycles the instance.
    private int _owners;
    // A decoded result, or its failure, waiting for this instance's own turn on the thread pool (see Complete).
    private T _value = default!;
    private Exception? _failure;
    private int _holdGeneration;
    // The call's span and timing: default, costing nothing, unless a listener wants them.
    private ClientCallTelemetry _telemetry;

    private PendingCall()
    {
    }

    public ulong CallId { get; set; }

    public uint Channel { get; private set; }

    public Activity? Trace => _telemetry.WireTrace;

    /// <summary>The call's span, for tags only its caller knows; null when nobody traces the call.</summary>
    public Activity? Activity => _telemetry.Activity;

    /// <summary>The call as its caller awaits it.</summary>
    public ValueTask<T> Awaitable => new(this, _core.Version);

    /// <summary>The call as a caller of a method without a result awaits it.</summary>
    public ValueTask AwaitableWithoutResult => new(this, _core.Version);

    public static PendingCall<T> Rent(StubChannel channel, uint number, ClientStream stream, string method, ResultReader<T>? readResult)
    {
        var call = ObjectCache<PendingCall<T>>.Take() ?? new PendingCall<T>();
        call._channel = channel;
        call.Channel = number;
        call._stream = stream;
        call._method = method;
        call._readResult = readResult;
        call._owners = 2;
        call._telemetry = ClientCallTelemetry.Start(channel.Namespace, channel.Id, method);
        return call;
    }

    /// <summary>
    /// A call held behind its caller's output gate: not yet on a stream, so <see cref="BindTo"/> names
    /// its channel and stream before it is sent. Until then it can only <see cref="Fail"/>.
    /// </summary>
    public static PendingCall<T> RentUnbound(StubChannel channel, string method, ResultReader<T>? readResult) =>
        Rent(channel, 0, null!, method, readResult);

    /// <summary>Names the channel and stream of a call rented with <see cref="RentUnbound"/>, before it is sent.</summary>
    public void BindTo(uint number, ClientStream stream)
    {
        Channel = number;
        _stream = stream;
    }

    /// <summary>Lets <paramref name="cancellationToken"/> cancel the call; done before it is sent.</summary>
    public void ObserveCancellation(CancellationToken cancellationToken) =>
        _cancellation = cancellationToken.UnsafeRegister(
            static (state, token) => ((PendingCall<T>)state!).OnCanceled(token), this);

    public void Complete(IncomingResult result, int holdGeneration, bool runContinuationInline)
    {
        _holdGeneration = holdGeneration;
        _cancellation.Dispose();
        _channel.OnCallFinished();
        _value = Decode(result, out _failure);
        _telemetry.End(_channel.Namespace, _method, result.Error, _failure, _value is FetchHead head ? (int)head.Status : null);
        if (runContinuationInline)
        {
            ((IThreadPoolWorkItem)this).Execute();
            return;
        }
        // The instance queues itself and completes on its turn, running the continuation there: the core
        // would otherwise queue the continuation in a work item allocated per call.
        ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: true);
    }

    /// <summary>Completes the call with the decoded result, running a context-free continuation on this thread.</summary>
    void IThreadPoolWorkItem.Execute()
    {
        var value = _value;
        var failure = _failure;
        _value = default!;
        _failure = null;
        // A captured context (an object's scheduler, a UI) is posted to either way.
        _core.RunContinuationsAsynchronously = false;
        // The caller's next call, sent from the continuation, waits to share a frame with those of the
        // other callers the same frame of results woke.
        var stream = _stream;
        var outer = stream.EnterContinuation(_holdGeneration);
        try
        {
            if (failure is null)
            {
                _core.SetResult(value);
            }
            else
            {
                _core.SetException(failure);
            }
        }
        finally
        {
            stream.ExitContinuation(outer);
        }
        LetGo();
    }

    private T Decode(IncomingResult result, out Exception? failure)
    {
        failure = null;
        if (result.Error is { } error)
        {
            failure = RemoteErrors.ToException(error, _channel.Id);
            return default!;
        }
        try
        {
            var reader = new WireReader(result.Value.Span);
            return _readResult is null ? default! : _readResult(ref reader);
        }
        catch (WireFormatException e)
        {
            failure = RemoteErrors.MalformedResult(_method, e, _channel.Id);
            return default!;
        }
    }

    public void Fail(Exception exception)
    {
        _cancellation.Dispose();
        SetException(exception);
    }

    /// <summary>Cancels the call if it is still pending; <paramref name="callId"/> is its id on the stream.</summary>
    public void CancelIfPending(ulong callId, CancellationToken token)
    {
        // Called by the registration's callback or after sending. Disposing waits for a callback running
        // on another thread (and returns at once inside it), so no callback outlives this call's use of
        // the instance.
        _cancellation.Dispose();
        if (_stream.TryForget(callId))
        {
            _stream.SendCancel(callId);
            SetException(new TaskCanceledException(null, null, token));
        }
    }

    public T GetResult(short token)
    {
        if (token != _core.Version || _core.GetStatus(token) == ValueTaskSourceStatus.Pending)
        {
            // Awaited twice, or read before it completed: the core throws, and the call stays as it is.
            return _core.GetResult(token);
        }
        try
        {
            return _core.GetResult(token);
        }
        finally
        {
            LetGo();
        }
    }

    void IValueTaskSource.GetResult(short token) => GetResult(token);

    public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);

    private void OnCanceled(CancellationToken token) => CancelIfPending(CallId, token);

    private void SetException(Exception exception)
    {
        _telemetry.End(_channel.Namespace, _method, null, exception);
        _channel.OnCallFinished();
        _core.SetException(exception);
        LetGo();
    }

    private void LetGo()
    {
        if (Interlocked.Decrement(ref _owners) == 0)
        {
            Recycle();
        }
    }

    private void Recycle()
    {
        _core.Reset();
        _core.RunContinuationsAsynchronously = true;
        _channel = null!;
        _stream = null!;
        _readResult = null;
        _method = "";
        _cancellation = default;
        _telemetry = default;
        CallId = 0;
        ObjectCache<PendingCall<T>>.Return(this);
    }
}
