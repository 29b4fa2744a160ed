using System.Collections.Concurrent;
using Grpc.Core;
using SourceGenDO.Serialization;
using SourceGenDO.Server.Execution;
using SourceGenDO.Transport;
using SourceGenDO.Wire;

namespace SourceGenDO.Server.Rpc;

/// <summary>
/// The server's side of one client stream: it binds channels to objects, hands each channel's calls to
/// its object in stream order, tracks the calls in flight and their cancellation, and packs results
/// into frames.
/// </summary>
/// <remarks>
/// Results that complete while a frame is being dispatched are held back until the frame is done, so
/// calls that finish at once are answered by one frame; a result that completes later is written at
/// once when no write is running. Channels are touched by the reading loop only.
/// </remarks>
internal sealed class ServerStream : FrameWriter<ServerEntry, OutgoingServerFrame>.IFrameFormat
{
    // A frame holds at most this many bytes unless its first entry alone is larger: far below the
    // 4 MiB that gRPC libraries of most languages accept by default. Entries are counted exactly
    // (FrameCodec.SizeOf), so that holds for errors and closed channels as much as for values.
    private const int FrameBytesTarget = 256 * 1024;
    private const int FrameResultsTarget = 1024;
    private const int EncoderBytes = 4096;
    // The encoder grows to its largest frame; past this it goes back to EncoderBytes after the write.
    private const int MaxKeptEncoderBytes = 1024 * 1024;

    private readonly DurableObjectHost _objects;
    private readonly IServerStreamWriter<OutgoingServerFrame> _responses;
    private readonly FrameWriter<ServerEntry, OutgoingServerFrame> _writer;
    private readonly OutgoingServerFrame _frame = new(new WireWriter(EncoderBytes));
    private readonly Dictionary<uint, ServerChannel> _channels = [];
    private readonly ConcurrentDictionary<ulong, (CancellationTokenSource Source, ObjectActivation Activation)> _cancellations = new();
    private readonly TaskCompletionSource _idle = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _frameBytes;
    private int _inFlight;
    private volatile bool _draining;

    public ServerStream(DurableObjectHost objects, IServerStreamWriter<OutgoingServerFrame> responses)
    {
        _objects = objects;
        _responses = responses;
        _writer = new FrameWriter<ServerEntry, OutgoingServerFrame>(this);
    }

    /// <summary>Handles one frame in protocol order (opens, calls, cancels, closes), then sends what finished meanwhile.</summary>
    public void Dispatch(IncomingClientFrame frame)
    {
        // Each call holds the writes until its first turn on its object ends: the results of a frame's
        // calls that finish at once leave in one frame, even when many objects' turns ran them. Taken
        // before the frame's own hold, so that a lone call's hold arms no check (see HoldForOthers).
        var callsHold = _writer.HoldForOthers(frame.Calls.Count);
        var hold = _writer.Hold();
        try
        {
            foreach (var open in frame.Opens)
            {
                Open(open);
            }
            // A frame whose calls all go to one object (a busy stub) runs them on this thread when the
            // object is idle: no hop, and nothing else waits behind them on this stream but that
            // object's own later calls, which would wait for it anyway.
            var inline = frame.Calls.Count > 0 && frame.Opens.Count == 0 && AllOnOneChannel(frame.Calls);
            foreach (var call in frame.Calls)
            {
                Dispatch(call, inline, callsHold);
            }
            foreach (var callId in frame.Cancels)
            {
                Cancel(callId);
            }
            foreach (var channel in frame.Closes)
            {
                // Calls in flight keep what they need; only later calls on the number are refused.
                _channels.Remove(channel);
            }
        }
        finally
        {
            _writer.Release(hold);
        }
    }

    /// <summary>
    /// Queues a call's result (its encoded value, or its error) for sending and forgets the call.
    /// <paramref name="holdsNothing"/>: answered after the call's first turn, when its own hold is gone,
    /// so that the result must not wait on another call's turn that never ends.
    /// </summary>
    public void Complete(ulong callId, bool cancellable, ReadOnlyMemory<byte> value, Error? error, bool holdsNothing = false)
    {
        if (Volatile.Read(ref _inFlight) == 1)
        {
            _writer.Enqueue(new ServerEntry(callId, value, error), alone: true);
        }
        else
        {
            _writer.EnqueueInTurn(new ServerEntry(callId, value, error));
        }
        if (holdsNothing)
        {
            _writer.WatchHeld();
        }
        if (cancellable && _cancellations.TryRemove(callId, out var cancellation))
        {
            cancellation.Source.Dispose();
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
        // Visible before the count is read: a finishing call decrements first and reads the flag after.
        Interlocked.MemoryBarrier();
        if (Volatile.Read(ref _inFlight) == 0)
        {
            _idle.TrySetResult();
        }
        return _idle.Task;
    }

    /// <inheritdoc cref="FrameWriter{TItem, TFrame}.WhenFinished"/>
    public Task WhenWritesDone() => _writer.WhenFinished();

    /// <summary>Stops sending and cancels every call still running for this stream.</summary>
    public void Close()
    {
        _writer.Close();
        foreach (var (source, _) in _cancellations.Values)
        {
            CancelQuietly(source);
        }
    }

    /// <summary>
    /// Binds a channel number. An open for a number already bound to the same object (same namespace,
    /// id and name: a resent open) changes nothing. Any other open for a number in use rebinds it, as a
    /// close followed by the open would: calls already dispatched on the old binding run and are
    /// answered as usual, the calls that follow go to the new one, and nothing is refused.
    /// </summary>
    private void Open(OpenChannel open)
    {
        var channel = ServerChannel.Open(_objects, open);
        if (_channels.TryGetValue(open.Channel, out var current) && current.Refusal is null && channel.Refusal is null
            && ReferenceEquals(current.Host, channel.Host) && current.Id == channel.Id && current.Id!.Name == channel.Id!.Name)
        {
            return;
        }
        _channels[open.Channel] = channel;
        if (channel.Refusal is { } refusal)
        {
            _writer.Enqueue(new ServerEntry(0, default, null, new ChannelClosed { Channel = open.Channel, Error = refusal }));
        }
    }

    private static bool AllOnOneChannel(List<IncomingCallData> calls)
    {
        var channel = calls[0].Channel;
        foreach (var call in calls)
        {
            if (call.Channel != channel)
            {
                return false;
            }
        }
        return true;
    }

    private void Dispatch(in IncomingCallData call, bool inline, int hold)
    {
        Interlocked.Increment(ref _inFlight);
        if (!_channels.TryGetValue(call.Channel, out var channel))
        {
            Refuse(call, RemoteErrors.FromRuntime($"The call names channel {call.Channel}, which is not open on this stream."), hold);
            return;
        }
        if (channel.Refusal is { } refusal)
        {
            Refuse(call, refusal, hold);
            return;
        }
        if (call.Args.Length > PayloadLimits.MaxPayloadBytes)
        {
            Refuse(call, RemoteErrors.FromRuntime($"The serialized arguments of \"{call.Method}\" are {PayloadLimits.Describe(call.Args.Length)}."), hold);
            return;
        }
        if (channel.Host!.TryEnter(channel.Id!, out var activation) != EnterResult.Entered)
        {
            Refuse(call, RemoteErrors.FromRuntime(RemoteErrors.OverloadedMessage, overloaded: true), hold);
            return;
        }
        var cancellation = CancellationToken.None;
        if (call.Cancellable)
        {
            var source = new CancellationTokenSource();
            if (_cancellations.TryAdd(call.CallId, (source, activation)))
            {
                cancellation = source.Token;
            }
            else
            {
                source.Dispose();
            }
        }
        var incoming = IncomingCall.Rent(this, activation, call, cancellation, hold);
        if (inline)
        {
            activation.Scheduler.RunOrPost(IncomingCall.Start, incoming);
        }
        else
        {
            // Posted: one slow object must not hold up the other channels of this stream.
            activation.Scheduler.Post(IncomingCall.Start, incoming);
        }
    }

    private void Refuse(in IncomingCallData call, Error error, int hold)
    {
        Complete(call.CallId, call.Cancellable, default, error);
        _writer.Release(hold);
    }

    /// <summary>Releases a call's hold on the writes (see <see cref="Dispatch(IncomingClientFrame)"/>) once its first turn ended.</summary>
    public void ReleaseHold(int hold) => _writer.Release(hold);

    /// <summary>Signals the cancellation token of a call, on the object's scheduler so its callbacks run there.</summary>
    private void Cancel(ulong callId)
    {
        if (_cancellations.TryGetValue(callId, out var cancellation))
        {
            cancellation.Activation.Scheduler.Post(static state => CancelQuietly((CancellationTokenSource)state!), cancellation.Source);
        }
    }

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

    OutgoingServerFrame FrameWriter<ServerEntry, OutgoingServerFrame>.IFrameFormat.NewFrame()
    {
        // One write at a time, serialized before the write completes: the same frame serves every write.
        _frameBytes = 0;
        _frame.Entries.Clear();
        return _frame;
    }

    bool FrameWriter<ServerEntry, OutgoingServerFrame>.IFrameFormat.TryAdd(OutgoingServerFrame frame, ServerEntry entry)
    {
        var size = FrameCodec.SizeOf(entry);
        if (size > PayloadLimits.MaxErrorBytes && (entry.Error is not null || entry.Closed is not null || size > PayloadLimits.MaxFrameBytes))
        {
            entry = FrameCodec.Fit(entry, size);
            size = FrameCodec.SizeOf(entry);
        }
        if (frame.Entries.Count > 0 && (frame.Entries.Count >= FrameResultsTarget || _frameBytes + size > FrameBytesTarget))
        {
            return false;
        }
        _frameBytes += size;
        frame.Entries.Add(entry);
        return true;
    }

    Task FrameWriter<ServerEntry, OutgoingServerFrame>.IFrameFormat.WriteAsync(OutgoingServerFrame frame) => _responses.WriteAsync(frame);

    void FrameWriter<ServerEntry, OutgoingServerFrame>.IFrameFormat.OnWritten(OutgoingServerFrame frame)
    {
        frame.Entries.Clear();
        frame.Encoder.ResetAndShrink(MaxKeptEncoderBytes, EncoderBytes);
    }

    // Results go out as soon as a turn or frame ends: that is already the natural batch.
    bool FrameWriter<ServerEntry, OutgoingServerFrame>.IFrameFormat.ExpectsMore(int queued) => false;

    void FrameWriter<ServerEntry, OutgoingServerFrame>.IFrameFormat.OnWriteFailed(Exception exception)
    {
        // The stream is gone (the client left or the server stops); the handler ends on its own.
    }
}
