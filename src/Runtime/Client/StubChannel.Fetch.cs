using SourceGenDO.Diagnostics;
using SourceGenDO.Serialization;
using SourceGenDO.Transport.Fetch;

namespace SourceGenDO;

/// <summary>
/// Fetch through a stub: an HTTP request sent as a call of the reserved method <see cref="FetchWire.Method"/>,
/// so that it keeps E-order with the stub's other calls, is cancelled as they are and waits behind the
/// caller's output gate as they do. Its bodies travel inline when small, else in chunks with flow control.
/// </summary>
internal sealed partial class StubChannel
{
    private static readonly ResultReader<FetchHead> ReadFetchHead = FetchHead.Read;

    /// <summary>
    /// Sends <paramref name="request"/> to the object's Fetch handler. Everything up to the call being
    /// queued happens before the first await, so a call made after this one starts after it.
    /// </summary>
    public async Task<HttpResponseMessage> FetchAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var arguments = WireWriter.Rent();
        arguments.WriteString(FetchWire.HeadMethodOrStatus, request.Method.Method);
        arguments.WriteString(FetchWire.HeadUrlOrReason, request.RequestUri!.AbsoluteUri);
        HttpContent? streamed = null;
        var content = request.Content;
        // A content's length is computed on demand, by ContentLength's getter: asked before the headers
        // are written, so that they carry it for a streamed body of known length too.
        _ = content?.Headers.ContentLength;
        FetchWire.WriteHeaders(arguments, request.Headers, content);
        if (content is not null)
        {
            if (FetchWire.InlineBody(content) is { } body)
            {
                arguments.WriteBytes(FetchWire.HeadBody, body);
            }
            else
            {
                arguments.WriteBool(FetchWire.HeadStreamedBody, true);
                streamed = content;
            }
        }
        var fetch = new ClientFetch(streamed, Id, cancellationToken);
        var call = Send(FetchWire.Method, arguments, ReadFetchHead, cancellationToken, out var pending, fetch) is { } failed
            ? new ValueTask<FetchHead>(ClientCallTelemetry.Refused(_namespace, FetchWire.Method, failed))
            : pending!.Awaitable;
        CurrentActivity.TagRequest(pending?.Activity, request);
        FetchHead head;
        try
        {
            head = await call.ConfigureAwait(false);
        }
        catch (Exception e)
        {
            fetch.Abandon(e);
            if (e is not OperationCanceledException && cancellationToken.IsCancellationRequested)
            {
                // The cancel broke the request body off, and the handler's failure over that can arrive
                // before the cancel is handled here: the caller learns of its cancel, not of its consequence.
                throw new TaskCanceledException("The fetch was cancelled.", e, cancellationToken);
            }
            throw;
        }
        return fetch.ToResponse(head, request);
    }
}
