using System.Globalization;
using SourceGenDO.Pooling;
using SourceGenDO.Serialization;
using SourceGenDO.Wire;

namespace SourceGenDO.Transport.Fetch;

/// <summary>
/// The reading side of one streamed body: a read-only <see cref="Stream"/> over the chunks as they
/// arrive. It holds at most <see cref="FetchWire.Window"/> bytes: the peer may send no more than the
/// credit granted, and credit is granted back (through <see cref="IBodySignals"/>) only as the consumer
/// reads. Chunks are appended into pooled segments of <see cref="SegmentBytes"/>, so that the heap it
/// holds is the window plus at most two segments however small the chunks, and a read takes as many
/// buffered bytes as fit. Disposing it before the end asks the peer to stop; the chunks still on their
/// way are dropped.
/// </summary>
internal sealed class IncomingBody : Stream
{
    private readonly Lock _lock = new();
    /// <summary>The size of the pooled segments the chunks are appended into: 16 KiB.</summary>
    public const int SegmentBytes = 16 * 1024;

    // The buffered bytes: from _readOffset in the first segment to _writeOffset in the last.
    private readonly Queue<byte[]> _segments = new();
    private byte[]? _tail;
    private int _readOffset;
    private int _writeOffset;
    private int _buffered;
    private readonly IBodySignals _signals;
    private readonly string _what;
    // The bytes the peer may still send: the window, less what it sent, plus what was granted back.
    private long _allowance = FetchWire.Window;
    // Bytes read and not yet granted back.
    private int _unacknowledged;
    // The peer sent the last chunk; _peerError is the error it ended with, if any.
    private bool _ended;
    private Exception? _peerError;
    private bool _stopped;
    // Set here (the stream failed, the fetch was cancelled): reads fail with it at once.
    private Exception? _failure;
    private TaskCompletionSource? _waiter;

    /// <param name="signals">Sends credit and stops to the peer.</param>
    /// <param name="what">What the body is, for messages: "request" or "response".</param>
    public IncomingBody(IBodySignals signals, string what)
    {
        _signals = signals;
        _what = what;
    }

    /// <summary>True once the last chunk arrived (or the body failed): no more chunks may come.</summary>
    public bool HasEnded
    {
        get
        {
            lock (_lock)
            {
                return _ended;
            }
        }
    }

    /// <summary>
    /// Takes a chunk from the peer (on the stream's reading loop); true when it was the last. A chunk past
    /// the credit, over <see cref="FetchWire.MaxChunkBytes"/> or after the end breaks the protocol.
    /// </summary>
    /// <exception cref="WireFormatException">The peer broke the flow control rules.</exception>
    public bool Receive(ulong callId, ReadOnlySpan<byte> data, bool end, Error? error)
    {
        if (data.Length > FetchWire.MaxChunkBytes)
        {
            throw new WireFormatException(string.Create(CultureInfo.InvariantCulture,
                $"A body chunk of call {callId} carries {data.Length:N0} bytes, over the limit of {FetchWire.MaxChunkBytes:N0}."));
        }
        TaskCompletionSource? waiter;
        lock (_lock)
        {
            if (_ended)
            {
                throw new WireFormatException(string.Create(CultureInfo.InvariantCulture, $"A body chunk of call {callId} came after its body ended."));
            }
            _allowance -= data.Length;
            if (_allowance < 0)
            {
                throw new WireFormatException(string.Create(CultureInfo.InvariantCulture,
                    $"A body chunk of call {callId} goes past the credit its reader granted (the window is {FetchWire.Window:N0} bytes)."));
            }
            if (!_stopped && _failure is null)
            {
                Append(data);
            }
            if (end)
            {
                _ended = true;
                if (error is not null)
                {
                    _peerError = new IOException($"The {_what} body broke off: {error.Message}");
                }
            }
            waiter = _waiter;
            _waiter = null;
        }
        waiter?.TrySetResult();
        return end;
    }

    /// <summary>The body can never end normally (its stream failed, or its fetch was cancelled): reads fail with <paramref name="failure"/>.</summary>
    public void Fail(Exception failure) => StopReading(failure);

    /// <summary>Tells the peer to stop sending (unless the body is over) and drops what is buffered.</summary>
    public void Stop() => StopReading(null);

    private void StopReading(Exception? failure)
    {
        TaskCompletionSource? waiter;
        bool signal;
        lock (_lock)
        {
            if (failure is not null)
            {
                if (_failure is not null || (_ended && _buffered == 0))
                {
                    return;
                }
                _failure = failure;
            }
            signal = !_ended && !_stopped;
            _stopped = true;
            ReturnBuffered();
            waiter = _waiter;
            _waiter = null;
        }
        waiter?.TrySetResult();
        if (signal)
        {
            _signals.Signal(0, stop: true);
        }
    }

    private void Append(ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty)
        {
            if (_tail is null || _writeOffset == SegmentBytes)
            {
                _tail = PooledBytes.RentArray(SegmentBytes);
                _segments.Enqueue(_tail);
                _writeOffset = 0;
            }
            var take = Math.Min(data.Length, SegmentBytes - _writeOffset);
            data[..take].CopyTo(_tail.AsSpan(_writeOffset));
            _writeOffset += take;
            _buffered += take;
            data = data[take..];
        }
    }

    /// <summary>Moves up to <paramref name="buffer"/>'s length of buffered bytes into it, giving back the segments read.</summary>
    private int Take(Span<byte> buffer)
    {
        var read = 0;
        while (read < buffer.Length && _buffered > 0)
        {
            var head = _segments.Peek();
            var end = ReferenceEquals(head, _tail) ? _writeOffset : SegmentBytes;
            var take = Math.Min(buffer.Length - read, end - _readOffset);
            head.AsSpan(_readOffset, take).CopyTo(buffer[read..]);
            read += take;
            _readOffset += take;
            _buffered -= take;
            if (_readOffset == end)
            {
                _segments.Dequeue();
                PooledBytes.ReturnArray(head);
                _readOffset = 0;
                if (ReferenceEquals(head, _tail))
                {
                    _tail = null;
                    _writeOffset = 0;
                }
            }
        }
        return read;
    }

    private void ReturnBuffered()
    {
        while (_segments.TryDequeue(out var segment))
        {
            PooledBytes.ReturnArray(segment);
        }
        _tail = null;
        _readOffset = _writeOffset = _buffered = 0;
    }

    /// <inheritdoc/>
    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (buffer.IsEmpty)
        {
            return 0;
        }
        while (true)
        {
            Task wait;
            uint credit = 0;
            int read;
            lock (_lock)
            {
                if (_failure is { } failed)
                {
                    throw failed is OperationCanceledException canceled ? new TaskCanceledException(canceled.Message, canceled) : new IOException(failed.Message, failed);
                }
                if (_stopped)
                {
                    throw new ObjectDisposedException(nameof(IncomingBody), $"The {_what} body was disposed.");
                }
                if (_buffered > 0)
                {
                    read = Take(buffer.Span);
                    _unacknowledged += read;
                    // No credit once the body is over: nothing more will be sent.
                    if (_unacknowledged >= FetchWire.CreditStep && !_ended)
                    {
                        credit = (uint)_unacknowledged;
                        _allowance += _unacknowledged;
                        _unacknowledged = 0;
                    }
                    wait = Task.CompletedTask;
                }
                else if (_ended)
                {
                    return _peerError is { } error ? throw error : 0;
                }
                else
                {
                    read = 0;
                    _waiter ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    wait = _waiter.Task;
                }
            }
            if (read > 0)
            {
                if (credit > 0)
                {
                    _signals.Signal(credit, stop: false);
                }
                return read;
            }
            await wait.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc/>
    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <summary>
    /// Refused, as ASP.NET Core refuses a synchronous read of a request body: blocking a thread until a
    /// chunk arrives can stop the stream that carries the chunk (a handler may run on its reading loop,
    /// and its first turn holds the stream's writes, credit included).
    /// </summary>
    /// <exception cref="NotSupportedException">Always.</exception>
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException(FetchWire.NoSynchronousIO(_what));

    /// <inheritdoc cref="Read(byte[], int, int)"/>
    public override int Read(Span<byte> buffer) => throw new NotSupportedException(FetchWire.NoSynchronousIO(_what));

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            Stop();
        }
        base.Dispose(disposing);
    }

    /// <inheritdoc/>
    public override bool CanRead => true;

    /// <inheritdoc/>
    public override bool CanSeek => false;

    /// <inheritdoc/>
    public override bool CanWrite => false;

    /// <inheritdoc/>
    public override long Length => throw new NotSupportedException();

    /// <inheritdoc/>
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    /// <inheritdoc/>
    public override void Flush()
    {
    }

    /// <inheritdoc/>
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    /// <inheritdoc/>
    public override void SetLength(long value) => throw new NotSupportedException();

    /// <inheritdoc/>
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}

/// <summary>Sends a body's flow control signals (BodyCredit entries) to its peer.</summary>
internal interface IBodySignals
{
    /// <summary>Grants <paramref name="credit"/> more bytes, or with <paramref name="stop"/> asks the sender to end the body.</summary>
    void Signal(uint credit, bool stop);
}
