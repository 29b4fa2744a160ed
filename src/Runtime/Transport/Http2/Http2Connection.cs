using System.Buffers;
using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Grpc.Core;
using SourceGenDO.Pooling;

namespace SourceGenDO.Transport.Http2;

/// <summary>
/// One cleartext HTTP/2 connection to a gRPC server, written for the client's hot path: callers write
/// their frames to the socket themselves, and one reading loop cuts what arrives into messages and hands
/// them to their calls on the thread that read them.
/// </summary>
/// <remarks>
/// <para>
/// Writes take a lock around the socket (uncontended on a client's one busy stream) and usually complete
/// on the calling thread. The reading loop starts its next receive before it wakes the readers of what it
/// just read, so a reader whose code then blocks cannot hold up the connection.
/// </para>
/// <para>
/// Frames from the reading loop (acknowledgements, window updates, resets) are sent without waiting, so
/// the loop never waits for the socket to drain: a peer that stops reading cannot stall our reading.
/// They gather in one bounded buffer that a single flush at a time writes out; a peer that keeps asking
/// for answers (PING, SETTINGS) without reading them fills it, and the connection fails.
/// </para>
/// <para>
/// Liveness: a connection quiet for <see cref="KeepAlive.Delay"/> while streams are open is pinged and
/// fails when the answer takes longer than <see cref="KeepAlive.Timeout"/>. A write that waits for the
/// server's flow-control window fails once the server sent nothing on its stream for
/// <see cref="KeepAlive.StallTimeout"/>: a live server that pushes back because its objects are slow
/// still answers calls on that stream now and then, and one that answers nothing at all is pinged.
/// </para>
/// </remarks>
internal sealed class Http2Connection
{
    // What the server may send before we acknowledge it, per stream and for the connection; updates go
    // out once a quarter of it has been read.
    private const int ReceiveWindow = 16 * 1024 * 1024;
    private const int WindowUpdateThreshold = ReceiveWindow / 4;
    private const int ReceiveBufferSize = 64 * 1024;
    private const int MaxHeaderBlockBytes = 256 * 1024;
    // Bound of the control frames waiting for the socket (about 960 PING answers); past it the server is
    // flooding us while not reading, a connection error (ENHANCE_YOUR_CALM).
    private const int MaxPendingControlBytes = 16 * 1024;
    private const int PingFrameLength = Http2Protocol.FrameHeaderLength + 8;
    // Receives that complete at once in a row before the readers of what arrived are woken anyway.
    private const int MaxReceivesBeforeWaking = 16;

    private readonly Socket _socket;
    private readonly string _authority;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly Dictionary<int, Http2Stream> _streams = [];
    private readonly object _windowLock = new();
    private readonly HPackDecoder _decoder = new();
    private readonly List<KeyValuePair<string, string>> _headers = [];
    private readonly byte[] _receiveBuffer = new byte[ReceiveBufferSize];
    private readonly Action _onReceived;
    private ValueTask<int> _receive;
    private int _filled;
    // Streams with something for their readers, woken once the next receive is under way. Two lists take
    // turns: a receive that completes on another thread meanwhile fills the other one.
    private List<Http2Stream> _ready = [];
    private List<Http2Stream>? _spareReady = [];
    private int _nextStreamId = 1;
    private long _sendWindow = Http2Protocol.DefaultWindowSize;
    private int _initialStreamWindow = Http2Protocol.DefaultWindowSize;
    private int _maxFrameSize = Http2Protocol.DefaultMaxFrameSize;
    private int _maxConcurrentStreams = int.MaxValue;
    private int _unacknowledged;
    // The connection's receive window as the server can know it: what it sent against what this side
    // granted in updates handed to the socket (ReceiveWindow at first). Received: reading loop; granted:
    // the control flush.
    private long _received;
    private long _granted;
    private TaskCompletionSource? _windowOpened;
    private readonly object _controlLock = new();
    private byte[] _control = new byte[MaxPendingControlBytes];
    private byte[] _controlSending = new byte[MaxPendingControlBytes];
    private int _controlLength;
    private bool _controlFlushing;
    // Set while the reading loop handles a receive: its answers wait for the end of it (reading loop only).
    private bool _flushAfterHandling;
    [ThreadStatic]
    private static Http2Connection? t_handling;
    // Streams whose writer waits for window, for the stall check; one entry per stream at most.
    private readonly List<Http2Stream> _blocked = [];
    private byte[]? _headerBlock;
    private int _headerBlockLength;
    private int _headerBlockStream;
    private bool _headerBlockEndsStream;
    private volatile RpcException? _failure;
    private volatile bool _goingAway;
    private bool _settingsReceived;
    // Keep-alive: a ping goes out when nothing arrived for the delay while streams are open; the
    // connection fails when its answer takes longer than the timeout. The reading loop only counts its
    // receives; the timer, which ticks at a tenth of the shortest time it watches, notices quiet from that
    // count, so reading takes no clock.
    private readonly KeepAlive _settings;
    private readonly TimeProvider _time;
    private ITimer? _keepAlive;
    private int _receives;
    private int _receivesSeen;
    private long _quietSince;
    private long _pingSentAt;

    private Http2Connection(Socket socket, string authority, KeepAlive keepAlive)
    {
        _socket = socket;
        _authority = authority;
        _onReceived = OnReceived;
        _settings = keepAlive;
        _time = keepAlive.Time ?? TimeProvider.System;
        _quietSince = _time.GetTimestamp();
    }

    /// <summary>
    /// When to ping a quiet connection and how long its answer may take; how long a write may wait for a
    /// closed flow-control window while the server sends nothing on its stream.
    /// </summary>
    public readonly record struct KeepAlive(TimeSpan Delay, TimeSpan Timeout)
    {
        /// <summary>2 minutes by default: far longer than a slow object takes to answer one of many calls.</summary>
        public TimeSpan StallTimeout { get; init; } = TimeSpan.FromMinutes(2);

        /// <summary>The clock; the system's when null.</summary>
        public TimeProvider? Time { get; init; }

        /// <summary>How often the timer checks: a tenth of the shortest time it watches, within 10 ms and 1 s.</summary>
        public TimeSpan CheckPeriod => TimeSpan.FromTicks(Math.Clamp(
            Math.Min(Math.Min(Delay.Ticks, Timeout.Ticks), StallTimeout.Ticks) / 10, TimeSpan.TicksPerMillisecond * 10, TimeSpan.TicksPerSecond));
    }

    /// <summary>True while the connection can take another stream.</summary>
    public bool CanOpenStream
    {
        get
        {
            if (_failure is not null || _goingAway || _nextStreamId < 0)
            {
                return false;
            }
            lock (_streams)
            {
                return _streams.Count < _maxConcurrentStreams;
            }
        }
    }

    /// <summary>True while streams are open on the connection.</summary>
    public bool HasStreams
    {
        get
        {
            lock (_streams)
            {
                return _streams.Count > 0;
            }
        }
    }

    /// <summary>Connects, sends the preface and this side's settings, and starts reading.</summary>
    public static async Task<Http2Connection> ConnectAsync(string host, int port, KeepAlive keepAlive, CancellationToken cancellationToken)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(new DnsEndPoint(host, port), cancellationToken).ConfigureAwait(false);
            var connection = new Http2Connection(socket, host.Contains(':') ? $"[{host}]:{port}" : $"{host}:{port}", keepAlive);
            await connection.SendAsync(Preface()).ConfigureAwait(false);
            connection.Receive();
            var check = keepAlive.CheckPeriod;
            connection._keepAlive = connection._time.CreateTimer(
                static state => ((Http2Connection)state!).CheckAlive(), connection, check, check);
            if (connection._failure is not null)
            {
                // Failed before the timer existed: Abort could not stop it.
                connection._keepAlive.Dispose();
            }
            return connection;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Assigns <paramref name="stream"/> an id and sends its request headers.</summary>
    /// <exception cref="RpcException">The connection failed or takes no more streams (Unavailable).</exception>
    public async ValueTask OpenStreamAsync(Http2Stream stream, string path, TimeSpan? timeout, Metadata? metadata)
    {
        var block = new ArrayBufferWriter<byte>(256);
        block.Advance(Http2Protocol.FrameHeaderLength);
        RequestHeaders.Write(block, _authority, path, timeout, metadata);
        var frame = block.WrittenMemory;
        var length = frame.Length - Http2Protocol.FrameHeaderLength;
        if (length > Volatile.Read(ref _maxFrameSize))
        {
            throw new RpcException(new Status(StatusCode.Internal, $"The request headers take {length:N0} bytes, more than one HTTP/2 frame holds."));
        }
        await AcquireWriteAsync().ConfigureAwait(false);
        try
        {
            if (!CanOpenStream)
            {
                throw _failure ?? new RpcException(new Status(StatusCode.Unavailable, $"The connection to {_authority} takes no more streams."));
            }
            stream.Id = _nextStreamId;
            _nextStreamId += 2;
            // One step for both, in ChangeInitialWindow's lock order: a SETTINGS handled in between would
            // change every open stream's window but this one's.
            lock (_windowLock)
            {
                stream.SendWindow = _initialStreamWindow;
                lock (_streams)
                {
                    // Checked again under the lock that Abort and GOAWAY take: a stream added after them
                    // would be left open on a connection nobody reads.
                    if (_failure is { } failure)
                    {
                        throw failure;
                    }
                    if (_goingAway)
                    {
                        throw new RpcException(new Status(StatusCode.Unavailable, $"The connection to {_authority} takes no more streams."));
                    }
                    _streams.Add(stream.Id, stream);
                }
            }
            // The array behind an ArrayBufferWriter is ours to write into.
            var bytes = System.Runtime.InteropServices.MemoryMarshal.AsMemory(frame);
            Http2Protocol.WriteFrameHeader(bytes.Span, length, FrameType.Headers, Http2Protocol.EndHeaders, stream.Id);
            await SendLockedAsync(frame).ConfigureAwait(false);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>
    /// Sends the message in <paramref name="message"/> as DATA on <paramref name="stream"/>, as the server's
    /// flow-control windows allow; a message that fits them goes out in one write without a copy.
    /// </summary>
    public async ValueTask WriteMessageAsync(Http2Stream stream, MessageBuffer message, bool endStream)
    {
        var buffer = message.Array;
        var length = MessageBuffer.Reserved - Http2Protocol.FrameHeaderLength + message.MessageLength;
        var flags = endStream ? Http2Protocol.EndStream : (byte)0;
        var maxFrame = Volatile.Read(ref _maxFrameSize);
        if (length <= maxFrame && TryReserve(stream, length))
        {
            Http2Protocol.WriteFrameHeader(buffer, length, FrameType.Data, flags, stream.Id);
            await SendAsync(buffer.AsMemory(0, Http2Protocol.FrameHeaderLength + length)).ConfigureAwait(false);
            return;
        }
        var sent = 0;
        while (sent < length)
        {
            var allowed = await ReserveAsync(stream, length - sent).ConfigureAwait(false);
            var frames = (allowed + maxFrame - 1) / maxFrame;
            var chunk = PooledBytes.RentArray(allowed + frames * Http2Protocol.FrameHeaderLength);
            try
            {
                var written = 0;
                for (var taken = 0; taken < allowed;)
                {
                    var size = Math.Min(maxFrame, allowed - taken);
                    var last = sent + taken + size == length;
                    Http2Protocol.WriteFrameHeader(chunk.AsSpan(written), size, FrameType.Data, last ? flags : (byte)0, stream.Id);
                    written += Http2Protocol.FrameHeaderLength;
                    buffer.AsSpan(Http2Protocol.FrameHeaderLength + sent + taken, size).CopyTo(chunk.AsSpan(written));
                    written += size;
                    taken += size;
                }
                await SendAsync(chunk.AsMemory(0, written)).ConfigureAwait(false);
            }
            finally
            {
                PooledBytes.ReturnArray(chunk);
            }
            sent += allowed;
        }
    }

    /// <summary>Ends the request side of <paramref name="stream"/> with an empty DATA frame.</summary>
    public ValueTask WriteEndStreamAsync(Http2Stream stream)
    {
        return SendAsync(Http2Protocol.Frame(FrameType.Data, Http2Protocol.EndStream, stream.Id, []));
    }

    /// <summary>Forgets <paramref name="stream"/> and tells the server to stop it, without waiting.</summary>
    public void ResetStream(Http2Stream stream, Http2ErrorCode code)
    {
        if (Forget(stream))
        {
            SendReset(stream.Id, code);
        }
    }

    /// <summary>Closes the connection; every open stream fails with <paramref name="reason"/>.</summary>
    public void Close(string reason) => Abort(null, reason);

    private static byte[] Preface()
    {
        var preface = Http2Protocol.ConnectionPreface;
        var settings = new (ushort Id, uint Value)[]
        {
            (Http2Protocol.SettingsEnablePush, 0),
            (Http2Protocol.SettingsInitialWindowSize, ReceiveWindow),
        };
        var frame = new byte[preface.Length + Http2Protocol.FrameHeaderLength + settings.Length * 6 + Http2Protocol.FrameHeaderLength + 4];
        preface.CopyTo(frame);
        var position = preface.Length;
        Http2Protocol.WriteFrameHeader(frame.AsSpan(position), settings.Length * 6, FrameType.Settings, 0, 0);
        position += Http2Protocol.FrameHeaderLength;
        foreach (var (id, value) in settings)
        {
            BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(position), id);
            BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(position + 2), value);
            position += 6;
        }
        // The connection's window starts at 64 KiB whatever the settings say; raise it to match.
        Http2Protocol.WriteFrameHeader(frame.AsSpan(position), 4, FrameType.WindowUpdate, 0, 0);
        BinaryPrimitives.WriteInt32BigEndian(frame.AsSpan(position + Http2Protocol.FrameHeaderLength), ReceiveWindow - Http2Protocol.DefaultWindowSize);
        return frame;
    }

    // ---- Reading ----

    /// <summary>Receives and handles frames until a receive has to wait; then wakes the readers of what arrived.</summary>
    private void Receive()
    {
        try
        {
            for (var atOnce = 1; _failure is null; atOnce++)
            {
                var receive = _socket.ReceiveAsync(_receiveBuffer.AsMemory(_filled), SocketFlags.None);
                if (!receive.IsCompleted)
                {
                    var ready = TakeReady();
                    _receive = receive;
                    receive.ConfigureAwait(false).GetAwaiter().UnsafeOnCompleted(_onReceived);
                    Wake(ready);
                    return;
                }
                HandleReceived(receive.GetAwaiter().GetResult());
                if (atOnce % MaxReceivesBeforeWaking == 0 && _ready.Count > 0)
                {
                    // Data keeps arriving faster than it is read: the readers of what arrived so far must not
                    // wait for a pause. They run elsewhere, since this thread goes on reading.
                    ThreadPool.UnsafeQueueUserWorkItem(static state => state.Connection.Wake(state.Ready), (Connection: this, Ready: TakeReady()), preferLocal: false);
                }
            }
        }
        catch (Exception e)
        {
            FailReading(e);
            return;
        }
        // The connection failed meanwhile (closed, or a keep-alive ping went unanswered): streams this loop
        // finished before that are no longer listed for the failure to wake.
        Wake(TakeReady());
    }

    private List<Http2Stream> TakeReady()
    {
        var ready = _ready;
        _ready = Interlocked.Exchange(ref _spareReady, null) ?? [];
        return ready;
    }

    private void OnReceived()
    {
        try
        {
            HandleReceived(_receive.GetAwaiter().GetResult());
        }
        catch (Exception e)
        {
            FailReading(e);
            return;
        }
        Receive();
    }

    /// <summary>The reading loop's end: the connection fails, and streams that finished before the failure still wake their readers.</summary>
    private void FailReading(Exception cause)
    {
        Abort(cause);
        Wake(TakeReady());
    }

    /// <summary>
    /// Hands what arrived to the waiting readers; a reader's continuation may run here. One that blocks
    /// holds up the streams after it in <paramref name="ready"/>, not the connection.
    /// </summary>
    private void Wake(List<Http2Stream> ready)
    {
        foreach (var stream in ready)
        {
            try
            {
                stream.Signal();
            }
            catch (Exception)
            {
                // A reader's continuation failed; it reports its own errors. The others still get theirs.
            }
        }
        ready.Clear();
        Volatile.Write(ref _spareReady, ready);
    }

    /// <summary>
    /// Handles what one receive brought; the answers its frames need leave together afterwards, in one
    /// write, rather than one write per frame.
    /// </summary>
    private void HandleReceived(int received)
    {
        t_handling = this;
        try
        {
            Handle(received);
        }
        finally
        {
            t_handling = null;
        }
        if (_flushAfterHandling)
        {
            _flushAfterHandling = false;
            _ = FlushControlAsync();
        }
    }

    private void Handle(int received)
    {
        if (received == 0)
        {
            throw new IOException("The server closed the connection.");
        }
        Volatile.Write(ref _receives, _receives + 1);
        _filled += received;
        var offset = 0;
        while (_filled - offset >= Http2Protocol.FrameHeaderLength)
        {
            var header = Http2Protocol.ReadFrameHeader(_receiveBuffer.AsSpan(offset));
            if (!_settingsReceived)
            {
                // An HTTP/2 server's first frame is its SETTINGS; anything else is another protocol.
                if (header.Type != FrameType.Settings || header.Has(Http2Protocol.Ack))
                {
                    throw new Http2ProtocolException(Http2ErrorCode.ProtocolError,
                        "The server did not answer in HTTP/2 (its first frame is not SETTINGS); the address must be a gRPC server's cleartext HTTP/2 endpoint.");
                }
                _settingsReceived = true;
            }
            if (header.Length > Http2Protocol.DefaultMaxFrameSize)
            {
                throw new Http2ProtocolException(Http2ErrorCode.FrameSizeError, $"The server sent a frame of {header.Length:N0} bytes, over the agreed maximum.");
            }
            if (_filled - offset - Http2Protocol.FrameHeaderLength < header.Length)
            {
                break;
            }
            HandleFrame(header, offset + Http2Protocol.FrameHeaderLength);
            offset += Http2Protocol.FrameHeaderLength + header.Length;
        }
        if (offset > 0)
        {
            _receiveBuffer.AsSpan(offset, _filled - offset).CopyTo(_receiveBuffer);
            _filled -= offset;
        }
    }

    private void HandleFrame(FrameHeader header, int start)
    {
        var payload = _receiveBuffer.AsSpan(start, header.Length);
        if (_headerBlock is not null && header.Type != FrameType.Continuation)
        {
            throw new Http2ProtocolException(Http2ErrorCode.ProtocolError, $"A {header.Type} frame arrived in the middle of a header block.");
        }
        switch (header.Type)
        {
            case FrameType.Data:
                ReceiveData(header, start);
                break;
            case FrameType.Headers:
                ReceiveHeaders(header, payload);
                break;
            case FrameType.Continuation:
                ReceiveContinuation(header, payload);
                break;
            case FrameType.RstStream:
                ReceiveReset(header, payload);
                break;
            case FrameType.Settings:
                ReceiveSettings(header, payload);
                break;
            case FrameType.Ping:
                ReceivePing(header, payload);
                break;
            case FrameType.GoAway:
                ReceiveGoAway(payload);
                break;
            case FrameType.WindowUpdate:
                ReceiveWindowUpdate(header, payload);
                break;
            case FrameType.PushPromise:
                throw new Http2ProtocolException(Http2ErrorCode.ProtocolError, "The server pushed a stream, which this client disabled.");
            default:
                // PRIORITY and frame types this client does not know are ignored (RFC 9113, section 4.1).
                break;
        }
    }

    private void ReceiveData(FrameHeader header, int start)
    {
        if (header.StreamId == 0)
        {
            throw new Http2ProtocolException(Http2ErrorCode.ProtocolError, "The server sent DATA on stream 0.");
        }
        var data = Http2Protocol.WithoutPadding(_receiveBuffer.AsSpan(start, header.Length), header.Flags, out var skip);
        // Padding counts towards flow control too. What is unacknowledged is what the server used of the
        // window this side granted (every update gives back what was read).
        var left = ReceiveWindow + Volatile.Read(ref _granted) - _received;
        if (header.Length > left)
        {
            throw new Http2ProtocolException(Http2ErrorCode.FlowControlError,
                $"The server sent {header.Length:N0} bytes of DATA with {left:N0} left of the connection's flow-control window (FLOW_CONTROL_ERROR).");
        }
        _received += header.Length;
        _unacknowledged += header.Length;
        if (_unacknowledged >= WindowUpdateThreshold)
        {
            SendWindowUpdate(0, _unacknowledged);
            _unacknowledged = 0;
        }
        if (Find(header.StreamId) is not { } stream)
        {
            return;
        }
        stream.Activity++;
        var streamLeft = ReceiveWindow + Volatile.Read(ref stream.Granted) - stream.Received;
        if (header.Length > streamLeft)
        {
            // A stream error: this call fails, the connection and its other streams go on.
            stream.Finish(new Status(StatusCode.Internal,
                $"The server sent {header.Length:N0} bytes of DATA on stream {stream.Id} with {streamLeft:N0} left of its flow-control window (FLOW_CONTROL_ERROR)."), []);
            ResetStream(stream, Http2ErrorCode.FlowControlError);
            Finished(stream);
            return;
        }
        stream.Received += header.Length;
        stream.Unacknowledged += header.Length;
        try
        {
            if (stream.ReceiveData(_receiveBuffer, start + skip, data.Length))
            {
                MarkReady(stream);
            }
        }
        catch (RpcException e)
        {
            stream.Finish(e.Status, []);
            ResetStream(stream, Http2ErrorCode.Cancel);
            Finished(stream);
            return;
        }
        if (header.Has(Http2Protocol.EndStream))
        {
            stream.ReceiveEndWithoutTrailers();
            Forget(stream);
            Finished(stream);
        }
        else if (stream.Unacknowledged >= WindowUpdateThreshold)
        {
            SendWindowUpdate(stream.Id, stream.Unacknowledged);
            stream.Unacknowledged = 0;
        }
    }

    private void ReceiveHeaders(FrameHeader header, ReadOnlySpan<byte> payload)
    {
        if (header.StreamId == 0)
        {
            throw new Http2ProtocolException(Http2ErrorCode.ProtocolError, "The server sent HEADERS on stream 0.");
        }
        var block = Http2Protocol.WithoutPadding(payload, header.Flags, out _);
        if (header.Has(Http2Protocol.PriorityFlag))
        {
            if (block.Length < 5)
            {
                throw new Http2ProtocolException(Http2ErrorCode.FrameSizeError, "A HEADERS frame is too short for its priority.");
            }
            block = block[5..];
        }
        var endStream = header.Has(Http2Protocol.EndStream);
        if (header.Has(Http2Protocol.EndHeaders))
        {
            DecodeHeaders(header.StreamId, block, endStream);
            return;
        }
        _headerBlock = PooledBytes.RentArray(Math.Max(block.Length * 2, 4096));
        block.CopyTo(_headerBlock);
        _headerBlockLength = block.Length;
        _headerBlockStream = header.StreamId;
        _headerBlockEndsStream = endStream;
    }

    private void ReceiveContinuation(FrameHeader header, ReadOnlySpan<byte> payload)
    {
        if (_headerBlock is not { } block || header.StreamId != _headerBlockStream)
        {
            throw new Http2ProtocolException(Http2ErrorCode.ProtocolError, "The server sent CONTINUATION outside a header block.");
        }
        var length = _headerBlockLength + payload.Length;
        if (length > MaxHeaderBlockBytes)
        {
            throw new Http2ProtocolException(Http2ErrorCode.ProtocolError, $"The server's header block is over {MaxHeaderBlockBytes:N0} bytes.");
        }
        if (length > block.Length)
        {
            var larger = PooledBytes.RentArray(length * 2);
            block.AsSpan(0, _headerBlockLength).CopyTo(larger);
            PooledBytes.ReturnArray(block);
            _headerBlock = block = larger;
        }
        payload.CopyTo(block.AsSpan(_headerBlockLength));
        _headerBlockLength = length;
        if (header.Has(Http2Protocol.EndHeaders))
        {
            _headerBlock = null;
            try
            {
                DecodeHeaders(_headerBlockStream, block.AsSpan(0, length), _headerBlockEndsStream);
            }
            finally
            {
                PooledBytes.ReturnArray(block);
            }
        }
    }

    private void DecodeHeaders(int streamId, ReadOnlySpan<byte> block, bool endStream)
    {
        // Always decoded, even for a stream that is gone: the decoder's table must follow every block.
        _headers.Clear();
        _decoder.Decode(block, _headers);
        if (Find(streamId) is not { } stream)
        {
            return;
        }
        stream.Activity++;
        stream.ReceiveHeaders(_headers, endStream);
        if (stream.IsFinished)
        {
            if (endStream)
            {
                Forget(stream);
            }
            else
            {
                ResetStream(stream, Http2ErrorCode.Cancel);
            }
            Finished(stream);
        }
    }

    private void ReceiveReset(FrameHeader header, ReadOnlySpan<byte> payload)
    {
        if (header.StreamId == 0 || payload.Length != 4)
        {
            throw new Http2ProtocolException(Http2ErrorCode.ProtocolError, "A RST_STREAM frame is malformed.");
        }
        if (Find(header.StreamId) is not { } stream)
        {
            return;
        }
        var code = (Http2ErrorCode)BinaryPrimitives.ReadUInt32BigEndian(payload);
        var status = code switch
        {
            Http2ErrorCode.Cancel => new Status(StatusCode.Cancelled, "The server cancelled the stream."),
            Http2ErrorCode.RefusedStream => new Status(StatusCode.Unavailable, "The server refused the stream."),
            Http2ErrorCode.EnhanceYourCalm => new Status(StatusCode.ResourceExhausted, "The server reset the stream for sending too much (ENHANCE_YOUR_CALM)."),
            _ => new Status(StatusCode.Internal, $"The server reset the stream ({code})."),
        };
        stream.Finish(status, []);
        Forget(stream);
        Finished(stream);
    }

    private void ReceiveSettings(FrameHeader header, ReadOnlySpan<byte> payload)
    {
        if (header.StreamId != 0 || payload.Length % 6 != 0)
        {
            throw new Http2ProtocolException(Http2ErrorCode.FrameSizeError, "A SETTINGS frame is malformed.");
        }
        if (header.Has(Http2Protocol.Ack))
        {
            return;
        }
        for (var position = 0; position < payload.Length; position += 6)
        {
            var id = BinaryPrimitives.ReadUInt16BigEndian(payload[position..]);
            var value = BinaryPrimitives.ReadUInt32BigEndian(payload[(position + 2)..]);
            switch (id)
            {
                case Http2Protocol.SettingsInitialWindowSize:
                    if (value > Http2Protocol.MaxWindowSize)
                    {
                        throw new Http2ProtocolException(Http2ErrorCode.FlowControlError, "The server's initial window size is too large.");
                    }
                    ChangeInitialWindow((int)value);
                    break;
                case Http2Protocol.SettingsMaxFrameSize:
                    if (value < Http2Protocol.DefaultMaxFrameSize || value > 0xffffff)
                    {
                        throw new Http2ProtocolException(Http2ErrorCode.ProtocolError, "The server's maximum frame size is out of range.");
                    }
                    Volatile.Write(ref _maxFrameSize, (int)value);
                    break;
                case Http2Protocol.SettingsMaxConcurrentStreams:
                    Volatile.Write(ref _maxConcurrentStreams, (int)Math.Min(value, int.MaxValue));
                    break;
            }
        }
        QueueControl(FrameType.Settings, Http2Protocol.Ack, 0, []);
    }

    private void ReceivePing(FrameHeader header, ReadOnlySpan<byte> payload)
    {
        if (header.StreamId != 0 || payload.Length != 8)
        {
            throw new Http2ProtocolException(Http2ErrorCode.FrameSizeError, "A PING frame is malformed.");
        }
        if (header.Has(Http2Protocol.Ack))
        {
            Volatile.Write(ref _pingSentAt, 0);
            return;
        }
        QueueControl(FrameType.Ping, Http2Protocol.Ack, 0, payload);
    }

    private void ReceiveGoAway(ReadOnlySpan<byte> payload)
    {
        if (payload.Length < 8)
        {
            throw new Http2ProtocolException(Http2ErrorCode.FrameSizeError, "A GOAWAY frame is too short.");
        }
        _goingAway = true;
        var lastStreamId = BinaryPrimitives.ReadInt32BigEndian(payload) & int.MaxValue;
        List<Http2Stream> refused;
        lock (_streams)
        {
            refused = _streams.Values.Where(stream => stream.Id > lastStreamId).ToList();
        }
        // Streams the server never started may be retried elsewhere; the others run to their end, and the
        // connection closes when the last one does (Forget), as the server waits for that.
        foreach (var stream in refused)
        {
            stream.Finish(new Status(StatusCode.Unavailable, "The server is shutting down and did not start the stream."), []);
            Forget(stream);
            Finished(stream);
        }
        if (!HasStreams)
        {
            CloseAfterGoAway();
        }
    }

    private void CloseAfterGoAway() =>
        Abort(null, $"The server at {_authority} closed the connection (GOAWAY) and no streams were left on it.");

    private void ReceiveWindowUpdate(FrameHeader header, ReadOnlySpan<byte> payload)
    {
        if (payload.Length != 4)
        {
            throw new Http2ProtocolException(Http2ErrorCode.FrameSizeError, "A WINDOW_UPDATE frame is malformed.");
        }
        var increment = BinaryPrimitives.ReadInt32BigEndian(payload) & int.MaxValue;
        if (increment == 0)
        {
            if (header.StreamId == 0)
            {
                throw new Http2ProtocolException(Http2ErrorCode.ProtocolError, "The server sent a WINDOW_UPDATE of 0 for the connection.");
            }
            return;
        }
        Http2Stream? overflowed = null;
        lock (_windowLock)
        {
            if (header.StreamId == 0)
            {
                _sendWindow += increment;
                if (_sendWindow > Http2Protocol.MaxWindowSize)
                {
                    throw new Http2ProtocolException(Http2ErrorCode.FlowControlError,
                        "The server opened the connection's flow-control window past 2^31-1 (FLOW_CONTROL_ERROR).");
                }
            }
            else if (Find(header.StreamId) is { } stream)
            {
                stream.Activity++;
                if (stream.SendWindow + increment > Http2Protocol.MaxWindowSize)
                {
                    overflowed = stream;
                }
                else
                {
                    stream.SendWindow += increment;
                }
            }
        }
        if (overflowed is not null)
        {
            // A stream error (RFC 9113, section 6.9.1): that call fails, the others go on.
            overflowed.FailWrites(new RpcException(new Status(StatusCode.Internal,
                $"The server opened the flow-control window of stream {overflowed.Id} past 2^31-1 (FLOW_CONTROL_ERROR).")));
            ResetStream(overflowed, Http2ErrorCode.FlowControlError);
            Finished(overflowed);
        }
        WakeWindowWaiters();
    }

    private void ChangeInitialWindow(int value)
    {
        lock (_windowLock)
        {
            var delta = value - _initialStreamWindow;
            _initialStreamWindow = value;
            lock (_streams)
            {
                foreach (var stream in _streams.Values)
                {
                    if (stream.SendWindow + delta > Http2Protocol.MaxWindowSize)
                    {
                        throw new Http2ProtocolException(Http2ErrorCode.FlowControlError,
                            $"The server's new initial window size takes the window of stream {stream.Id} past 2^31-1 (FLOW_CONTROL_ERROR).");
                    }
                }
                foreach (var stream in _streams.Values)
                {
                    stream.SendWindow += delta;
                }
            }
        }
        WakeWindowWaiters();
    }

    /// <summary>
    /// The keep-alive timer's tick: pings a quiet connection, fails one whose ping went unanswered, and
    /// fails writes that waited too long for a window on a stream the server said nothing on.
    /// </summary>
    private void CheckAlive()
    {
        if (_failure is not null)
        {
            return;
        }
        // Never 0: that means no ping is out.
        var now = Math.Max(_time.GetTimestamp(), 1);
        var receives = Volatile.Read(ref _receives);
        if (receives != _receivesSeen)
        {
            _receivesSeen = receives;
            _quietSince = now;
        }
        var pingSentAt = Volatile.Read(ref _pingSentAt);
        if (pingSentAt != 0)
        {
            if (_time.GetElapsedTime(pingSentAt, now) > _settings.Timeout)
            {
                Abort(null, $"The connection to {_authority} was lost: the server did not answer a keep-alive ping within {_settings.Timeout.TotalSeconds:0.###} s.");
                return;
            }
        }
        else if (HasStreams && _time.GetElapsedTime(_quietSince, now) >= _settings.Delay)
        {
            Volatile.Write(ref _pingSentAt, now);
            QueueControl(FrameType.Ping, 0, 0, stackalloc byte[8]);
        }
        FailStalledWrites(now);
    }

    private void FailStalledWrites(long now)
    {
        List<Http2Stream>? stalled = null;
        lock (_windowLock)
        {
            foreach (var stream in _blocked)
            {
                var activity = Volatile.Read(ref stream.Activity);
                if (activity != stream.BlockedActivity)
                {
                    stream.BlockedActivity = activity;
                    stream.BlockedSince = now;
                }
                else if (_time.GetElapsedTime(stream.BlockedSince, now) > _settings.StallTimeout)
                {
                    (stalled ??= []).Add(stream);
                }
            }
        }
        if (stalled is null)
        {
            return;
        }
        foreach (var stream in stalled)
        {
            var failure = new RpcException(new Status(StatusCode.Unavailable,
                $"A write to {_authority} waited {_settings.StallTimeout.TotalSeconds:0.###} s for the server's flow-control window, and the server sent nothing on the stream meanwhile; the stream was given up."));
            stream.FailWrites(failure);
            ResetStream(stream, Http2ErrorCode.Cancel);
            stream.Signal();
        }
    }

    /// <summary>The reading loop finished <paramref name="stream"/>: its buffer goes back, and its reader learns the end.</summary>
    private void Finished(Http2Stream stream)
    {
        stream.ReleaseReceiveBuffer();
        MarkReady(stream);
    }

    private void MarkReady(Http2Stream stream)
    {
        if (!_ready.Contains(stream))
        {
            _ready.Add(stream);
        }
    }

    private Http2Stream? Find(int streamId)
    {
        lock (_streams)
        {
            return _streams.GetValueOrDefault(streamId);
        }
    }

    private bool Forget(Http2Stream stream)
    {
        bool removed;
        bool last;
        lock (_streams)
        {
            removed = stream.Id != 0 && _streams.Remove(stream.Id);
            last = removed && _goingAway && _streams.Count == 0;
        }
        // A writer waiting for window on this stream must notice that it ended.
        WakeWindowWaiters();
        if (last)
        {
            // The server said GOAWAY and waits for its streams to end; closing now lets it stop at once.
            CloseAfterGoAway();
        }
        return removed;
    }

    // ---- Writing ----

    private bool TryReserve(Http2Stream stream, int bytes)
    {
        lock (_windowLock)
        {
            if (_sendWindow < bytes || stream.SendWindow < bytes)
            {
                return false;
            }
            _sendWindow -= bytes;
            stream.SendWindow -= bytes;
            return true;
        }
    }

    /// <summary>Takes up to <paramref name="wanted"/> bytes of both windows, waiting while either is closed.</summary>
    private async ValueTask<int> ReserveAsync(Http2Stream stream, int wanted)
    {
        while (true)
        {
            Task opened;
            lock (_windowLock)
            {
                if (_failure is { } failure)
                {
                    _blocked.Remove(stream);
                    throw failure;
                }
                if (stream.IsFinished)
                {
                    _blocked.Remove(stream);
                    throw stream.WriteFailure ?? new RpcException(new Status(StatusCode.Cancelled, "The stream ended before its message was sent."));
                }
                var bytes = (int)Math.Min(wanted, Math.Min(_sendWindow, stream.SendWindow));
                if (bytes > 0)
                {
                    _sendWindow -= bytes;
                    stream.SendWindow -= bytes;
                    _blocked.Remove(stream);
                    return bytes;
                }
                if (!_blocked.Contains(stream))
                {
                    stream.BlockedActivity = Volatile.Read(ref stream.Activity);
                    stream.BlockedSince = _time.GetTimestamp();
                    _blocked.Add(stream);
                }
                opened = (_windowOpened ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
            }
            await opened.ConfigureAwait(false);
        }
    }

    private void WakeWindowWaiters()
    {
        TaskCompletionSource? waiters;
        lock (_windowLock)
        {
            waiters = _windowOpened;
            _windowOpened = null;
        }
        waiters?.TrySetResult();
    }

    private ValueTask AcquireWriteAsync() => _writeLock.Wait(0) ? ValueTask.CompletedTask : new ValueTask(_writeLock.WaitAsync());

    private async ValueTask SendAsync(ReadOnlyMemory<byte> bytes)
    {
        await AcquireWriteAsync().ConfigureAwait(false);
        try
        {
            if (_failure is { } failure)
            {
                throw failure;
            }
            await SendLockedAsync(bytes).ConfigureAwait(false);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private async ValueTask SendLockedAsync(ReadOnlyMemory<byte> bytes)
    {
        try
        {
            while (!bytes.IsEmpty)
            {
                var sent = await _socket.SendAsync(bytes, SocketFlags.None).ConfigureAwait(false);
                bytes = bytes[sent..];
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            throw Abort(e);
        }
    }

    private void SendWindowUpdate(int streamId, int increment)
    {
        Span<byte> payload = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(payload, increment);
        QueueControl(FrameType.WindowUpdate, 0, streamId, payload);
    }

    private void SendReset(int streamId, Http2ErrorCode code)
    {
        Span<byte> payload = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(payload, (uint)code);
        QueueControl(FrameType.RstStream, 0, streamId, payload);
    }

    /// <summary>
    /// Queues a small frame and makes sure a flush is under way, without waiting for it: the reading loop
    /// must never wait on the socket's writing side. Past <see cref="MaxPendingControlBytes"/> waiting, the
    /// server is asking for answers faster than it reads them, and the connection fails.
    /// </summary>
    private void QueueControl(FrameType type, byte flags, int streamId, ReadOnlySpan<byte> payload)
    {
        var length = Http2Protocol.FrameHeaderLength + payload.Length;
        bool flush;
        lock (_controlLock)
        {
            if (_controlLength + length > _control.Length)
            {
                flush = false;
            }
            else
            {
                var destination = _control.AsSpan(_controlLength, length);
                Http2Protocol.WriteFrameHeader(destination, payload.Length, type, flags, streamId);
                payload.CopyTo(destination[Http2Protocol.FrameHeaderLength..]);
                _controlLength += length;
                flush = !_controlFlushing;
                _controlFlushing = true;
                length = 0;
            }
        }
        if (length != 0)
        {
            Abort(new Http2ProtocolException(Http2ErrorCode.EnhanceYourCalm,
                $"the server kept sending frames that need an answer (PING, SETTINGS) without reading the answers: {MaxPendingControlBytes:N0} bytes of them were waiting (ENHANCE_YOUR_CALM)."));
            return;
        }
        if (flush)
        {
            if (t_handling == this)
            {
                _flushAfterHandling = true;
            }
            else
            {
                _ = FlushControlAsync();
            }
        }
    }

    /// <summary>Counts the window updates among <paramref name="frames"/> as granted: the server may use them from now on.</summary>
    private void RecordGrants(ReadOnlySpan<byte> frames)
    {
        while (!frames.IsEmpty)
        {
            var header = Http2Protocol.ReadFrameHeader(frames);
            if (header.Type == FrameType.WindowUpdate)
            {
                var increment = BinaryPrimitives.ReadInt32BigEndian(frames[Http2Protocol.FrameHeaderLength..]);
                if (header.StreamId == 0)
                {
                    Interlocked.Add(ref _granted, increment);
                }
                else if (Find(header.StreamId) is { } stream)
                {
                    Interlocked.Add(ref stream.Granted, increment);
                }
            }
            frames = frames[(Http2Protocol.FrameHeaderLength + header.Length)..];
        }
    }

    /// <summary>Writes what <see cref="QueueControl"/> gathered until nothing is left; one runs at a time.</summary>
    private async Task FlushControlAsync()
    {
        try
        {
            while (true)
            {
                await AcquireWriteAsync().ConfigureAwait(false);
                try
                {
                    byte[] sending;
                    int length;
                    lock (_controlLock)
                    {
                        if (_controlLength == 0 || _failure is not null)
                        {
                            _controlFlushing = false;
                            return;
                        }
                        sending = _control;
                        length = _controlLength;
                        _control = _controlSending;
                        _controlSending = sending;
                        _controlLength = 0;
                    }
                    // Granted before the write, which the server may answer before it returns.
                    RecordGrants(sending.AsSpan(0, length));
                    await SendLockedAsync(sending.AsMemory(0, length)).ConfigureAwait(false);
                }
                finally
                {
                    _writeLock.Release();
                }
            }
        }
        catch (RpcException)
        {
            // The connection failed; its streams have been told.
        }
    }

    /// <summary>Fails the connection and every stream on it, once; returns the failure streams see.</summary>
    private RpcException Abort(Exception? cause, string? reason = null)
    {
        var failure = new RpcException(new Status(StatusCode.Unavailable,
            reason ?? $"The connection to {_authority} failed: {cause?.Message}", cause));
        if (Interlocked.CompareExchange(ref _failure, failure, null) is { } earlier)
        {
            return earlier;
        }
        if (cause is Http2ProtocolException protocolError)
        {
            TrySendGoAway(protocolError.Code);
        }
        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // Already gone.
        }
        _socket.Dispose();
        _keepAlive?.Dispose();
        Http2Stream[] streams;
        lock (_streams)
        {
            streams = [.. _streams.Values];
            _streams.Clear();
        }
        foreach (var stream in streams)
        {
            stream.Finish(failure.Status, []);
            stream.Signal();
        }
        WakeWindowWaiters();
        return failure;
    }

    /// <summary>Tells the server why, if the socket takes it at once; never waits, since the server may not be reading.</summary>
    private void TrySendGoAway(Http2ErrorCode code)
    {
        if (!_writeLock.Wait(0))
        {
            return;
        }
        try
        {
            Span<byte> payload = stackalloc byte[8];
            BinaryPrimitives.WriteInt32BigEndian(payload, 0);
            BinaryPrimitives.WriteUInt32BigEndian(payload[4..], (uint)code);
            _ = _socket.SendAsync(Http2Protocol.Frame(FrameType.GoAway, 0, 0, payload), SocketFlags.None);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // Best effort: the connection ends either way.
        }
        finally
        {
            _writeLock.Release();
        }
    }
}
