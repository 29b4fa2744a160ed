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
    // The reusable awaitable of a read that waits; its continuation runs on the thread that completes it
    // (the reading loop, once its next receive is under way).
    private ManualResetValueTaskSourceCore<bool> _valueWaiter;
    // 1 while a read waits; read by the reading loop without the lock.
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
            if (_waiting != 0)
            {
                throw new InvalidOperationException("A read is already in progress; gRPC streams allow one at a time.");
            }
            if (_received.TryDequeue(out var message))
            {
                _current = message;
                return new ValueTask<bool>(true);
            }
            if (_status is { } status)
            {
                return status.StatusCode == StatusCode.OK ? new ValueTask<bool>(false) : ValueTask.FromException<bool>(new RpcException(status, _trailers));
            }
            version = _valueWaiter.Version;
            // A full fence: the look at the queue below must not happen before the announcement is
            // visible. A message queued after the first look but before the announcement would otherwise
            // find nobody waiting while the reader found nothing queued.
            Interlocked.Exchange(ref _waiting, 1);
            if (_received.TryDequeue(out message))
            {
                _current = message;
                _waiting = 0;
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

    /// <summary>The same read as <see cref="MoveNextValueAsync"/>, as a task (allocated only when it waits).</summary>
    public Task<bool> MoveNext(CancellationToken cancellationToken)
    {
        var read = MoveNextValueAsync().AsTask();
        return cancellationToken.CanBeCanceled && !read.IsCompleted ? ReadCancellableAsync(read, cancellationToken) : read;
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
            _waiting = 0;
        }
        if (more || _status!.Value.StatusCode == StatusCode.OK)
        {
            _valueWaiter.SetResult(more);
        }
        else
        {
            _valueWaiter.SetException(new RpcException(_status.Value, _trailers));
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
