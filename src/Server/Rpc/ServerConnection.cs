using System.Collections.Concurrent;
using System.Threading.Channels;
using Grpc.Core;
using SourceGenDO.Serialization;
using SourceGenDO.Server.Execution;
using SourceGenDO.Wire;

namespace SourceGenDO.Server.Rpc;

/// <summary>
/// The server's side of one stub's stream: it hands calls to the object in stream order, tracks the
/// ones in flight and their cancellation, and packs results into frames on one writer loop.
/// </summary>
internal sealed class ServerConnection
{
    private const int FrameBytesTarget = 256 * 1024;
    private const int FrameResultsTarget = 1024;

    private readonly NamespaceHost _host;
    private readonly DurableObjectId _id;
    private readonly Channel<Result> _results = Channel.CreateUnbounded<Result>(
        new UnboundedChannelOptions { SingleReader = true, AllowSynchronousContinuations = false });
    private readonly ConcurrentDictionary<ulong, CancellationTokenSource> _cancellations = new();
    private readonly TaskCompletionSource _idle = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _inFlight;
    private volatile bool _draining;

    public ServerConnection(NamespaceHost host, DurableObjectId id)
    {
        _host = host;
        _id = id;
    }

    /// <summary>Hands one call to the object; bad calls are answered at once with an error.</summary>
    public void Dispatch(Call call)
    {
        Interlocked.Increment(ref _inFlight);
        if (call.Args.Length > PayloadLimits.MaxPayloadBytes)
        {
            Complete(call.CallId, ErrorResult(call.CallId, RemoteErrors.FromRuntime(
                $"The serialized arguments of \"{call.Method}\" are {PayloadLimits.Describe(call.Args.Length)}.")));
            return;
        }
        var entered = _host.TryEnter(_id, out var activation);
        if (entered != EnterResult.Entered)
        {
            Complete(call.CallId, ErrorResult(call.CallId, RemoteErrors.FromRuntime(RemoteErrors.OverloadedMessage, overloaded: true)));
            return;
        }
        var cancellation = CancellationToken.None;
        if (call.Cancellable)
        {
            var source = new CancellationTokenSource();
            if (_cancellations.TryAdd(call.CallId, source))
            {
                cancellation = source.Token;
            }
            else
            {
                source.Dispose();
            }
        }
        activation.Scheduler.Post(IncomingCall.Start, new IncomingCall(this, activation, call, cancellation));
    }

    /// <summary>Signals the cancellation token of a call, on the object's scheduler so its callbacks run there.</summary>
    public void Cancel(ulong callId)
    {
        if (!_cancellations.TryGetValue(callId, out var source))
        {
            return;
        }
        if (_host.TryEnter(_id, out var activation) != EnterResult.Entered)
        {
            CancelQuietly(source);
            return;
        }
        activation.Scheduler.Post(static state =>
        {
            var (source, activation) = ((CancellationTokenSource, ObjectActivation))state!;
            CancelQuietly(source);
            activation.Exit();
        }, (source, activation));
    }

    /// <summary>Queues a call's result for sending and forgets the call.</summary>
    public void Complete(ulong callId, Result result)
    {
        _results.Writer.TryWrite(result);
        if (_cancellations.TryRemove(callId, out var source))
        {
            source.Dispose();
        }
        if (Interlocked.Decrement(ref _inFlight) == 0 && _draining)
        {
            _idle.TrySetResult();
        }
    }

    /// <summary>Completes once every call dispatched so far has been answered.</summary>
    public Task WhenIdle()
    {
        _draining = true;
        if (Volatile.Read(ref _inFlight) == 0)
        {
            _idle.TrySetResult();
        }
        return _idle.Task;
    }

    /// <summary>Sends queued results, packing whatever is ready into one frame, until <see cref="Close"/>.</summary>
    public async Task WriteResultsAsync(IServerStreamWriter<ServerFrame> responses)
    {
        var reader = _results.Reader;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            var frame = new ServerFrame();
            var bytes = 0;
            while (frame.Results.Count < FrameResultsTarget && reader.TryPeek(out var next))
            {
                var size = next.Value.Length + 16;
                if (frame.Results.Count > 0 && bytes + size > FrameBytesTarget)
                {
                    break;
                }
                reader.TryRead(out _);
                bytes += size;
                frame.Results.Add(next);
            }
            await responses.WriteAsync(frame).ConfigureAwait(false);
        }
    }

    /// <summary>Stops sending and cancels every call still running for this stream.</summary>
    public void Close()
    {
        _results.Writer.TryComplete();
        foreach (var source in _cancellations.Values)
        {
            CancelQuietly(source);
        }
    }

    private static Result ErrorResult(ulong callId, Error error) => new() { CallId = callId, Error = error };

    private static void CancelQuietly(CancellationTokenSource source)
    {
        try
        {
            source.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The call finished first.
        }
    }
}
