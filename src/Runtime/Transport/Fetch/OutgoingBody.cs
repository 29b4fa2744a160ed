using SourceGenDO.Pooling;
using SourceGenDO.Wire;

namespace SourceGenDO.Transport.Fetch;

/// <summary>
/// The sending side of one streamed body: copies an <see cref="HttpContent"/> into chunks, never sending
/// more than the credit its reader granted (<see cref="FetchWire.Window"/> to start with, then each
/// BodyCredit), and ends the body with a last chunk, also when the content fails (with its error) or the
/// reader asks it to stop. Small writes are gathered into chunks of <see cref="FetchWire.GatherBytes"/>
/// or more; a flush of the content's stream sends what is gathered.
/// </summary>
internal sealed class OutgoingBody
{
    private readonly Lock _lock = new();
    private readonly IBodyChunkSink _sink;
    private long _credit = FetchWire.Window;
    private bool _stopped;
    // Set when no more credit can come (the reader's side half-closed): past the credit held, the body breaks off.
    private bool _creditEnded;
    private Exception? _failure;
    private TaskCompletionSource? _waiter;
    // Cancelled by a stop or a failure: a content waiting for its own source (not for credit) learns of it too.
    private readonly CancellationTokenSource _ending = new();

    private readonly string _what;

    /// <param name="sink">Where the chunks go.</param>
    /// <param name="what">What the body is, for messages: "request" or "response".</param>
    public OutgoingBody(IBodyChunkSink sink, string what)
    {
        _sink = sink;
        _what = what;
    }

    /// <summary>No more credit can come: what the credit held allows is sent, then the body ends with an error.</summary>
    public void EndCredit()
    {
        TaskCompletionSource? waiter;
        lock (_lock)
        {
            _creditEnded = true;
            waiter = _waiter;
            _waiter = null;
        }
        waiter?.TrySetResult();
    }

    /// <summary>The reader granted credit, or (<paramref name="stop"/>) wants no more of the body.</summary>
    public void Grant(uint bytes, bool stop)
    {
        TaskCompletionSource? waiter;
        lock (_lock)
        {
            if (stop)
            {
                _stopped = true;
            }
            else
            {
                _credit += bytes;
            }
            waiter = _waiter;
            _waiter = null;
        }
        waiter?.TrySetResult();
        if (stop)
        {
            End();
        }
    }

    // The content's callbacks run off the caller's thread (the stream's reading loop, mostly).
    private void End() => _ = _ending.CancelAsync();

    /// <summary>Nothing can be sent any more (the stream failed): the copying ends with <paramref name="failure"/>.</summary>
    public void Fail(Exception failure)
    {
        TaskCompletionSource? waiter;
        lock (_lock)
        {
            _failure ??= failure;
            waiter = _waiter;
            _waiter = null;
        }
        waiter?.TrySetResult();
        End();
    }

    /// <summary>
    /// Copies <paramref name="content"/> into chunks until it ends, fails or the reader stops it, then
    /// sends the last chunk. Returns true when the body went out whole.
    /// </summary>
    public async Task<bool> SendAsync(HttpContent content, Func<Exception, Error> describe, CancellationToken cancellationToken)
    {
        Error? error = null;
        var writer = new ChunkWriter(this, _what);
        using var copying = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _ending.Token);
        try
        {
            await content.CopyToAsync(writer, copying.Token).ConfigureAwait(false);
            await writer.FlushAsync(copying.Token).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            // A reader that asked for no more gets the last chunk without an error, whatever the copying
            // threw on its way out.
            if (!IsStopped)
            {
                // CopyToAsync wraps what the copying threw in "Error while copying content to a stream.".
                error = describe(e is HttpRequestException { InnerException: { } inner } ? inner : e);
            }
        }
        finally
        {
            writer.ReturnBuffer();
        }
        _sink.Send(ReadOnlyMemory<byte>.Empty, last: true, error);
        return error is null && !IsStopped;
    }

    private bool IsStopped
    {
        get
        {
            lock (_lock)
            {
                return _stopped;
            }
        }
    }

    /// <summary>Waits for credit and takes up to <paramref name="wanted"/> bytes of it.</summary>
    /// <exception cref="BodyStoppedException">The reader asked for no more.</exception>
    private async ValueTask<int> TakeCreditAsync(int wanted, CancellationToken cancellationToken)
    {
        while (true)
        {
            Task wait;
            lock (_lock)
            {
                if (_failure is { } failure)
                {
                    throw new IOException(failure.Message, failure);
                }
                if (_stopped)
                {
                    throw new BodyStoppedException();
                }
                if (_credit > 0)
                {
                    var taken = (int)Math.Min(Math.Min(wanted, _credit), FetchWire.MaxChunkBytes);
                    _credit -= taken;
                    return taken;
                }
                if (_creditEnded)
                {
                    throw new IOException("The reader's side ended its stream, so no credit for the rest of the body can come.");
                }
                _waiter ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                wait = _waiter.Task;
            }
            await wait.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The reader asked the sender to stop: the copying ends, and the body with it.</summary>
    private sealed class BodyStoppedException() : IOException("The reader of the body asked for no more of it.");

    /// <summary>The write-only stream the content is copied into: gathers writes, sends chunks within the credit.</summary>
    private sealed class ChunkWriter(OutgoingBody body, string what) : Stream
    {
        private byte[]? _buffer = PooledBytes.RentArray(FetchWire.MaxChunkBytes);
        private int _gathered;

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
        {
            var buffer = _buffer ?? throw new ObjectDisposedException(nameof(ChunkWriter));
            while (!data.IsEmpty)
            {
                var take = Math.Min(data.Length, FetchWire.MaxChunkBytes - _gathered);
                data.Span[..take].CopyTo(buffer.AsSpan(_gathered));
                _gathered += take;
                data = data[take..];
                if (_gathered >= FetchWire.GatherBytes)
                {
                    await SendGatheredAsync(cancellationToken).ConfigureAwait(false);
                }
            }
        }

        public override Task FlushAsync(CancellationToken cancellationToken) => SendGatheredAsync(cancellationToken);

        private async Task SendGatheredAsync(CancellationToken cancellationToken)
        {
            var buffer = _buffer!;
            var sent = 0;
            while (sent < _gathered)
            {
                var credit = await body.TakeCreditAsync(_gathered - sent, cancellationToken).ConfigureAwait(false);
                body._sink.Send(PooledBytes.Copy(buffer.AsSpan(sent, credit)), last: false, error: null);
                sent += credit;
            }
            _gathered = 0;
        }

        public void ReturnBuffer()
        {
            if (_buffer is { } buffer)
            {
                _buffer = null;
                PooledBytes.ReturnArray(buffer);
            }
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        // Refused as a synchronous read is (see IncomingBody.Read): waiting for credit on a blocked thread can stop the stream.
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException(FetchWire.NoSynchronousIO(what));

        public override void Write(ReadOnlySpan<byte> buffer) => throw new NotSupportedException(FetchWire.NoSynchronousIO(what));

        // Nothing to wait for: what is gathered goes with the next chunk or the end.
        public override void Flush()
        {
        }

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}

/// <summary>Where a body's chunks go: BodyChunk entries on the stream, in order.</summary>
internal interface IBodyChunkSink
{
    /// <summary>Queues a chunk; <paramref name="data"/> is a <see cref="PooledBytes"/> copy that the stream gives back once written.</summary>
    void Send(ReadOnlyMemory<byte> data, bool last, Error? error);
}
