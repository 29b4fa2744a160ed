using System.Collections.Concurrent;
using Grpc.Core;
using SourceGenDO.Transport;
using SourceGenDO.Wire;

namespace SourceGenDO;

/// <summary>
/// A client's gRPC stream to the server, shared by the channels of many stubs. Everything sent goes
/// through one <see cref="FrameWriter{TItem, TFrame}"/> in the order it was queued, packing queued
/// calls of all stubs into one frame; one reader loop completes the pending calls. When the stream
/// fails, every pending call and every stub bound to it fails with one exception, for good.
/// </summary>
internal sealed class ClientStream : FrameWriter<ClientStream.Outgoing, ClientFrame>.IFrameFormat
{
    // Frames stay small enough to keep latency low while packing many small calls together.
    private const int FrameBytesTarget = 256 * 1024;
    private const int FrameCallsTarget = 1024;
    private const int CallOverheadBytes = 24;

    private readonly AsyncDuplexStreamingCall<ClientFrame, ServerFrame> _call;
    private readonly FrameWriter<Outgoing, ClientFrame> _writer;
    private readonly ConcurrentDictionary<ulong, IPendingCall> _pending = new();
    private readonly ConcurrentDictionary<uint, StubChannel> _channels = new();
    private readonly CancellationTokenSource _cancellation = new();
    private long _nextCallId;
    private int _nextChannel;
    private int _frameBytes;
    private int _inFlight;
    private volatile Exception? _failure;

    public ClientStream(DurableObjects.DurableObjectsClient grpc)
    {
        _writer = new FrameWriter<Outgoing, ClientFrame>(this);
        _call = grpc.Connect(cancellationToken: _cancellation.Token);
        _ = Task.Run(ReadLoop);
    }

    /// <summary>Why the stream failed, or null while it works.</summary>
    public Exception? Failure => _failure;

    /// <summary>Binds a stub's channel to its object; the open travels before the stub's first call.</summary>
    public uint Open(StubChannel channel, OpenChannel open)
    {
        var number = (uint)Interlocked.Increment(ref _nextChannel);
        open.Channel = number;
        _channels[number] = channel;
        _writer.Enqueue(new Outgoing(Open: open));
        return number;
    }

    /// <summary>Sends a call; its result completes <paramref name="pending"/>, or the stream's failure fails it.</summary>
    public void Send(Call call, IPendingCall pending)
    {
        call.CallId = (ulong)Interlocked.Increment(ref _nextCallId);
        pending.CallId = call.CallId;
        var alone = Interlocked.Increment(ref _inFlight) == 1;
        _pending[call.CallId] = pending;
        // A failure that raced with us may have drained the map before the call was in it.
        if (_failure is { } failure)
        {
            if (TryTake(call.CallId, out _))
            {
                pending.Fail(failure);
            }
            return;
        }
        _writer.Enqueue(new Outgoing(Call: call), alone);
    }

    /// <summary>Removes a pending call whose caller gave up; true when it was still pending.</summary>
    public bool TryForget(ulong callId) => TryTake(callId, out _);

    /// <summary>Asks the server to signal the cancellation token of a call.</summary>
    public void SendCancel(ulong callId) => _writer.Enqueue(new Outgoing(CancelCallId: callId));

    /// <summary>Tells the server a channel is done; it answers the calls already sent first.</summary>
    public void Close(uint channel)
    {
        _channels.TryRemove(channel, out _);
        _writer.Enqueue(new Outgoing(CloseChannel: channel));
    }

    /// <summary>Fails the pending calls of one channel, for a channel the server closed.</summary>
    public void FailChannel(uint channel, Exception exception)
    {
        foreach (var (callId, pending) in _pending)
        {
            if (pending.Channel == channel && TryTake(callId, out _))
            {
                pending.Fail(exception);
            }
        }
    }

    /// <summary>Ends the stream: every pending call and bound stub fails with <paramref name="failure"/>.</summary>
    public void Fail(Exception failure)
    {
        Interlocked.CompareExchange(ref _failure, failure, null);
        failure = _failure!;
        _writer.Close();
        foreach (var callId in _pending.Keys)
        {
            if (TryTake(callId, out var pending))
            {
                pending.Fail(failure);
            }
        }
        foreach (var channel in _channels.Values)
        {
            channel.Break(failure);
        }
        if (!_cancellation.IsCancellationRequested)
        {
            _cancellation.Cancel();
        }
    }

    private bool TryTake(ulong callId, out IPendingCall pending)
    {
        if (!_pending.TryRemove(callId, out pending!))
        {
            return false;
        }
        Interlocked.Decrement(ref _inFlight);
        return true;
    }

    private async Task ReadLoop()
    {
        Exception? cause = null;
        try
        {
            var responses = _call.ResponseStream;
            while (await responses.MoveNext(CancellationToken.None).ConfigureAwait(false))
            {
                var frame = responses.Current;
                foreach (var result in frame.Results)
                {
                    if (TryTake(result.CallId, out var pending))
                    {
                        pending.Complete(result);
                    }
                }
                foreach (var closed in frame.Closed)
                {
                    if (_channels.TryRemove(closed.Channel, out var channel))
                    {
                        channel.Refuse(closed.Error);
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
        Fail(RemoteErrors.FromStreamFailure(cause, null));
        _call.Dispose();
    }

    ClientFrame FrameWriter<Outgoing, ClientFrame>.IFrameFormat.NewFrame()
    {
        _frameBytes = 0;
        return new ClientFrame();
    }

    bool FrameWriter<Outgoing, ClientFrame>.IFrameFormat.TryAdd(ClientFrame frame, Outgoing item)
    {
        if (item.Call is { } call)
        {
            var size = call.Args.Length + CallOverheadBytes;
            if (frame.Calls.Count > 0 && (frame.Calls.Count >= FrameCallsTarget || _frameBytes + size > FrameBytesTarget))
            {
                return false;
            }
            _frameBytes += size;
            frame.Calls.Add(call);
        }
        else if (item.Open is { } open)
        {
            // The server handles a frame's opens before its calls, so a channel's open may join a frame
            // whose earlier calls belong to other channels; it never lands after its own calls.
            frame.Opens.Add(open);
        }
        else if (item.CloseChannel is { } channel)
        {
            frame.Closes.Add(channel);
        }
        else
        {
            frame.Cancels.Add(item.CancelCallId);
        }
        return true;
    }

    Task FrameWriter<Outgoing, ClientFrame>.IFrameFormat.WriteAsync(ClientFrame frame) => _call.RequestStream.WriteAsync(frame);

    // A write fails once the server has ended the call; its status says why better than the write does.
    void FrameWriter<Outgoing, ClientFrame>.IFrameFormat.OnWriteFailed(Exception exception) =>
        Fail(RemoteErrors.FromStreamFailure(FinalStatus() ?? exception, null));

    private RpcException? FinalStatus()
    {
        try
        {
            var status = _call.GetStatus();
            return status.StatusCode == StatusCode.OK ? null : new RpcException(status);
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }

    /// <summary>One entry of a client frame.</summary>
    internal readonly record struct Outgoing(Call? Call = null, OpenChannel? Open = null, uint? CloseChannel = null, ulong CancelCallId = 0);
}
