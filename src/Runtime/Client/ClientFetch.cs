using System.Net;
using SourceGenDO.Serialization;
using SourceGenDO.Transport;
using SourceGenDO.Transport.Fetch;
using SourceGenDO.Wire;

namespace SourceGenDO;

/// <summary>
/// The bodies of one fetch a stub sent: its request body, when it streams, and its response body, which
/// the server may stream. Known to its <see cref="ClientStream"/> from the moment the call is sent until
/// both are over, so that the reader can route their chunks and credits.
/// </summary>
internal sealed class ClientFetch : IBodySignals, IBodyChunkSink
{
    private readonly HttpContent? _requestContent;
    private readonly CancellationToken _cancellation;
    private ClientStream? _stream;
    private ulong _callId;
    // The halves still in the stream's map: the response, and the request body while it streams.
    private int _open;
    private int _responseClosed;
    private CancellationTokenRegistration _registration;

    public ClientFetch(HttpContent? streamedRequest, DurableObjectId id, CancellationToken cancellationToken)
    {
        _requestContent = streamedRequest;
        _cancellation = cancellationToken;
        Id = id;
        Response = new IncomingBody(this, "response");
        Request = streamedRequest is null ? null : new OutgoingBody(this, "request");
        _open = streamedRequest is null ? 1 : 2;
    }

    public DurableObjectId Id { get; }

    /// <summary>True when the request body follows the call in chunks.</summary>
    public bool StreamsRequest => _requestContent is not null;

    /// <summary>The response body as it arrives (read only when the head says it streams).</summary>
    public IncomingBody Response { get; }

    /// <summary>The request body's credit and copying, when it streams.</summary>
    public OutgoingBody? Request { get; }

    /// <summary>Names the stream and call id; done by the stream before the call is queued.</summary>
    public void Register(ClientStream stream, ulong callId)
    {
        _stream = stream;
        _callId = callId;
    }

    /// <summary>Starts copying a streamed request body, after the call was queued.</summary>
    public void StartRequestBody()
    {
        if (Request is not null)
        {
            _ = Task.Run(SendRequestBodyAsync);
        }
    }

    private async Task SendRequestBodyAsync()
    {
        await Request!.SendAsync(_requestContent!, DescribeRequestFailure, _cancellation).ConfigureAwait(false);
        CloseHalf();
    }

    private static Error DescribeRequestFailure(Exception exception) => exception is OperationCanceledException
        ? RemoteErrors.FromRuntime("The caller cancelled the fetch while its request body was being sent.")
        : RemoteErrors.FromRuntime($"Reading the request body failed: {exception.GetType().FullName}: {exception.Message}");

    /// <summary>Builds the caller's response from the head the object answered with.</summary>
    public HttpResponseMessage ToResponse(FetchHead head, HttpRequestMessage request)
    {
        var response = new HttpResponseMessage((HttpStatusCode)head.Status) { RequestMessage = request };
        if (head.Reason.Length > 0)
        {
            response.ReasonPhrase = head.Reason;
        }
        HttpContent? content = null;
        if (head.StreamedBody)
        {
            content = new StreamContent(Response);
            if (_cancellation.CanBeCanceled)
            {
                // The fetch's token still cancels the body until it is read.
                _registration = _cancellation.UnsafeRegister(
                    static (state, token) => ((ClientFetch)state!).Response.Fail(new OperationCanceledException(token)), this);
                if (Volatile.Read(ref _responseClosed) != 0)
                {
                    // The body ended before the registration was made: nothing is left to cancel.
                    _registration.Dispose();
                }
            }
        }
        else
        {
            if (head.Body is { } body)
            {
                content = new ByteArrayContent(body);
            }
            CloseResponse();
        }
        FetchWire.AddHeaders(head.Headers, response.Headers, ref content);
        if (content is not null)
        {
            response.Content = content;
        }
        return response;
    }

    /// <summary>The fetch failed or was given up before its head arrived: no response body will be read.</summary>
    public void Abandon(Exception failure)
    {
        Response.Fail(failure);
        CloseResponse();
    }

    /// <summary>The response body is over (read, stopped or failed), or there is none.</summary>
    public void CloseResponse()
    {
        if (Interlocked.Exchange(ref _responseClosed, 1) == 0)
        {
            _registration.Dispose();
            CloseHalf();
        }
    }

    private void CloseHalf()
    {
        if (Interlocked.Decrement(ref _open) == 0)
        {
            _stream?.Forget(this, _callId);
        }
    }

    /// <summary>The stream failed: neither body can go on.</summary>
    public void Fail(Exception failure)
    {
        Response.Fail(failure);
        Request?.Fail(failure);
    }

    void IBodySignals.Signal(uint credit, bool stop) =>
        _stream?.QueueBody(new ClientEntry(CallId: _callId, Part: BodyPart.Credit, Body: new BodySignal(Last: stop, Credit: credit)));

    void IBodyChunkSink.Send(ReadOnlyMemory<byte> data, bool last, Error? error) =>
        _stream!.QueueBody(new ClientEntry(CallId: _callId, Args: data, Part: BodyPart.Chunk, Body: new BodySignal(Last: last, Error: error)));
}

/// <summary>A FetchResponse as the client reads it.</summary>
internal sealed record FetchHead(uint Status, string Reason, List<(string Name, string Value)> Headers, byte[]? Body, bool StreamedBody)
{
    /// <summary>Decodes a FetchResponse (the result of a fetch call).</summary>
    public static FetchHead Read(ref WireReader reader)
    {
        uint status = 0;
        var reason = "";
        var headers = new List<(string, string)>();
        byte[]? body = null;
        var streamed = false;
        while (reader.ReadTag(out var field))
        {
            switch (field)
            {
                case FetchWire.HeadMethodOrStatus:
                    status = reader.ReadUInt32();
                    break;
                case FetchWire.HeadUrlOrReason:
                    reason = reader.ReadString();
                    break;
                case FetchWire.HeadHeaders:
                    var header = reader.ReadMessage();
                    headers.Add(FetchWire.ReadHeader(ref header));
                    break;
                case FetchWire.HeadBody:
                    body = reader.ReadBytes();
                    break;
                case FetchWire.HeadStreamedBody:
                    streamed = reader.ReadBool();
                    break;
                default:
                    reader.Skip();
                    break;
            }
        }
        return new FetchHead(status, reason, headers, body, streamed);
    }
}
