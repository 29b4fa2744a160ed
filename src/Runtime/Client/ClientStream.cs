using System.Collections.Concurrent;
using Grpc.Core;
using SourceGenDO.Pooling;
using SourceGenDO.Serialization;
using SourceGenDO.Transport;
using SourceGenDO.Transport.Fetch;
using SourceGenDO.Transport.Http2;
using SourceGenDO.Wire;

namespace SourceGenDO;

/// <summary>
/// A client's gRPC stream to the server, shared by the channels of many stubs. Everything sent goes
/// through one <see cref="FrameWriter{TItem, TFrame}"/> in the order it was queued, packing queued
/// calls of all stubs into one frame; one reader loop completes the pending calls. When the stream
/// fails, every pending call and every stub bound to it fails with one exception, for good.
/// </summary>
/// <remarks>
/// The reader holds the writes once for every call a frame of results answers, and each of those
/// callers' continuations releases its hold when it sends its next call or returns: the calls a frame
/// of results brings about leave in one frame, not one frame each. A caller that blocks before its next
/// call cannot hold the others for long: <see cref="WriteHolds.TakeForOthers"/> ends such holds.
/// </remarks>
internal sealed class ClientStream : FrameWriter<ClientEntry, OutgoingClientFrame>.IFrameFormat
{
    // Frames stay small enough to keep latency low while packing many small calls together. Every
    // entry counts its exact encoded size (FrameCodec.SizeOf), so no frame passes the target unless its
    // first entry alone does, and none passes PayloadLimits.MaxFrameBytes.
    private const int FrameBytesTarget = 256 * 1024;
    private const int FrameEntriesTarget = 1024;
    private const int EncoderBytes = 4096;
    // The encoder grows to its largest frame; past this it goes back to EncoderBytes after the write.
    private const int MaxKeptEncoderBytes = 1024 * 1024;
    // The stream whose hold on writes the continuation running on this thread owns, if any.
    [ThreadStatic]
    private static ClientStream? t_continuation;

    // The generation of that hold.
    [ThreadStatic]
    private static int t_holdGeneration;

    private readonly AsyncDuplexStreamingCall<OutgoingClientFrame, IncomingServerFrame> _call;
    private readonly FrameWriter<ClientEntry, OutgoingClientFrame> _writer;
    private readonly OutgoingClientFrame _frame = new(new WireWriter(EncoderBytes));
    private readonly PendingCalls _pending = new();
    private readonly ConcurrentDictionary<uint, StubChannel> _channels = new();
    // The fetches sent and not over, whose bodies' chunks and credits the reader routes (StubChannel.Fetch.cs).
    private readonly ConcurrentDictionary<ulong, ClientFetch> _fetches = new();
    // Fetches whose request body streams: at most FetchWire.MaxStreamedBodiesPerStream.
    private int _streamedRequests;
    private readonly CancellationTokenSource _cancellation = new();
    // The pending calls a frame answers; only the reading loop uses it.
    private IPendingCall?[] _answered = new IPendingCall?[64];
    private readonly Action _continueReading;
    // The HTTP/2 transport's reader, whose reads wait without allocating; null on grpc-dotnet's.
    private readonly IValueTaskStreamReader? _valueReader;
    private ValueTask<bool> _nextFrame;
    // DurableObjectClientOptions.MaxQueuedCalls: the bound on _inFlight past which calls fail as overloaded.
    private readonly int _maxQueuedCalls;
    private long _nextCallId;
    private int _nextChannel;
    private int _frameBytes;
    private int _inFlight;
    // Entries queued and not yet written: a call given up (cancelled) leaves the calls in flight but
    // stays queued until its frame is written, and so do opens, cancels and closes; this bounds them too.
    private int _unwritten;
    private volatile Exception? _failure;
    // Set when a write failed and the stream is failing: new stubs go to a new stream from then on.
    private volatile bool _writeFailed;

    // headers: sent with the stream's call (the access token's), or null.
    public ClientStream(CallInvoker invoker, int maxQueuedCalls, Metadata? headers = null)
    {
        _maxQueuedCalls = maxQueuedCalls;
        _writer = new FrameWriter<ClientEntry, OutgoingClientFrame>(this);
        _call = invoker.AsyncDuplexStreamingCall(FrameCodec.ClientConnect, null, new CallOptions(headers, cancellationToken: _cancellation.Token));
        _valueReader = _call.ResponseStream as IValueTaskStreamReader;
        _continueReading = ContinueReading;
        ThreadPool.UnsafeQueueUserWorkItem(static stream => stream.StartReading(), this, preferLocal: false);
    }

    /// <summary>Why the stream failed, or null while it works.</summary>
    public Exception? Failure => _failure;

    /// <summary>True once the stream has failed or is failing: new stubs must not bind to it.</summary>
    public bool IsBroken => _failure is not null || _writeFailed;

    /// <summary>
    /// True when the stream holds as many unanswered calls as it may (<see cref="DurableObjectClientOptions.MaxQueuedCalls"/>).
    /// Entries not yet written count too, at twice the bound: each call may bring its stub's open, and a
    /// call given up leaves the calls in flight while it (and its cancel) wait for their frame.
    /// </summary>
    public bool IsFull => Volatile.Read(ref _inFlight) >= _maxQueuedCalls || Volatile.Read(ref _unwritten) >= 2L * _maxQueuedCalls;

    /// <summary>The error of a call refused because the stream <see cref="IsFull"/>.</summary>
    public DurableObjectException Overloaded(DurableObjectId id) => new(
        $"The client has {_maxQueuedCalls:N0} calls queued or in flight, its limit (DurableObjectClientOptions.MaxQueuedCalls); "
        + "the call was not sent.")
    {
        Overloaded = true,
        DurableObjectId = id,
    };

    /// <summary>
    /// Counts a call that waits behind its caller's output gate as queued, so that held calls count
    /// against <see cref="DurableObjectClientOptions.MaxQueuedCalls"/> as sent ones do; false, counting
    /// nothing, when the stream <see cref="IsFull"/>. Each reservation ends with <see cref="Unreserve"/>,
    /// when the call is sent (<see cref="Send"/> counts it again) or fails unsent.
    /// </summary>
    public bool TryReserve()
    {
        if (IsFull && _failure is null)
        {
            return false;
        }
        Interlocked.Increment(ref _inFlight);
        return true;
    }

    /// <summary>Ends a <see cref="TryReserve"/>.</summary>
    public void Unreserve() => Interlocked.Decrement(ref _inFlight);

    /// <summary>Binds a stub's channel to its object; the open travels before the stub's first call.</summary>
    public uint Open(StubChannel channel, OpenChannel open)
    {
        var number = (uint)Interlocked.Increment(ref _nextChannel);
        open.Channel = number;
        _channels[number] = channel;
        Queue(new ClientEntry(Open: open));
        return number;
    }

    /// <summary>
    /// Sends a call and returns its id; its result completes <paramref name="pending"/>, or the stream's
    /// failure fails it. <paramref name="args"/> is a <see cref="PooledBytes"/> copy, given back once sent.
    /// <paramref name="fetch"/>: the bodies of a fetch call, made known to the reader before the call
    /// leaves; null for every other call.
    /// </summary>
    public ulong Send(uint channel, string method, ReadOnlyMemory<byte> args, bool cancellable, IPendingCall pending, ClientFetch? fetch = null)
    {
        var callId = (ulong)Interlocked.Increment(ref _nextCallId);
        pending.CallId = callId;
        var alone = Interlocked.Increment(ref _inFlight) == 1;
        _pending.Add(callId, pending);
        // A failure that raced with us may have drained the map before the call was in it.
        if (_failure is { } failure)
        {
            if (TryTake(callId, out _))
            {
                pending.Fail(failure);
            }
            ReleaseContinuationHold();
            return callId;
        }
        if (fetch is not null && !TryRegister(fetch, callId, pending))
        {
            PooledBytes.Return(args);
            ReleaseContinuationHold();
            return callId;
        }
        Queue(new ClientEntry(callId, channel, method, args, cancellable, Trace: pending.Trace), alone);
        // Its body's chunks follow the call on the stream.
        fetch?.StartRequestBody();
        return callId;
    }

    /// <summary>
    /// Makes the fetch's bodies known to the reader before its call leaves; false (the call failed as
    /// overloaded) when its request body would stream past the stream's bound.
    /// </summary>
    private bool TryRegister(ClientFetch fetch, ulong callId, IPendingCall pending)
    {
        if (fetch.StreamsRequest && Interlocked.Increment(ref _streamedRequests) > FetchWire.MaxStreamedBodiesPerStream)
        {
            Interlocked.Decrement(ref _streamedRequests);
            if (TryTake(callId, out _))
            {
                pending.Fail(new DurableObjectException(FetchWire.TooManyRequestBodies()) { Overloaded = true, DurableObjectId = fetch.Id });
            }
            return false;
        }
        _fetches[callId] = fetch;
        fetch.Register(this, callId);
        return true;
    }

    /// <summary>A fetch is over: its request body (if it streamed) was sent whole and its response body read or stopped.</summary>
    public void Forget(ClientFetch fetch, ulong callId)
    {
        _fetches.TryRemove(new KeyValuePair<ulong, ClientFetch>(callId, fetch));
        if (fetch.StreamsRequest)
        {
            Interlocked.Decrement(ref _streamedRequests);
        }
    }

    /// <summary>Queues a body chunk or credit of a fetch, behind everything queued before it.</summary>
    public void QueueBody(in ClientEntry entry) => Queue(entry);

    /// <summary>
    /// Routes the body entries of a frame. Entries for a fetch this client no longer follows (cancelled,
    /// or its response disposed) are dropped: the server learns so from the cancel or the stop it was sent.
    /// </summary>
    /// <exception cref="WireFormatException">The server sent past a body's credit.</exception>
    private void ReadBodies(IncomingServerFrame frame)
    {
        foreach (var chunk in frame.Chunks)
        {
            if (_fetches.TryGetValue(chunk.CallId, out var fetch) && fetch.Response.Receive(chunk.CallId, chunk.Data.Span, chunk.End, chunk.Error))
            {
                fetch.CloseResponse();
            }
        }
        foreach (var credit in frame.Credits)
        {
            if (_fetches.TryGetValue(credit.CallId, out var fetch))
            {
                fetch.Request?.Grant(credit.Bytes, credit.Stop);
            }
        }
    }

    /// <summary>Removes a pending call whose caller gave up; true when it was still pending.</summary>
    public bool TryForget(ulong callId) => TryTake(callId, out _);

    /// <summary>Asks the server to signal the cancellation token of a call.</summary>
    public void SendCancel(ulong callId) => Queue(new ClientEntry(CallId: callId, IsCancel: true));

    /// <summary>Tells the server a channel is done; it answers the calls already sent first.</summary>
    public void Close(uint channel)
    {
        _channels.TryRemove(channel, out _);
        Queue(new ClientEntry(Channel: channel, IsClose: true));
    }

    /// <summary>Fails the pending calls of one channel, for a channel the server closed.</summary>
    public void FailChannel(uint channel, Exception exception)
    {
        foreach (var pending in TakeWhere(pending => pending.Channel == channel))
        {
            pending.Fail(exception);
        }
    }

    /// <summary>Ends the stream: every pending call and bound stub fails with <paramref name="failure"/>.</summary>
    public void Fail(Exception failure)
    {
        Interlocked.CompareExchange(ref _failure, failure, null);
        failure = _failure!;
        _writer.Close();
        foreach (var pending in TakeWhere(static _ => true))
        {
            pending.Fail(failure);
        }
        foreach (var channel in _channels.Values)
        {
            channel.Break(failure);
        }
        foreach (var fetch in _fetches.Values)
        {
            fetch.Fail(failure);
        }
        if (!_cancellation.IsCancellationRequested)
        {
            _cancellation.Cancel();
        }
    }

    /// <summary>
    /// Marks this thread as running the continuation of a caller the reader woke, holding the writes in
    /// <paramref name="holdGeneration"/>, until <see cref="ExitContinuation"/>; returns the mark it replaces.
    /// </summary>
    public (ClientStream? Stream, int HoldGeneration) EnterContinuation(int holdGeneration)
    {
        var outer = (t_continuation, t_holdGeneration);
        t_continuation = this;
        t_holdGeneration = holdGeneration;
        return outer;
    }

    /// <summary>Ends a continuation: releases its hold unless its first call did already, and restores <paramref name="outer"/>.</summary>
    public void ExitContinuation((ClientStream? Stream, int HoldGeneration) outer)
    {
        ReleaseContinuationHold();
        (t_continuation, t_holdGeneration) = outer;
    }

    private void Queue(ClientEntry entry, bool alone = false)
    {
        Interlocked.Increment(ref _unwritten);
        _writer.Enqueue(entry, alone);
        if (!ReleaseContinuationHold())
        {
            // Queued by code that holds nothing: it must not wait on a holder that never comes back.
            _writer.WatchHeld();
        }
    }

    /// <summary>
    /// A continuation's first call releases its hold: the frame need not wait for the rest of its code,
    /// which may block on that very call. False when this thread holds nothing.
    /// </summary>
    private bool ReleaseContinuationHold()
    {
        if (t_continuation != this)
        {
            return false;
        }
        t_continuation = null;
        _writer.Release(t_holdGeneration);
        return true;
    }

    private bool TryTake(ulong callId, out IPendingCall pending)
    {
        if (!_pending.TryTake(callId, out pending))
        {
            return false;
        }
        Interlocked.Decrement(ref _inFlight);
        return true;
    }

    private List<IPendingCall> TakeWhere(Func<IPendingCall, bool> predicate)
    {
        var taken = _pending.TakeWhere(predicate);
        Interlocked.Add(ref _inFlight, -taken.Count);
        return taken;
    }

    /// <summary>
    /// Takes the pending calls a frame answers and completes all but the last; returns the last, which the
    /// reader completes once the next read is under way. All are taken before any completes, so the
    /// in-flight count drops once per frame, before a caller, continuing, sends its next call.
    /// </summary>
    private IPendingCall? CompleteAllButLast(List<IncomingResult> results, out int holdGeneration)
    {
        if (_answered.Length < results.Count)
        {
            _answered = new IPendingCall?[Math.Max(results.Count, _answered.Length * 2)];
        }
        var taken = _answered;
        var count = 0;
        for (var i = 0; i < results.Count; i++)
        {
            if (_pending.TryTake(results[i].CallId, out var pending))
            {
                taken[i] = pending;
                count++;
            }
        }
        Interlocked.Add(ref _inFlight, -count);
        // Each caller's continuation releases one hold, when it sends its next call or returns.
        holdGeneration = _writer.HoldForOthers(count);
        for (var i = 0; i < results.Count - 1; i++)
        {
            if (taken[i] is { } pending)
            {
                taken[i] = null;
                pending.Complete(results[i], holdGeneration, runContinuationInline: false);
            }
        }
        var last = results.Count > 0 ? taken[results.Count - 1] : null;
        if (last is not null)
        {
            taken[results.Count - 1] = null;
        }
        return last;
    }

    private void StartReading() => ReadFrames(NextFrame());

    private void ContinueReading() => ReadFrames(_nextFrame);

    private ValueTask<bool> NextFrame()
    {
        try
        {
            return _valueReader?.MoveNextValueAsync() ?? new ValueTask<bool>(_call.ResponseStream.MoveNext(CancellationToken.None));
        }
        catch (Exception e)
        {
            return ValueTask.FromException<bool>(e);
        }
    }

    /// <summary>
    /// The reading loop: handles frames while they are at hand, then leaves the thread until the next one
    /// arrives. The last call a frame answers continues on this thread (one thread hop fewer per call),
    /// but only once the next read waits with its own continuation: whatever the caller's code goes on
    /// to wait for is then read on another thread, so it cannot hold up the stream.
    /// </summary>
    private void ReadFrames(ValueTask<bool> next)
    {
        try
        {
            ReadFramesWhileAtHand(next);
        }
        catch (Exception e)
        {
            // This runs as a continuation on the thread pool: an exception must end the stream, as a lost
            // connection does, rather than the process.
            End(e);
        }
    }

    private void ReadFramesWhileAtHand(ValueTask<bool> next)
    {
        while (true)
        {
            if (!next.IsCompleted)
            {
                WaitForFrame(next);
                return;
            }
            bool more;
            try
            {
                more = next.GetAwaiter().GetResult();
            }
            catch (Exception e)
            {
                End(e);
                return;
            }
            if (!more)
            {
                End(null);
                return;
            }
            var frame = _call.ResponseStream.Current;
            if (frame.Chunks.Count > 0 || frame.Credits.Count > 0)
            {
                // Before the next read, so that a body's chunks are taken in stream order; and before the
                // results, so that a broken body fails the stream before any call is taken from the map.
                ReadBodies(frame);
            }
            var last = CompleteAllButLast(frame.Results, out var holdGeneration);
            var lastResult = last is null ? default : frame.Results[^1];
            foreach (var closed in frame.Closed)
            {
                if (_channels.TryRemove(closed.Channel, out var channel))
                {
                    channel.Refuse(closed.Error);
                }
            }
            next = NextFrame();
            if (last is not null && !next.IsCompleted)
            {
                WaitForFrame(next);
                last.Complete(lastResult, holdGeneration, runContinuationInline: true);
                frame.Release();
                return;
            }
            last?.Complete(lastResult, holdGeneration, runContinuationInline: false);
            frame.Release();
        }
    }

    private void WaitForFrame(ValueTask<bool> next)
    {
        _nextFrame = next;
        next.ConfigureAwait(false).GetAwaiter().UnsafeOnCompleted(_continueReading);
    }

    private void End(Exception? cause)
    {
        // The server only ends a stream early when it is going away, so an end with calls still pending
        // is as much a lost connection as an error is; a server breaking the body protocol is not.
        Fail(cause is WireFormatException malformed
            ? new DurableObjectException($"The stream was ended because the server broke the protocol: {malformed.Message}", malformed)
            : RemoteErrors.FromStreamFailure(cause));
        _call.Dispose();
    }

    OutgoingClientFrame FrameWriter<ClientEntry, OutgoingClientFrame>.IFrameFormat.NewFrame()
    {
        // One write at a time, serialized before the write completes: the same frame serves every write.
        _frameBytes = 0;
        _frame.Entries.Clear();
        return _frame;
    }

    bool FrameWriter<ClientEntry, OutgoingClientFrame>.IFrameFormat.TryAdd(OutgoingClientFrame frame, ClientEntry entry)
    {
        // Every kind of entry counts, opens, cancels and closes too: ten thousand stubs opening at once
        // make a frame as large as their calls do. An entry left for the next frame keeps its order: the
        // server handles a frame's opens before its calls, and cancels and closes after them.
        var size = FrameCodec.SizeOf(entry);
        if (size > PayloadLimits.MaxFrameBytes && entry.Method is not null)
        {
            // The stub keeps arguments within PayloadLimits.MaxPayloadBytes, so this does not happen;
            // if it did, the call would fail alone rather than the frame and the stream with it.
            if (TryTake(entry.CallId, out var pending))
            {
                pending.Fail(new DurableObjectException(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                    $"The call of \"{entry.Method}\" takes {size:N0} bytes in its frame, over the frame limit of {PayloadLimits.MaxFrameBytes:N0} bytes.")));
            }
            PooledBytes.Return(entry.Args);
            Interlocked.Decrement(ref _unwritten);
            return true;
        }
        if (frame.Entries.Count > 0 && (frame.Entries.Count >= FrameEntriesTarget || _frameBytes + size > FrameBytesTarget))
        {
            return false;
        }
        _frameBytes += size;
        frame.Entries.Add(entry);
        return true;
    }

    Task FrameWriter<ClientEntry, OutgoingClientFrame>.IFrameFormat.WriteAsync(OutgoingClientFrame frame) => _call.RequestStream.WriteAsync(frame);

    void FrameWriter<ClientEntry, OutgoingClientFrame>.IFrameFormat.OnWritten(OutgoingClientFrame frame)
    {
        Interlocked.Add(ref _unwritten, -frame.Entries.Count);
        foreach (var entry in frame.Entries)
        {
            if (entry.Method is not null || entry.Part == BodyPart.Chunk)
            {
                PooledBytes.Return(entry.Args);
            }
        }
        frame.Entries.Clear();
        frame.Encoder.ResetAndShrink(MaxKeptEncoderBytes, EncoderBytes);
    }

    bool FrameWriter<ClientEntry, OutgoingClientFrame>.IFrameFormat.ExpectsMore(int queued) => queued * 2 < Volatile.Read(ref _inFlight);

    // A write fails once the server has ended the call, and then its status says why better than the
    // write does; the reader is about to see it. Given a moment for that, the stream fails either way.
    void FrameWriter<ClientEntry, OutgoingClientFrame>.IFrameFormat.OnWriteFailed(Exception exception)
    {
        _writeFailed = true;
        if (FinalStatus() is { } status)
        {
            Fail(RemoteErrors.FromStreamFailure(status));
            return;
        }
        _ = FailAfterWriteAsync(exception);
    }

    private async Task FailAfterWriteAsync(Exception exception)
    {
        try
        {
            await Task.Delay(WriteFailureGrace, _cancellation.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // The reader failed the stream first.
        }
        Fail(RemoteErrors.FromStreamFailure(FinalStatus() ?? exception));
    }

    // How long a failed write waits for the server's status before the stream fails with the write's error.
    private static readonly TimeSpan WriteFailureGrace = TimeSpan.FromMilliseconds(500);

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
}
