using System.Globalization;
using Google.Protobuf;
using SourceGenDO.Diagnostics;
using SourceGenDO.Serialization;
using SourceGenDO.Transport;
using SourceGenDO.Transport.Fetch;
using SourceGenDO.Wire;

namespace SourceGenDO.Server.Rpc;

/// <summary>
/// One fetch call on a server stream: its request (head and body), the object's response, and the
/// streaming of that response's body after the head has left. Known to its <see cref="ServerStream"/>
/// from dispatch until its request body has ended (the client sends every body to its end) and its
/// response is over, so that the reading loop can route the body's chunks and credits.
/// </summary>
/// <remarks>
/// The handler runs as an event on the object's scheduler, one at a time with calls; the head is its
/// answer and leaves through the output gate as a result does. A streamed response body is copied after
/// the event, off the scheduler, in chunks that follow the head on the stream.
/// </remarks>
internal sealed class ServerFetch : IBodySignals, IBodyChunkSink
{
    private readonly ServerStream _stream;
    private readonly FetchRequest _head;
    private readonly Uri _url;
    private readonly HttpMethod _method;
    // The halves still in the stream's map: the response, and the request body until the client ended it.
    private int _open;
    private int _finished;
    private HttpRequestMessage? _request;
    private HttpResponseMessage? _response;
    private OutgoingBody? _responseBody;
    private readonly CancellationTokenSource _responseCancellation = new();
    private CancellationTokenRegistration _callCancellation;
    // Guards _responseBody and _stopped: a stop or cancel may come while the handler makes the body.
    private readonly Lock _lock = new();
    private bool _stopped;
    private bool _creditEnded;

    private ServerFetch(ServerStream stream, ulong callId, FetchRequest head, Uri url, HttpMethod method, Error? refusal)
    {
        _stream = stream;
        CallId = callId;
        _head = head;
        _url = url;
        _method = method;
        Refusal = refusal;
        RequestBody = head.StreamedBody ? new IncomingBody(this, "request") : null;
        _open = head.StreamedBody ? 2 : 1;
    }

    public ulong CallId { get; }

    /// <summary>Why the fetch is refused before it reaches the object, or null.</summary>
    public Error? Refusal { get; private set; }

    /// <summary>The request body, when it streams.</summary>
    public IncomingBody? RequestBody { get; }

    /// <summary>
    /// Reads a fetch call's head. A head that does not decode is a malformed frame: the chunks of its
    /// body, if it has one, could not be told apart from a broken client's.
    /// </summary>
    /// <exception cref="WireFormatException">The head does not decode.</exception>
    public static ServerFetch Open(ServerStream stream, in IncomingCallData call)
    {
        FetchRequest head;
        try
        {
            head = FetchRequest.Parser.ParseFrom(call.Args.Span);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new WireFormatException(string.Create(CultureInfo.InvariantCulture, $"The fetch request of call {call.CallId} does not decode: {e.Message}"));
        }
        Error? refusal = null;
        // RelativeOrAbsolute, then IsAbsoluteUri: on Unix, UriKind.Absolute takes "/path" for a file path.
        if (!Uri.TryCreate(head.Url, UriKind.RelativeOrAbsolute, out var url) || !url.IsAbsoluteUri
            || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps))
        {
            refusal = RemoteErrors.FromRuntime($"The fetch request's URL {ClientText.Quote(head.Url)} is not an absolute http or https URL.");
        }
        HttpMethod method = HttpMethod.Get;
        try
        {
            method = head.Method.Length == 0 ? HttpMethod.Get : HttpMethod.Parse(head.Method);
        }
        catch (FormatException)
        {
            refusal ??= RemoteErrors.FromRuntime($"The fetch request's method {ClientText.Quote(head.Method)} is not an HTTP method.");
        }
        return new ServerFetch(stream, call.CallId, head, url!, method, refusal);
    }

    /// <summary>Refuses the fetch (before it is dispatched) with <paramref name="error"/>.</summary>
    public void Refuse(Error error) => Refusal ??= error;

    /// <summary>
    /// Runs the object's Fetch handler (on the object's scheduler) and returns the encoded response head.
    /// A body of known length up to <see cref="FetchWire.MaxInlineBodyBytes"/> goes in the head; any
    /// other is streamed once the head has left.
    /// </summary>
    public async ValueTask<ReadOnlyMemory<byte>> InvokeAsync(DurableObject instance, CancellationToken cancellationToken)
    {
        var request = _request = BuildRequest();
        // The call's span, current as the object's code starts (IncomingCall), before that code can change it.
        var span = System.Diagnostics.Activity.Current;
        CurrentActivity.TagRequest(span, request);
        if (cancellationToken.CanBeCanceled && RequestBody is { } body)
        {
            _callCancellation = cancellationToken.UnsafeRegister(
                static state => ((IncomingBody)state!).Fail(new OperationCanceledException("The caller cancelled the fetch.")), body);
        }
        // Awaited on the object's scheduler (its context is current): the rest of the event runs there too.
        var response = _response = await instance.Fetch(request)
            ?? throw new InvalidOperationException($"{instance.GetType().FullName}.Fetch returned null instead of a response.");
        var head = new FetchResponse { Status = (uint)response.StatusCode };
        CurrentActivity.TagStatus(span, (int)response.StatusCode);
        if (response.ReasonPhrase is { } reason)
        {
            head.Reason = reason;
        }
        var content = response.Content;
        if (content.Headers.ContentLength is { } length && length <= FetchWire.MaxInlineBodyBytes
            && await ReadSmallBodyAsync(content, length, cancellationToken) is { } small)
        {
            head.Body = small;
        }
        else
        {
            if (!_stream.TryReserveResponseBody())
            {
                throw new FetchRefusedException(RemoteErrors.FromRuntime(FetchWire.TooManyResponseBodies(), overloaded: true));
            }
            // Known to the reading loop before the head leaves, so that every credit for it finds it.
            var responseBody = new OutgoingBody(this, "response");
            bool stopped;
            bool creditEnded;
            lock (_lock)
            {
                _responseBody = responseBody;
                stopped = _stopped;
                creditEnded = _creditEnded;
            }
            if (stopped)
            {
                // Cancelled while the handler ran: the body is only its last chunk.
                responseBody.Grant(0, stop: true);
            }
            if (creditEnded)
            {
                responseBody.EndCredit();
            }
            head.StreamedBody = true;
        }
        AddHeaders(head, response.Headers);
        AddHeaders(head, content.Headers);
        return head.ToByteArray();
    }

    /// <summary>
    /// Reads a body declared <paramref name="length"/> bytes long (at most <see cref="FetchWire.MaxInlineBodyBytes"/>):
    /// at most one byte more, whatever the content holds. Null when more came (the declaration was wrong):
    /// the body then streams, the bytes read first (kept in <see cref="_readAhead"/>) followed by the rest
    /// of the content's stream.
    /// </summary>
    private async ValueTask<ByteString?> ReadSmallBodyAsync(HttpContent content, long length, CancellationToken cancellationToken)
    {
        var source = await content.ReadAsStreamAsync(cancellationToken);
        var buffer = new byte[length + 1];
        var filled = await source.ReadAtLeastAsync(buffer, buffer.Length, throwOnEndOfStream: false, cancellationToken);
        if (filled <= length)
        {
            await source.DisposeAsync();
            return ByteString.CopyFrom(buffer, 0, filled);
        }
        _readAhead = (buffer, source);
        return null;
    }

    // A body declared small that turned out larger: what was read of it, and its stream for the rest.
    private (byte[] Read, Stream Source)? _readAhead;

    private static void AddHeaders(FetchResponse head, System.Net.Http.Headers.HttpHeaders headers)
    {
        foreach (var (name, values) in headers.NonValidated)
        {
            foreach (var value in values)
            {
                head.Headers.Add(new Header { Name = name, Value = value });
            }
        }
    }

    private HttpRequestMessage BuildRequest()
    {
        var request = new HttpRequestMessage(_method, _url);
        HttpContent? content = null;
        if (RequestBody is { } body)
        {
            content = new StreamContent(body);
        }
        else if (_head.HasBody)
        {
            content = new ReadOnlyMemoryContent(_head.Body.Memory);
        }
        FetchWire.AddHeaders(_head.Headers.Select(static header => (header.Name, header.Value)), request.Headers, ref content);
        request.Content = content;
        return request;
    }

    /// <summary>
    /// The head (or an error) was queued on the stream: a streamed response body follows it now; anything
    /// else is over.
    /// </summary>
    public void OnAnswered(bool delivered)
    {
        _callCancellation.Dispose();
        if (delivered && _responseBody is not null)
        {
            _ = Task.Run(SendResponseBodyAsync);
            return;
        }
        if (_responseBody is not null)
        {
            _stream.ReleaseResponseBody(hadSlot: false);
        }
        Finish();
    }

    private async Task SendResponseBodyAsync()
    {
        var slot = false;
        try
        {
            try
            {
                // Past the stream's bound of bodies being sent, the body waits here for one to end.
                await _stream.WaitForResponseBodySlotAsync(_responseCancellation.Token).ConfigureAwait(false);
                slot = true;
            }
            catch (OperationCanceledException)
            {
                // Stopped, cancelled or the stream failed while it waited: the body is only its last chunk.
                ((IBodyChunkSink)this).Send(ReadOnlyMemory<byte>.Empty, last: true, error: null);
                return;
            }
            HttpContent content = _readAhead is var (read, rest) ? new ReadAheadContent(read, rest) : _response!.Content;
            await _responseBody!.SendAsync(content, RemoteErrors.FromObjectCode, _responseCancellation.Token).ConfigureAwait(false);
        }
        finally
        {
            _stream.ReleaseResponseBody(slot);
            Finish();
        }
    }

    /// <summary>The fetch was refused or answered without reaching the end of its response: it is over.</summary>
    public void Finish()
    {
        if (Interlocked.Exchange(ref _finished, 1) != 0)
        {
            return;
        }
        // Disposing the request disposes its body: one not read to its end is stopped.
        _response?.Dispose();
        _request?.Dispose();
        RequestBody?.Stop();
        CloseHalf();
    }

    /// <summary>The client ended the request body.</summary>
    public void OnRequestBodyEnded() => CloseHalf();

    private void CloseHalf()
    {
        if (Interlocked.Decrement(ref _open) == 0)
        {
            _stream.Forget(this);
        }
    }

    /// <summary>Credit (or a stop) for the response body.</summary>
    public void Grant(uint bytes, bool stop)
    {
        if (stop)
        {
            Stop();
            return;
        }
        OutgoingBody? body;
        lock (_lock)
        {
            body = _responseBody;
        }
        body?.Grant(bytes, stop: false);
    }

    /// <summary>
    /// The client cancelled the fetch, or asked for no more of its response body: a body not yet sent is
    /// only its last chunk, one on its way ends at once.
    /// </summary>
    public void Stop()
    {
        OutgoingBody? body;
        lock (_lock)
        {
            _stopped = true;
            body = _responseBody;
        }
        body?.Grant(0, stop: true);
        // A content waiting for its own source (not for credit) learns of it too; only the body's copying uses the token.
        _responseCancellation.Cancel();
    }

    /// <summary>
    /// The client half-closed: a request body it did not end fails, and a response body gets no more
    /// credit than it holds (the client can send none).
    /// </summary>
    public void OnClientDone(Exception ended)
    {
        if (RequestBody is { HasEnded: false } body)
        {
            body.Fail(ended);
        }
        OutgoingBody? responseBody;
        lock (_lock)
        {
            _creditEnded = true;
            responseBody = _responseBody;
        }
        responseBody?.EndCredit();
    }

    /// <summary>The stream is over: nothing more can be read or sent.</summary>
    public void Fail(Exception failure)
    {
        RequestBody?.Fail(failure);
        _responseBody?.Fail(failure);
        _responseCancellation.Cancel();
    }

    void IBodySignals.Signal(uint credit, bool stop) =>
        _stream.QueueBody(new ServerEntry(CallId, default, null) { Part = BodyPart.Credit, Body = new BodySignal(Last: stop, Credit: credit) });

    void IBodyChunkSink.Send(ReadOnlyMemory<byte> data, bool last, Error? error) =>
        _stream.QueueBody(new ServerEntry(CallId, data, null)
        {
            Part = BodyPart.Chunk,
            Body = new BodySignal(Last: last, Error: error is null ? null : PayloadLimits.FitError(error)),
        });
}

/// <summary>The body of a content that proved longer than it declared: the bytes already read, then the rest of its stream.</summary>
internal sealed class ReadAheadContent(byte[] read, Stream rest) : HttpContent
{
    protected override async Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context, CancellationToken cancellationToken)
    {
        await stream.WriteAsync(read, cancellationToken).ConfigureAwait(false);
        await rest.CopyToAsync(stream, cancellationToken).ConfigureAwait(false);
    }

    protected override Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context) =>
        SerializeToStreamAsync(stream, context, CancellationToken.None);

    protected override bool TryComputeLength(out long length)
    {
        length = 0;
        return false;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            rest.Dispose();
        }
        base.Dispose(disposing);
    }
}

/// <summary>A fetch the runtime refused after its handler ran (its response body would stream past the stream's bound).</summary>
internal sealed class FetchRefusedException(Error error) : Exception(error.Message)
{
    public Error Error { get; } = error;
}
