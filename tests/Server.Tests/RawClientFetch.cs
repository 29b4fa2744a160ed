using Google.Protobuf;
using SourceGenDO.Wire;

namespace SourceGenDO.Server.Tests;

/// <summary>
/// Fetch as docs/wire-format.md ("Fetch") describes it to a client in another language: a call of the
/// method "$fetch" whose args are a FetchRequest, bodies in BodyChunk entries within the credit of
/// BodyCredit entries.
/// </summary>
internal sealed class RawFetch(RawStream stream, uint channel, ulong callId)
{
    public const string Method = "$fetch";
    public const int Window = 256 * 1024;
    public const int MaxChunk = 64 * 1024;

    private long _credit = Window;
    private readonly MemoryStream _responseBody = new();
    private long _unacknowledged;

    public ulong CallId => callId;

    /// <summary>The head of the response, once it came.</summary>
    public Result? Result { get; private set; }

    public FetchResponse? Response => Result is { OutcomeCase: Result.OutcomeOneofCase.Value } result ? FetchResponse.Parser.ParseFrom(result.Value) : null;

    public bool ResponseEnded { get; private set; }

    /// <summary>The error the response body ended with, if it broke off.</summary>
    public Error? ResponseError { get; private set; }

    /// <summary>False to read without granting credit (after a half-close, none can be sent).</summary>
    public bool GrantsCredit { get; set; } = true;

    public byte[] ResponseBody => _responseBody.ToArray();

    /// <summary>Sends the fetch call.</summary>
    public Task SendAsync(FetchRequest request) =>
        stream.WriteAsync(RawClient.Call(channel, callId, Method, request.ToByteArray()));

    /// <summary>Sends <paramref name="body"/> as the request body, never past the credit, then its last chunk; reads frames whenever it waits for credit.</summary>
    public async Task SendBodyAsync(byte[] body)
    {
        var sent = 0;
        while (sent < body.Length)
        {
            while (_credit == 0)
            {
                await ReadOneAsync();
            }
            var size = (int)Math.Min(Math.Min(MaxChunk, _credit), body.Length - sent);
            var frame = new ClientFrame();
            frame.BodyChunks.Add(new BodyChunk { CallId = callId, Data = ByteString.CopyFrom(body, sent, size) });
            await stream.WriteFrameAsync(frame);
            _credit -= size;
            sent += size;
        }
        var last = new ClientFrame();
        last.BodyChunks.Add(new BodyChunk { CallId = callId, End = true });
        await stream.WriteFrameAsync(last);
    }

    /// <summary>Reads frames until the response head and (if it streams) its whole body arrived, granting credit as it reads.</summary>
    public async Task ReceiveAsync()
    {
        while (Result is null || (Response is { StreamedBody: true } && !ResponseEnded))
        {
            await ReadOneAsync();
        }
    }

    private async Task ReadOneAsync()
    {
        var frame = await stream.ReadFrameAsync() ?? throw new InvalidOperationException("The stream ended.");
        foreach (var result in frame.Results)
        {
            if (result.CallId == callId)
            {
                Result = result;
            }
        }
        foreach (var credit in frame.BodyCredits)
        {
            if (credit.CallId == callId)
            {
                _credit += credit.Bytes;
            }
        }
        var grant = new ClientFrame();
        foreach (var chunk in frame.BodyChunks)
        {
            if (chunk.CallId != callId)
            {
                continue;
            }
            chunk.Data.WriteTo(_responseBody);
            _unacknowledged += chunk.Data.Length;
            ResponseEnded |= chunk.End;
            ResponseError ??= chunk.Error;
            if (GrantsCredit && _unacknowledged >= Window / 4 && !chunk.End)
            {
                grant.BodyCredits.Add(new BodyCredit { CallId = callId, Bytes = (uint)_unacknowledged });
                _unacknowledged = 0;
            }
        }
        if (grant.BodyCredits.Count > 0)
        {
            await stream.WriteFrameAsync(grant);
        }
    }
}
