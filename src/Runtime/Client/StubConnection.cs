using System.Collections.Concurrent;
using System.Text;
using System.Threading.Channels;
using Google.Protobuf;
using Grpc.Core;
using SourceGenDO.Serialization;
using SourceGenDO.Wire;

namespace SourceGenDO;

/// <summary>
/// One stub's ordered gRPC stream to its object. Calls are queued in the order they are made and one
/// writer loop sends them, packing whatever is queued into one frame; one reader loop completes the
/// pending calls. When the stream fails, every pending and later call fails with one exception.
/// </summary>
internal sealed class StubConnection : IAsyncDisposable
{
    // Frames stay small enough to keep latency low while packing many small calls together.
    private const int FrameBytesTarget = 256 * 1024;
    private const int FrameCallsTarget = 1024;
    private const int CallOverheadBytes = 16;

    private readonly DurableObjectClient _client;
    private readonly string _namespace;
    private readonly Channel<Outgoing> _outgoing = Channel.CreateUnbounded<Outgoing>(
        new UnboundedChannelOptions { SingleReader = true, AllowSynchronousContinuations = false });
    private readonly ConcurrentDictionary<ulong, IPendingCall> _pending = new();
    private readonly CancellationTokenSource _streamCancellation = new();
    private long _nextCallId;
    private int _started;
    private volatile Exception? _failure;
    private volatile bool _disposing;
    private Task _loops = Task.CompletedTask;

    public StubConnection(DurableObjectClient client, string @namespace, DurableObjectId id)
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
        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled<T>(cancellationToken);
        }
        if (_failure is { } failure)
        {
            return Task.FromException<T>(failure);
        }
        EnsureStarted();

        var callId = (ulong)Interlocked.Increment(ref _nextCallId);
        var pending = new PendingCall<T>(this, callId, method, readResult);
        _pending[callId] = pending;
        // A failure that raced with us may have drained the map before the call was in it.
        if (_failure is { } raced && _pending.TryRemove(callId, out _))
        {
            return Task.FromException<T>(raced);
        }
        var call = new Call
        {
            CallId = callId,
            Method = method,
            Args = UnsafeByteOperations.UnsafeWrap(arguments.WrittenMemory),
            Cancellable = cancellationToken.CanBeCanceled,
        };
        if (!_outgoing.Writer.TryWrite(new Outgoing(call, 0)))
        {
            if (_pending.TryRemove(callId, out _))
            {
                pending.Fail(_failure ?? Disposed());
            }
            return pending.Task;
        }
        if (cancellationToken.CanBeCanceled)
        {
            pending.ObserveCancellation(cancellationToken);
        }
        return pending.Task;
    }

    /// <summary>Removes a pending call whose caller gave up; true when it was still pending.</summary>
    internal bool TryForget(ulong callId) => _pending.TryRemove(callId, out _);

    /// <summary>Asks the server to signal the cancellation token of a call.</summary>
    internal void SendCancel(ulong callId) => _outgoing.Writer.TryWrite(new Outgoing(null, callId));

    public async ValueTask DisposeAsync()
    {
        _disposing = true;
        _outgoing.Writer.TryComplete();
        if (Interlocked.Exchange(ref _started, 1) == 0)
        {
            Fail(Disposed());
            return;
        }
        await _loops.ConfigureAwait(false);
        Fail(Disposed());
        _streamCancellation.Dispose();
    }

    private void EnsureStarted()
    {
        if (_started != 0 || Interlocked.Exchange(ref _started, 1) != 0)
        {
            return;
        }
        var headers = new Metadata
        {
            { StreamHeaders.Namespace, _namespace },
            { StreamHeaders.Id, Id.ToString() },
        };
        if (Id.Name is { } name)
        {
            headers.Add(StreamHeaders.NameBinary, Encoding.UTF8.GetBytes(name));
        }
        var call = _client.Grpc.Connect(headers, cancellationToken: _streamCancellation.Token);
        _loops = Task.WhenAll(Task.Run(() => WriteLoop(call)), Task.Run(() => ReadLoop(call)));
    }

    private async Task WriteLoop(AsyncDuplexStreamingCall<ClientFrame, ServerFrame> call)
    {
        var reader = _outgoing.Reader;
        try
        {
            while (await reader.WaitToReadAsync().ConfigureAwait(false))
            {
                var frame = new ClientFrame();
                var bytes = 0;
                while (frame.Calls.Count < FrameCallsTarget && reader.TryPeek(out var next))
                {
                    var size = next.Call is null ? 0 : next.Call.Args.Length + CallOverheadBytes;
                    if (frame.Calls.Count > 0 && bytes + size > FrameBytesTarget)
                    {
                        break;
                    }
                    reader.TryRead(out _);
                    bytes += size;
                    if (next.Call is { } queued)
                    {
                        frame.Calls.Add(queued);
                    }
                    else
                    {
                        frame.Cancels.Add(next.CancelCallId);
                    }
                }
                await call.RequestStream.WriteAsync(frame).ConfigureAwait(false);
            }
            await call.RequestStream.CompleteAsync().ConfigureAwait(false);
        }
        catch (Exception e)
        {
            // A write fails once the server has ended the call; its status says why better than the write does.
            Fail(RemoteErrors.FromStreamFailure(FinalStatus(call) ?? e, Id));
        }
    }

    private static RpcException? FinalStatus(AsyncDuplexStreamingCall<ClientFrame, ServerFrame> call)
    {
        try
        {
            var status = call.GetStatus();
            return status.StatusCode == StatusCode.OK ? null : new RpcException(status);
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }

    private async Task ReadLoop(AsyncDuplexStreamingCall<ClientFrame, ServerFrame> call)
    {
        Exception? cause = null;
        try
        {
            var responses = call.ResponseStream;
            while (await responses.MoveNext(CancellationToken.None).ConfigureAwait(false))
            {
                foreach (var result in responses.Current.Results)
                {
                    if (_pending.TryRemove(result.CallId, out var pending))
                    {
                        pending.Complete(result);
                    }
                }
            }
        }
        catch (Exception e)
        {
            cause = e;
        }
        // The server only ends a stream early when it is going away, so an end with calls still pending
        // is as much a lost connection as an error is.
        Fail(_disposing && cause is null ? Disposed() : RemoteErrors.FromStreamFailure(cause, Id));
        call.Dispose();
    }

    private void Fail(Exception failure)
    {
        Interlocked.CompareExchange(ref _failure, failure, null);
        failure = _failure!;
        _outgoing.Writer.TryComplete();
        foreach (var callId in _pending.Keys)
        {
            if (_pending.TryRemove(callId, out var pending))
            {
                pending.Fail(failure);
            }
        }
        if (!_streamCancellation.IsCancellationRequested)
        {
            try
            {
                _streamCancellation.Cancel();
            }
            catch (ObjectDisposedException)
            {
            }
        }
    }

    private ObjectDisposedException Disposed() =>
        new(nameof(DurableObjectStub), $"The stub of {Id} was disposed; get a new stub from the namespace.");

    private readonly record struct Outgoing(Call? Call, ulong CancelCallId);
}
