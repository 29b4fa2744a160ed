using System.Collections.Concurrent;
using System.Threading.Tasks.Sources;
using Grpc.Core;

namespace SourceGenDO.Transport.Http2;

/// <summary>
/// One gRPC call on an <see cref="Http2Connection"/>: the request stream, the response stream and the
/// status, as grpc-dotnet's call types expose them, so that the rest of the client does not know which
/// transport carries it.
/// </summary>
internal sealed class Http2Call<TRequest, TResponse> : Http2Stream, IClientStreamWriter<TRequest>, IAsyncStreamReader<TResponse>,
    IValueTaskStreamReader, IValueTaskSource<bool>
    where TRequest : class
    where TResponse : class
{
    private static readonly Task<bool> s_more = Task.FromResult(true);
    private static readonly Task<bool> s_done = Task.FromResult(false);

    private readonly Method<TRequest, TResponse> _method;
    private readonly MessageBuffer _outgoing = new();
    private readonly MessagePayload _incoming = new();
    // Messages go in from the reading loop and out to the one reader without a lock; the lock guards only
    // the hand-over to a waiting reader and the status.
    private readonly ConcurrentQueue<TResponse> _received = new();
    private readonly object _gate = new();
    private readonly TaskCompletionSource<Metadata> _responseHeaders = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenRegistration _cancelled;
    private readonly CancellationTokenSource? _deadline;
    private readonly CancellationTokenRegistration _deadlineExpired;
    private readonly Task _opened;
    private Http2Connection? _connection;
    private TaskCompletionSource<bool>? _waiter;
    // The reusable awaitable of MoveNextValueAsync; set while such a read waits. Its continuation runs
    // on the thread that completes it, as the waiter's does.
    private ManualResetValueTaskSourceCore<bool> _valueWaiter;
    private bool _valueWaiting;
    // 1 while a read waits (either kind); read by the reading loop without the lock.
    private int _waiting;
    private TResponse? _current;
    private Status? _status;
    private Metadata _trailers = [];
    private bool _requestEnded;
    private volatile bool _finished;

    public Http2Call(Http2CallInvoker invoker, Method<TRequest, TResponse> method, CallOptions options)
    {
        _method = method;
        // The caller's token first: a deadline already past finishes the call at once, and Finish must
        // then find this registration to remove.
        if (options.CancellationToken.CanBeCanceled)
        {
            _cancelled = options.CancellationToken.UnsafeRegister(
                static call => ((Http2Call<TRequest, TResponse>)call!).Cancel(new Status(StatusCode.Cancelled, "The call was cancelled.")), this);
        }
        TimeSpan? timeout = null;
        if (options.Deadline is { } deadline && deadline != DateTime.MaxValue)
        {
            var remaining = deadline.ToUniversalTime() - DateTime.UtcNow;
            timeout = remaining > TimeSpan.Zero ? remaining : TimeSpan.Zero;
            // A timer cannot wait longer than about 24 days; such a deadline is as good as none.
            if (timeout.Value < TimeSpan.FromMilliseconds(int.MaxValue - 1))
            {
                _deadline = new CancellationTokenSource(timeout.Value);
                _deadlineExpired = _deadline.Token.UnsafeRegister(
                    static call => ((Http2Call<TRequest, TResponse>)call!).Cancel(new Status(StatusCode.DeadlineExceeded, "The call's deadline passed.")), this);
            }
        }
        _opened = OpenAsync(invoker, options, timeout);
    }

    public override bool IsFinished => _finished;

    public TResponse Current => _current ?? throw new InvalidOperationException("No message has been read yet.");

    public WriteOptions? WriteOptions { get; set; }

    public Task<Metadata> ResponseHeadersAsync => _responseHeaders.Task;

    public Status GetStatus() => _status ?? throw new InvalidOperationException("The call has not finished.");

    public Metadata GetTrailers() => _status is null ? throw new InvalidOperationException("The call has not finished.") : _trailers;

    /// <summary>Sends one request message and ends the request: the call of a unary method.</summary>
    public async Task<TResponse> UnaryAsync(TRequest request)
    {
        await WriteCoreAsync(request, endStream: true).ConfigureAwait(false);
        if (!await MoveNext(CancellationToken.None).ConfigureAwait(false))
        {
            throw new RpcException(new Status(StatusCode.Internal, "The server ended a unary call without a response."));
        }
        var response = Current;
        if (await MoveNext(CancellationToken.None).ConfigureAwait(false))
        {
            throw new RpcException(new Status(StatusCode.Internal, "The server sent more than one response to a unary call."));
        }
        return response;
    }

    public Task WriteAsync(TRequest message)
    {
        var write = WriteCoreAsync(message, endStream: false);
        if (write.IsCompletedSuccessfully)
        {
            write.GetAwaiter().GetResult();
            return Task.CompletedTask;
        }
        return write.AsTask();
    }

    public async Task CompleteAsync()
    {
        var connection = await ConnectionAsync().ConfigureAwait(false);
        if (_requestEnded)
        {
            return;
        }
        _requestEnded = true;
        await connection.WriteEndStreamAsync(this).ConfigureAwait(false);
    }

    public ValueTask<bool> MoveNextValueAsync()
    {
        if (_received.TryDequeue(out var ready))
        {
            _current = ready;
            return new ValueTask<bool>(true);
        }
        short version;
        lock (_gate)
        {
            if (TryEndRead(out var more, out var failure))
            {
                return failure is null ? new ValueTask<bool>(more) : ValueTask.FromException<bool>(failure);
            }
            _valueWaiting = true;
            version = _valueWaiter.Version;
            if (TryCancelWait())
            {
                return new ValueTask<bool>(true);
            }
        }
        return new ValueTask<bool>(this, version);
    }

    bool IValueTaskSource<bool>.GetResult(short token)
    {
        try
        {
            return _valueWaiter.GetResult(token);
        }
        finally
        {
            // One reader, one read at a time: the next read starts from a fresh state.
            _valueWaiter.Reset();
        }
    }

    ValueTaskSourceStatus IValueTaskSource<bool>.GetStatus(short token) => _valueWaiter.GetStatus(token);

    void IValueTaskSource<bool>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _valueWaiter.OnCompleted(continuation, state, token, flags);

    public Task<bool> MoveNext(CancellationToken cancellationToken)
    {
        if (_received.TryDequeue(out var ready))
        {
            _current = ready;
            return s_more;
        }
        TaskCompletionSource<bool> waiter;
        lock (_gate)
        {
            if (TryEndRead(out var more, out var failure))
            {
                return failure is not null ? Task.FromException<bool>(failure) : more ? s_more : s_done;
            }
            // Completed on the reading loop's thread, which runs the reader's continuation there. Kept in a
            // local: once the lock is released, the reading loop may take the waiter at any moment.
            _waiter = waiter = new TaskCompletionSource<bool>();
            if (TryCancelWait())
            {
                return s_more;
            }
        }
        return cancellationToken.CanBeCanceled ? ReadCancellableAsync(waiter.Task, cancellationToken) : waiter.Task;
    }

    /// <summary>
    /// Under the lock, before a read waits: finishes it at once when a message or the end is at hand, and
    /// refuses a second read. Otherwise the caller sets up its waiter and calls <see cref="TryCancelWait"/>.
    /// </summary>
    private bool TryEndRead(out bool more, out RpcException? failure)
    {
        failure = null;
        if (_waiter is not null || _valueWaiting)
        {
            throw new InvalidOperationException("A read is already in progress; gRPC streams allow one at a time.");
        }
        if (_received.TryDequeue(out var message))
        {
            _current = message;
            more = true;
            return true;
        }
        more = false;
        if (_status is { } status)
        {
            failure = status.StatusCode == StatusCode.OK ? null : new RpcException(status, _trailers);
            return true;
        }
        return false;
    }

    /// <summary>
    /// Under the lock: announces the waiting read, then looks at the queue once more. A message queued after
    /// the first look but before the announcement would otherwise find nobody waiting while the reader
    /// found nothing queued. True when that message was taken here, and the read does not wait after all.
    /// </summary>
    private bool TryCancelWait()
    {
        // A full fence: the look below must not happen before the announcement is visible.
        Interlocked.Exchange(ref _waiting, 1);
        if (!_received.TryDequeue(out var message))
        {
            return false;
        }
        _current = message;
        _waiting = 0;
        _waiter = null;
        _valueWaiting = false;
        return true;
    }

    private async Task<bool> ReadCancellableAsync(Task<bool> read, CancellationToken cancellationToken)
    {
        try
        {
            return await read.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // As in gRPC, giving up on a read cancels the call.
            var status = new Status(StatusCode.Cancelled, "The read was cancelled.");
            Cancel(status);
            throw new RpcException(status);
        }
    }

    public override void Signal()
    {
        // The reading loop queued its messages before this look (a full fence in the queue): a reader that
        // announces itself later looks at the queue again itself.
        if (Volatile.Read(ref _waiting) == 0)
        {
            return;
        }
        TaskCompletionSource<bool>? waiter;
        bool more;
        lock (_gate)
        {
            if (_waiting == 0)
            {
                return;
            }
            if (_received.TryDequeue(out var message))
            {
                _current = message;
                more = true;
            }
            else if (_status is not null)
            {
                more = false;
            }
            else
            {
                return;
            }
            waiter = _waiter;
            _waiter = null;
            _valueWaiting = false;
            _waiting = 0;
        }
        var failure = more || _status!.Value.StatusCode == StatusCode.OK ? null : new RpcException(_status.Value, _trailers);
        if (waiter is null)
        {
            if (failure is null)
            {
                _valueWaiter.SetResult(more);
            }
            else
            {
                _valueWaiter.SetException(failure);
            }
        }
        else if (failure is null)
        {
            waiter.TrySetResult(more);
        }
        else
        {
            waiter.TrySetException(failure);
        }
    }

    public override void Finish(Status status, Metadata trailers)
    {
        lock (_gate)
        {
            if (_status is not null)
            {
                return;
            }
            _trailers = trailers;
            _status = status;
            _finished = true;
        }
        _responseHeaders.TrySetResult([]);
        // Unregister, not Dispose: Dispose waits for a callback that is running, and Finish may run on the
        // reading loop while a deadline's callback runs elsewhere.
        _cancelled.Unregister();
        _deadlineExpired.Unregister();
        _deadline?.Dispose();
    }

    /// <summary>Ends the call from this side: resets the stream unless it has finished.</summary>
    public void Dispose() => Cancel(new Status(StatusCode.Cancelled, "The call was disposed."));

    protected override void OnMessage(byte[] buffer, int offset, int length)
    {
        TResponse message;
        try
        {
            message = _incoming.Deserialize(_method.ResponseMarshaller, buffer, offset, length);
        }
        catch (Exception e)
        {
            throw new RpcException(new Status(StatusCode.Internal, $"A response message could not be read: {e.Message}", e));
        }
        _received.Enqueue(message);
    }

    protected override void OnResponseHeaders(Metadata headers) => _responseHeaders.TrySetResult(headers);

    private void Cancel(Status status)
    {
        if (IsFinished)
        {
            return;
        }
        Finish(status, []);
        _connection?.ResetStream(this, Http2ErrorCode.Cancel);
        Signal();
    }

    private async Task OpenAsync(Http2CallInvoker invoker, CallOptions options, TimeSpan? timeout)
    {
        try
        {
            var connection = await invoker.GetConnectionAsync(options.CancellationToken).ConfigureAwait(false);
            _connection = connection;
            await connection.OpenStreamAsync(this, _method.FullName, timeout, options.Headers).ConfigureAwait(false);
        }
        catch (RpcException e)
        {
            Finish(e.Status, e.Trailers);
            Signal();
            throw;
        }
        catch (OperationCanceledException e)
        {
            var status = new Status(StatusCode.Cancelled, "The call was cancelled before it started.", e);
            Finish(status, []);
            Signal();
            throw new RpcException(status);
        }
        catch (Exception e)
        {
            var status = new Status(StatusCode.Internal, $"The call could not start: {e.Message}", e);
            Finish(status, []);
            Signal();
            throw new RpcException(status);
        }
        if (IsFinished)
        {
            // Cancelled while opening: the connection must forget the stream it just opened.
            _connection.ResetStream(this, Http2ErrorCode.Cancel);
        }
    }

    private ValueTask<Http2Connection> ConnectionAsync() => _opened.IsCompletedSuccessfully
        ? new ValueTask<Http2Connection>(_connection!)
        : AwaitOpened();

    private async ValueTask<Http2Connection> AwaitOpened()
    {
        await _opened.ConfigureAwait(false);
        return _connection!;
    }

    private async ValueTask WriteCoreAsync(TRequest message, bool endStream)
    {
        var connection = await ConnectionAsync().ConfigureAwait(false);
        if (_finished)
        {
            throw new RpcException(_status!.Value, _trailers);
        }
        if (_requestEnded)
        {
            throw new InvalidOperationException("The request stream has been completed.");
        }
        _requestEnded = endStream;
        _outgoing.Serialize(_method.RequestMarshaller, message);
        try
        {
            await connection.WriteMessageAsync(this, _outgoing, endStream).ConfigureAwait(false);
        }
        finally
        {
            _outgoing.Trim();
        }
    }
}
