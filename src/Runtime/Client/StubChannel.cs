using System.Text;
using Google.Protobuf;
using SourceGenDO.Serialization;
using SourceGenDO.Wire;

namespace SourceGenDO;

/// <summary>
/// One stub's ordered channel to its object, carried by its client's shared <see cref="ClientStream"/>.
/// The channel is bound to the stream on the stub's first call and never rebinds: when that stream
/// fails, or the server closes the channel, the stub is broken for good and every pending and later
/// call fails with the same exception.
/// </summary>
internal sealed class StubChannel
{
    private readonly DurableObjectClient _client;
    private readonly string _namespace;
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

    public Task<T> Invoke<T>(string method, WireWriter arguments, ResultReader<T>? readResult, CancellationToken cancellationToken)
    {
        if (arguments.Length > PayloadLimits.MaxPayloadBytes)
        {
            return Task.FromException<T>(new DurableObjectException(
                $"The serialized arguments of \"{method}\" are {PayloadLimits.Describe(arguments.Length)}.") { DurableObjectId = Id });
        }
        // Queued calls wait for a frame, so they keep an exact copy and the writer goes back for reuse.
        var args = arguments.TakeBytes();
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
        var stream = Bind();
        if (stream.Failure is { } streamFailure)
        {
            Break(streamFailure);
            return Task.FromException<T>(_failure!);
        }
        var pending = new PendingCall<T>(this, stream, method, readResult) { Channel = _number };
        Interlocked.Increment(ref _inFlight);
        stream.Send(_number, method, args, cancellationToken.CanBeCanceled, pending);
        if (cancellationToken.CanBeCanceled)
        {
            pending.ObserveCancellation(cancellationToken);
        }
        return pending.Task;
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
        ClientStream? stream;
        lock (_bindLock)
        {
            stream = _stream;
        }
        if (stream is null)
        {
            return;
        }
        if (Volatile.Read(ref _inFlight) == 0)
        {
            _drained.TrySetResult();
        }
        await _drained.Task.ConfigureAwait(false);
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
