using System.Text;
using Google.Protobuf;
using SourceGenDO.Diagnostics;
using SourceGenDO.Serialization;
using SourceGenDO.Wire;

namespace SourceGenDO;

/// <summary>
/// One stub's ordered channel to its object, carried by its client's shared <see cref="ClientStream"/>.
/// The channel is bound to the stream on the stub's first call and never rebinds: when that stream
/// fails, or the server closes the channel, the stub is broken for good and every pending and later
/// call fails with the same exception. Calls that object code makes before its writes are durable wait
/// for them first (StubChannel.OutputGate.cs).
/// </summary>
internal sealed partial class StubChannel
{
    private readonly DurableObjectClient _client;
    private readonly string _namespace;
    // Guards the binding and the held calls.
    private readonly object _bindLock = new();
    private readonly TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private ClientStream? _stream;
    private uint _number;
    private int _inFlight;
    private volatile Exception? _failure;
    private volatile bool _disposing;

    public StubChannel(DurableObjectClient client, string @namespace, DurableObjectId id)
    {
        _client = client;
        _namespace = @namespace;
        Id = id;
    }

    public DurableObjectId Id { get; }

    /// <summary>The namespace of the object, as the stub's spans and metrics name it.</summary>
    public string Namespace => _namespace;

    /// <summary>
    /// Sends a call with the arguments encoded in <paramref name="arguments"/>; the result is decoded by
    /// <paramref name="readResult"/>. The returned awaitable is pooled: await it once.
    /// </summary>
    public ValueTask<T> Invoke<T>(string method, WireWriter arguments, ResultReader<T> readResult, CancellationToken cancellationToken) =>
        Send(method, arguments, readResult, cancellationToken, out var pending) is { } failed
            ? new ValueTask<T>(ClientCallTelemetry.Refused(_namespace, method, failed))
            : pending!.Awaitable;

    /// <summary>Sends a call of a method without a result; see <see cref="Invoke{T}"/>.</summary>
    public ValueTask InvokeWithoutResult(string method, WireWriter arguments, CancellationToken cancellationToken) =>
        Send<object?>(method, arguments, null, cancellationToken, out var pending) is { } failed
            ? new ValueTask(ClientCallTelemetry.Refused(_namespace, method, failed))
            : pending!.AwaitableWithoutResult;

    /// <summary>Sends a call, or returns the completed task of a call that cannot be sent.</summary>
    private Task<T>? Send<T>(
        string method, WireWriter arguments, ResultReader<T>? readResult, CancellationToken cancellationToken, out PendingCall<T>? pending, ClientFetch? fetch = null)
    {
        pending = null;
        if (arguments.Length > PayloadLimits.MaxPayloadBytes)
        {
            return Task.FromException<T>(new DurableObjectException(
                $"The serialized arguments of \"{method}\" are {PayloadLimits.Describe(arguments.Length)}.") { DurableObjectId = Id });
        }
        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled<T>(cancellationToken);
        }
        if (_failure is { } failure)
        {
            return Task.FromException<T>(failure);
        }
        if (_disposing)
        {
            return Task.FromException<T>(Disposed());
        }
        // Outside object code, or with its writes durable and nothing held, this is all calls pay.
        var gate = ClosedGate();
        if (gate is not null || _holding)
        {
            return Hold(method, arguments, readResult, gate, cancellationToken, out pending, fetch);
        }
        // Checked before binding too: a stub made per request while the client is full must not queue an
        // open (and later a close) for a call it refuses.
        var stream = Volatile.Read(ref _stream) ?? _client.CurrentStream();
        if (stream.IsFull && stream.Failure is null)
        {
            // Fails this call only: the stub stays usable once the queue drains.
            return Task.FromException<T>(stream.Overloaded(Id));
        }
        stream = Bind();
        if (stream.Failure is { } streamFailure)
        {
            Break(streamFailure);
            return Task.FromException<T>(_failure!);
        }
        // Queued calls wait for a frame, so they keep a copy (in a pooled array the stream gives back
        // once the frame is written) and the writer goes back for reuse.
        var args = arguments.TakePooled();
        pending = PendingCall<T>.Rent(this, _number, stream, method, readResult);
        Interlocked.Increment(ref _inFlight);
        var cancellable = cancellationToken.CanBeCanceled;
        if (cancellable)
        {
            // Registered before sending: once sent, the call may complete at any moment, and a completed
            // call must not gain a registration.
            pending.ObserveCancellation(cancellationToken);
        }
        var callId = stream.Send(_number, method, args, cancellable, pending, fetch);
        if (cancellable && cancellationToken.IsCancellationRequested)
        {
            // Canceled while being sent, when the registration could not yet name the call.
            pending.CancelIfPending(callId, cancellationToken);
        }
        return null;
    }

    /// <summary>Called once per call when it completes, however it completes.</summary>
    public void OnCallFinished()
    {
        if (Interlocked.Decrement(ref _inFlight) == 0 && _disposing)
        {
            _drained.TrySetResult();
        }
    }

    /// <summary>Breaks the stub for good: its bound stream failed.</summary>
    public void Break(Exception failure) => Interlocked.CompareExchange(ref _failure, failure, null);

    /// <summary>The server closed the channel: the stub's pending and later calls fail with its error.</summary>
    public void Refuse(Error error)
    {
        Break(RemoteErrors.ToException(error, Id));
        _stream!.FailChannel(_number, _failure!);
    }

    /// <summary>Lets the calls in flight finish, then closes the channel; later calls fail.</summary>
    public async ValueTask DisposeAsync()
    {
        _disposing = true;
        // The flag must be visible before the count is read, as a finishing call decrements the count
        // before it reads the flag: otherwise each could miss the other and the drain never end.
        Interlocked.MemoryBarrier();
        if (Volatile.Read(ref _inFlight) == 0)
        {
            _drained.TrySetResult();
        }
        await _drained.Task.ConfigureAwait(false);
        // Read after the drain: calls held behind an output gate count as in flight before they bind.
        ClientStream? stream;
        lock (_bindLock)
        {
            stream = _stream;
        }
        if (stream is null)
        {
            return;
        }
        if (stream.Failure is null && _failure is null)
        {
            stream.Close(_number);
        }
    }

    private ClientStream Bind()
    {
        if (Volatile.Read(ref _stream) is { } bound)
        {
            return bound;
        }
        lock (_bindLock)
        {
            if (_stream is null)
            {
                var stream = _client.CurrentStream();
                var open = new OpenChannel { Namespace = _namespace, Id = Id.ToString() };
                if (Id.Name is { } name)
                {
                    open.Name = ByteString.CopyFrom(Encoding.UTF8.GetBytes(name));
                }
                _number = stream.Open(this, open);
                Volatile.Write(ref _stream, stream);
            }
            return _stream;
        }
    }

    private ObjectDisposedException Disposed() =>
        new(nameof(DurableObjectStub), $"The stub of {Id} was disposed; get a new stub from the namespace.");
}
