using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using Grpc.Core;
using SourceGenDO.Diagnostics;
using SourceGenDO.Pooling;
using SourceGenDO.Serialization;
using SourceGenDO.Server.Execution;
using SourceGenDO.Server.Security;
using SourceGenDO.Transport;
using SourceGenDO.Transport.Fetch;
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
/// Backpressure: a call counts against the stream from its dispatch until its result has been written,
/// and the bytes of results queued and not yet written are counted too; past either bound the reading
/// loop dispatches nothing more (<see cref="Dispatch(IncomingClientFrame, ref int)"/> stops, even within
/// a frame) until writes bring the stream below it, so HTTP/2 flow control pushes back on the client.
/// The counts change once per call and once per written frame; only a stream at its bound waits.
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
    // What the client's credential grants; null for the in-process stream of objects calling objects.
    private readonly StreamAccess? _access;
    private readonly IServerStreamWriter<OutgoingServerFrame> _responses;
    private readonly FrameWriter<ServerEntry, OutgoingServerFrame> _writer;
    private readonly OutgoingServerFrame _frame = new(new WireWriter(EncoderBytes));
    private readonly Dictionary<uint, ServerChannel> _channels = [];
    private readonly ConcurrentDictionary<ulong, (CancellationTokenSource Source, ObjectActivation Activation)> _cancellations = new();
    // The fetches dispatched and not over (ServerFetch), whose bodies' chunks and credits the reading loop routes.
    private readonly ConcurrentDictionary<ulong, ServerFetch> _fetches = new();
    // How many _fetches holds: ConcurrentDictionary.IsEmpty takes every bucket's lock.
    private int _fetchCount;
    // Request bodies the client is still sending (FetchWire.MaxStreamedBodiesPerStream).
    private int _streamedRequests;
    // Response bodies whose head was answered and that are not over: sending (at most
    // FetchWire.MaxStreamedBodiesPerStream at once, the slots) or waiting for a slot. Not calls in flight:
    // a body waits on its reader, and must not stop the stream reading the credit it needs.
    private int _responseBodies;
    private readonly SemaphoreSlim _responseBodySlots = new(FetchWire.MaxStreamedBodiesPerStream);
    // Set while the frame being written carries body chunks, whose pooled data goes back once it is written.
    private bool _frameHasChunks;
    private readonly TaskCompletionSource _idle = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _writeFailed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    // The bounds of backpressure (DurableObjectsOptions.MaxCallsInFlightPerStream, MaxUnsentResultBytesPerStream).
    private readonly int _maxCalls;
    private readonly long _maxUnsentBytes;
    private int _frameBytes;
    // Calls dispatched whose result has not been written yet.
    private int _inFlight;
    // The weight (see WeightOf) of the results queued and not yet written.
    private long _unsentBytes;
    // The reading loop, waiting for the stream to drop below its bounds.
    private TaskCompletionSource? _roomWaiter;
    private volatile bool _draining;
    private volatile bool _refusingCalls;
    private volatile Exception? _writeFailure;

    public ServerStream(DurableObjectHost objects, IServerStreamWriter<OutgoingServerFrame> responses, int maxCalls, long maxUnsentBytes, StreamAccess? access = null)
    {
        _objects = objects;
        _access = access;
        _responses = responses;
        _maxCalls = maxCalls;
        _maxUnsentBytes = maxUnsentBytes;
        _writer = new FrameWriter<ServerEntry, OutgoingServerFrame>(this);
    }

    /// <summary>Why writing to the stream failed, or null while it works.</summary>
    public Exception? WriteFailure => _writeFailure;

    /// <summary>Completes when a write fails: the stream can send nothing more.</summary>
    public Task WhenWriteFailed => _writeFailed.Task;

    /// <summary>True while the stream is below both bounds and may dispatch more calls.</summary>
    public bool HasRoom => Volatile.Read(ref _inFlight) < _maxCalls && Volatile.Read(ref _unsentBytes) < _maxUnsentBytes;

    /// <summary>
    /// From now on every call read is answered at once with a retryable error instead of being started:
    /// the server is stopping and lets only the calls already started finish.
    /// </summary>
    public void RefuseNewCalls() => _refusingCalls = true;

    /// <summary>
    /// Handles one frame in protocol order (opens, calls, cancels, closes), then sends what finished
    /// meanwhile. Starts at call <paramref name="next"/> (-1 for a new frame: its opens first) and stops
    /// when the stream reaches a bound of backpressure: false then, with <paramref name="next"/> the first
    /// call not dispatched; call again once <see cref="WhenRoom"/> completes.
    /// </summary>
    public bool Dispatch(IncomingClientFrame frame, ref int next)
    {
        var calls = frame.Calls;
        var first = Math.Max(next, 0);
        // Each call holds the writes until its first turn on its object ends: the results of a frame's
        // calls that finish at once leave in one frame, even when many objects' turns ran them. Taken
        // before the frame's own hold, so that a lone call's hold arms no check (see HoldForOthers).
        var callsHold = _writer.HoldForOthers(calls.Count - first);
        var hold = _writer.Hold();
        // The arguments of the calls dispatched here, counted once for the frame; a call's own arguments
        // keep its frame's payload alive until it is answered.
        long argsBytes = 0;
        try
        {
            if (next < 0)
            {
                // Once per frame: a frame resumed after a pause must not open (or refuse) its channels again.
                next = 0;
                foreach (var open in frame.Opens)
                {
                    Open(open);
                }
            }
            // A frame whose calls all go to one object (a busy stub) runs them on this thread when the
            // object is idle: no hop, and nothing else waits behind them on this stream but that
            // object's own later calls, which would wait for it anyway.
            var inline = calls.Count > 0 && frame.Opens.Count == 0 && AllOnOneChannel(calls);
            while (next < calls.Count)
            {
                if (!HasRoomBeside(argsBytes))
                {
                    // The calls not dispatched give their holds back: what is held must be written for
                    // the stream to get below its bound again.
                    _writer.Release(callsHold, calls.Count - next);
                    // The bodies of fetches already running go on: the calls that get the stream below its
                    // bound may be waiting for them, and they cost nothing beyond their credit.
                    if (frame.Chunks.Count > 0 || frame.Credits.Count > 0)
                    {
                        ReadKnownBodies(frame);
                    }
                    return false;
                }
                argsBytes += calls[next].Args.Length;
                Dispatch(calls[next++], inline, callsHold);
            }
            if (frame.Chunks.Count > 0 || frame.Credits.Count > 0)
            {
                ReadBodies(frame);
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
            return true;
        }
        finally
        {
            // A call answered meanwhile may have subtracted its arguments first: the count dips below
            // zero for that moment, which only lets the stream read on a little earlier.
            Interlocked.Add(ref _unsentBytes, argsBytes);
            _writer.Release(hold);
        }
    }

    private bool HasRoomBeside(long argsBytes) =>
        Volatile.Read(ref _inFlight) < _maxCalls && Volatile.Read(ref _unsentBytes) + argsBytes < _maxUnsentBytes;

    /// <summary>Completes once the stream is below its bounds again (or can write nothing more).</summary>
    public Task WhenRoom()
    {
        var waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref _roomWaiter, waiter);
        // Visible before the counts are read: a write that lowers them reads the waiter after.
        Interlocked.MemoryBarrier();
        if (HasRoom || _writeFailure is not null)
        {
            Interlocked.Exchange(ref _roomWaiter, null)?.TrySetResult();
        }
        return waiter.Task;
    }

    /// <summary>
    /// Queues a call's result (its encoded value, or its error) for sending and forgets the call.
    /// <paramref name="holdsNothing"/>: answered after the call's first turn, when its own hold is gone,
    /// so that the result must not wait on another call's turn that never ends.
    /// </summary>
    /// <paramref name="argsBytes"/>: the size of the call's arguments, counted since its dispatch and
    /// released with its result.
    public void Complete(ulong callId, bool cancellable, ReadOnlyMemory<byte> value, Error? error, int argsBytes, bool holdsNothing = false)
    {
        var weight = WeightOf(value, error);
        var entry = new ServerEntry(callId, value, error) { Weight = weight + argsBytes };
        // Counted before it is queued, so that its write never subtracts what was not added yet.
        Interlocked.Add(ref _unsentBytes, weight);
        if (Volatile.Read(ref _inFlight) == 1)
        {
            _writer.Enqueue(entry, alone: true);
        }
        else
        {
            _writer.EnqueueInTurn(entry);
        }
        if (holdsNothing)
        {
            _writer.WatchHeld();
        }
        if (cancellable && _cancellations.TryRemove(callId, out var cancellation))
        {
            cancellation.Source.Dispose();
        }
        // The call stays counted in flight until its result is written (see Sent).
    }

    /// <summary>Completes once every call dispatched so far has been answered and its result written, and every response body sent.</summary>
    public Task WhenIdle()
    {
        _draining = true;
        // Visible before the count is read: a finishing call decrements first and reads the flag after.
        Interlocked.MemoryBarrier();
        if (Volatile.Read(ref _inFlight) == 0 && Volatile.Read(ref _responseBodies) == 0)
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
        if (Volatile.Read(ref _fetchCount) != 0)
        {
            var ended = new IOException("The stream carrying the fetch ended.");
            foreach (var fetch in _fetches.Values)
            {
                fetch.Fail(ended);
            }
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
        if (_channels.Count >= MaxChannels && !_channels.ContainsKey(open.Channel))
        {
            // Not kept: the table is full. Calls on the number fail as on a number never opened.
            QueueClosed(open.Channel, TooManyChannels);
            return;
        }
        var channel = _access?.Refusal(open.Namespace) is { } notGranted ? ServerChannel.Refuse(notGranted) : ServerChannel.Open(_objects, open);
        if (_channels.TryGetValue(open.Channel, out var current) && current.Refusal is null && channel.Refusal is null
            && ReferenceEquals(current.Host, channel.Host) && current.Id == channel.Id && current.Id!.Name == channel.Id!.Name)
        {
            return;
        }
        _channels[open.Channel] = channel;
        if (channel.Refusal is { } refusal)
        {
            QueueClosed(open.Channel, refusal);
        }
    }

    /// <summary>The most channels one stream may have open (each costs the server a table entry until closed).</summary>
    public const int MaxChannels = 100_000;

    private static readonly Error TooManyChannels = RemoteErrors.FromRuntime(string.Create(System.Globalization.CultureInfo.InvariantCulture,
        $"The stream has {MaxChannels:N0} channels open, its limit: close the channels of stubs no longer used (dispose them)."));

    private void QueueClosed(uint channel, Error error)
    {
        // A refusal waits for its write like a result does, so a client that opens bad channels and never
        // reads is held back by the same bound.
        var weight = WeightOf(default, error);
        Interlocked.Add(ref _unsentBytes, weight);
        _writer.Enqueue(new ServerEntry(0, default, null, new ChannelClosed { Channel = channel, Error = error }) { Weight = weight });
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
        // The one look an ordinary call pays for fetch: a string compare that fails at the length mostly.
        ServerFetch? fetch = null;
        if (string.Equals(call.Method, FetchWire.Method, StringComparison.Ordinal))
        {
            fetch = OpenFetch(call);
            if (fetch.Refusal is { } fetchRefusal)
            {
                Refuse(call, fetchRefusal, hold);
                return;
            }
        }
        if (_refusingCalls)
        {
            Refuse(call, ShuttingDown, hold);
            return;
        }
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
            Refuse(call, RemoteErrors.FromRuntime($"The serialized arguments of {ClientText.Quote(call.Method)} are {PayloadLimits.Describe(call.Args.Length)}."), hold);
            return;
        }
        if (channel.Activation is { ResetError: { } reset })
        {
            // The instance this stub reached was reset: the stub is broken for good (its client learns
            // so from the closed channel), and a new stub reaches a new instance.
            channel.Break(reset);
            QueueClosed(call.Channel, reset);
            Refuse(call, reset, hold);
            return;
        }
        if (channel.Host!.TryEnter(channel.Id!, out var activation) != EnterResult.Entered)
        {
            Refuse(call, RemoteErrors.FromRuntime(RemoteErrors.OverloadedMessage, overloaded: true), hold);
            return;
        }
        channel.Activation = activation;
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
        var incoming = IncomingCall.Rent(this, activation, call, cancellation, hold, fetch);
        if (inline)
        {
            activation.Scheduler.RunOrPostEvent(IncomingCall.Start, incoming);
        }
        else
        {
            // Posted: one slow object must not hold up the other channels of this stream.
            activation.Scheduler.PostEvent(IncomingCall.Start, incoming);
        }
    }

    /// <summary>The error of a call that reached a stopping server.</summary>
    public const string ShuttingDownMessage = "The server is shutting down and did not start the call; retry it on a new stub.";

    private static readonly Error ShuttingDown = RemoteErrors.FromRuntime(ShuttingDownMessage, retryable: true);

    private void Refuse(in IncomingCallData call, Error error, int hold)
    {
        if (SourceGenDOMetrics.ServerObserved)
        {
            ServerCallTelemetry.Refused(_channels.GetValueOrDefault(call.Channel)?.Host?.Name, error);
        }
        Complete(call.CallId, call.Cancellable, default, error, call.Args.Length);
        _writer.Release(hold);
        if (string.Equals(call.Method, FetchWire.Method, StringComparison.Ordinal) && _fetches.TryGetValue(call.CallId, out var fetch))
        {
            // Its request body, if it streams, is still expected to its end; the client is asked to stop.
            fetch.Finish();
        }
    }

    /// <summary>
    /// Makes a fetch known to the reading loop before anything else happens to it, so that the chunks of
    /// its request body always find it, even when the fetch is refused.
    /// </summary>
    /// <exception cref="WireFormatException">The head does not decode, its call id is in use by a fetch, or the client streams far past its bound of bodies.</exception>
    private ServerFetch OpenFetch(in IncomingCallData call)
    {
        var fetch = ServerFetch.Open(this, call);
        if (fetch.RequestBody is not null)
        {
            var streaming = Interlocked.Increment(ref _streamedRequests);
            if (streaming > 2 * FetchWire.MaxStreamedBodiesPerStream)
            {
                Interlocked.Decrement(ref _streamedRequests);
                throw new WireFormatException(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                    $"The client streams {streaming:N0} request bodies at once, far over the limit of {FetchWire.MaxStreamedBodiesPerStream:N0}."));
            }
            if (streaming > FetchWire.MaxStreamedBodiesPerStream)
            {
                fetch.Refuse(RemoteErrors.FromRuntime(FetchWire.TooManyRequestBodies(), overloaded: true));
            }
        }
        if (!_fetches.TryAdd(call.CallId, fetch))
        {
            if (fetch.RequestBody is not null)
            {
                Interlocked.Decrement(ref _streamedRequests);
            }
            throw new WireFormatException(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"Fetch call {call.CallId} reuses the id of a fetch that is not over."));
        }
        Interlocked.Increment(ref _fetchCount);
        return fetch;
    }

    /// <summary>Routes the body chunks and credits of a frame; a chunk the protocol does not allow ends the stream.</summary>
    /// <exception cref="WireFormatException">A chunk names a call without a request body streaming, or goes past its credit.</exception>
    private void ReadBodies(IncomingClientFrame frame)
    {
        foreach (var chunk in frame.Chunks)
        {
            if (!_fetches.TryGetValue(chunk.CallId, out var fetch) || fetch.RequestBody is not { } body || body.HasEnded)
            {
                throw new WireFormatException(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                    $"A body chunk names call {chunk.CallId}, which has no request body streaming."));
            }
            if (body.Receive(chunk.CallId, chunk.Data.Span, chunk.End, chunk.Error))
            {
                Interlocked.Decrement(ref _streamedRequests);
                fetch.OnRequestBodyEnded();
            }
        }
        foreach (var credit in frame.Credits)
        {
            // A credit may cross the body's end on the wire: one for a body that is over is ignored.
            if (_fetches.TryGetValue(credit.CallId, out var fetch))
            {
                fetch.Grant(credit.Bytes, credit.Stop);
            }
        }
    }

    /// <summary>
    /// While dispatch is paused: routes the credits of a frame and the chunks of fetches already
    /// dispatched, and takes them out of the frame, leaving the chunks of calls not yet dispatched for
    /// when it resumes. A body's chunks all name one call, so their order is kept.
    /// </summary>
    private void ReadKnownBodies(IncomingClientFrame frame)
    {
        var known = 0;
        foreach (var chunk in frame.Chunks)
        {
            known += _fetches.ContainsKey(chunk.CallId) ? 1 : 0;
        }
        if (known == frame.Chunks.Count)
        {
            ReadBodies(frame);
            frame.Chunks.Clear();
            frame.Credits.Clear();
            return;
        }
        var pending = frame.Chunks;
        var unknown = pending.FindAll(chunk => !_fetches.ContainsKey(chunk.CallId));
        pending.RemoveAll(chunk => !_fetches.ContainsKey(chunk.CallId));
        ReadBodies(frame);
        pending.Clear();
        pending.AddRange(unknown);
        frame.Credits.Clear();
    }

    /// <summary>A fetch is over on both sides: it leaves the map.</summary>
    public void Forget(ServerFetch fetch)
    {
        if (_fetches.TryRemove(new KeyValuePair<ulong, ServerFetch>(fetch.CallId, fetch)))
        {
            Interlocked.Decrement(ref _fetchCount);
        }
    }

    /// <summary>
    /// Counts a response body that is to stream (before its head is answered, so that a stream ending
    /// once its calls are answered, a client that half-closed or a server draining, waits for the body);
    /// false past <see cref="FetchWire.MaxResponseBodiesPerStream"/>, sending and waiting.
    /// </summary>
    public bool TryReserveResponseBody()
    {
        if (Interlocked.Increment(ref _responseBodies) > FetchWire.MaxResponseBodiesPerStream)
        {
            ReleaseResponseBody(hadSlot: false);
            return false;
        }
        return true;
    }

    /// <summary>
    /// Waits until fewer than <see cref="FetchWire.MaxStreamedBodiesPerStream"/> response bodies are being
    /// sent. A body waiting holds nothing beyond its handler's content.
    /// </summary>
    public Task WaitForResponseBodySlotAsync(CancellationToken cancellationToken) => _responseBodySlots.WaitAsync(cancellationToken);

    /// <summary>Ends a <see cref="TryReserveResponseBody"/>; <paramref name="hadSlot"/>: it was being sent.</summary>
    public void ReleaseResponseBody(bool hadSlot)
    {
        if (hadSlot)
        {
            _responseBodySlots.Release();
        }
        if (Interlocked.Decrement(ref _responseBodies) == 0 && _draining && Volatile.Read(ref _inFlight) == 0)
        {
            _idle.TrySetResult();
        }
    }

    /// <summary>
    /// The client half-closed: request bodies it did not end can never end, so reading them fails (and
    /// their handlers can answer) instead of waiting for good; response bodies get no more credit than
    /// they hold, since credit travels on the half the client closed.
    /// </summary>
    public void EndRequestBodies()
    {
        // Called by the reading loop once it read the end: no fetch is dispatched after this.
        if (Volatile.Read(ref _fetchCount) == 0)
        {
            return;
        }
        var ended = new IOException("The client ended its stream before the end of the request body.");
        foreach (var fetch in _fetches.Values)
        {
            fetch.OnClientDone(ended);
        }
    }

    /// <summary>
    /// Queues a body chunk or credit. Its bytes count towards the bound of unsent bytes as a result's do,
    /// so a client that does not read response bodies is held back by it too.
    /// </summary>
    public void QueueBody(ServerEntry entry)
    {
        var weight = entry.Value.Length + EntryOverheadBytes;
        Interlocked.Add(ref _unsentBytes, weight);
        _writer.Enqueue(entry with { Weight = weight });
    }

    /// <summary>Releases a call's hold on the writes (see <see cref="Dispatch(IncomingClientFrame, ref int)"/>) once its first turn ended.</summary>
    public void ReleaseHold(int hold) => _writer.Release(hold);

    /// <summary>Signals the cancellation token of a call, on the object's scheduler so its callbacks run there.</summary>
    private void Cancel(ulong callId)
    {
        if (_cancellations.TryGetValue(callId, out var cancellation))
        {
            cancellation.Activation.Scheduler.Post(static state => CancelQuietly((CancellationTokenSource)state!), cancellation.Source);
        }
        if (Volatile.Read(ref _fetchCount) != 0 && _fetches.TryGetValue(callId, out var fetch))
        {
            fetch.Stop();
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
            // The weight stays what it was when the entry was made (see ServerEntry.Weight).
            entry = FrameCodec.Fit(entry, size);
            size = FrameCodec.SizeOf(entry);
        }
        if (frame.Entries.Count > 0 && (frame.Entries.Count >= FrameResultsTarget || _frameBytes + size > FrameBytesTarget))
        {
            return false;
        }
        _frameBytes += size;
        _frameHasChunks |= entry.Part == BodyPart.Chunk;
        frame.Entries.Add(entry);
        return true;
    }

    Task FrameWriter<ServerEntry, OutgoingServerFrame>.IFrameFormat.WriteAsync(OutgoingServerFrame frame)
    {
        var calls = 0;
        var bytes = 0L;
        foreach (ref readonly var entry in CollectionsMarshal.AsSpan(frame.Entries))
        {
            calls += entry.Closed is null && entry.Part == BodyPart.None ? 1 : 0;
            bytes += entry.Weight;
        }
        var write = _responses.WriteAsync(frame);
        if (write.IsCompletedSuccessfully)
        {
            Sent(calls, bytes);
            return write;
        }
        return SentOnceWrittenAsync(write, calls, bytes);
    }

    private async Task SentOnceWrittenAsync(Task write, int calls, long bytes)
    {
        await write.ConfigureAwait(false);
        Sent(calls, bytes);
    }

    /// <summary>A frame of <paramref name="calls"/> results has been written: they no longer count against the stream.</summary>
    private void Sent(int calls, long bytes)
    {
        Interlocked.Add(ref _unsentBytes, -bytes);
        if (Interlocked.Add(ref _inFlight, -calls) == 0 && _draining && Volatile.Read(ref _responseBodies) == 0)
        {
            _idle.TrySetResult();
        }
        if (Volatile.Read(ref _roomWaiter) is not null && HasRoom)
        {
            Interlocked.Exchange(ref _roomWaiter, null)?.TrySetResult();
        }
    }

    /// <summary>What a queued result counts towards the bound of unsent bytes: about its encoded size.</summary>
    private static long WeightOf(ReadOnlyMemory<byte> value, Error? error) =>
        value.Length + EntryOverheadBytes + (error is { } e ? e.Message.Length + e.Type.Length : 0);

    private const int EntryOverheadBytes = 16;

    void FrameWriter<ServerEntry, OutgoingServerFrame>.IFrameFormat.OnWritten(OutgoingServerFrame frame)
    {
        if (_frameHasChunks)
        {
            _frameHasChunks = false;
            foreach (var entry in frame.Entries)
            {
                if (entry.Part == BodyPart.Chunk)
                {
                    PooledBytes.Return(entry.Value);
                }
            }
        }
        frame.Entries.Clear();
        frame.Encoder.ResetAndShrink(MaxKeptEncoderBytes, EncoderBytes);
    }

    // Results go out as soon as a turn or frame ends: that is already the natural batch.
    bool FrameWriter<ServerEntry, OutgoingServerFrame>.IFrameFormat.ExpectsMore(int queued) => false;

    void FrameWriter<ServerEntry, OutgoingServerFrame>.IFrameFormat.OnWriteFailed(Exception exception)
    {
        // Nothing more can be sent: the handler ends the call saying why, and the client fails the stream.
        Interlocked.CompareExchange(ref _writeFailure, exception, null);
        _writeFailed.TrySetResult();
        Interlocked.Exchange(ref _roomWaiter, null)?.TrySetResult();
    }
}
