using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Google.Protobuf;
using SourceGenDO.Serialization;
using SourceGenDO.Wire;

namespace SourceGenDO.Micro.Client;

/// <summary>
/// A fake SourceGenDO server inside an <see cref="HttpMessageHandler"/>: the client's real gRPC channel
/// sends its requests here instead of to a socket. It answers the handshake with one namespace, and on
/// the <c>Connect</c> stream answers every call at once with a fixed, pre-encoded result per method.
/// </summary>
/// <remarks>
/// It exists so that the client's per-call allocations can be measured without a server: the stub, its
/// channel, the shared stream, the pending call and the gRPC client all run for real. Its own work per
/// call is allocation-free (pooled pipe buffers, one reused writer, no strings), and what it does
/// allocate while answering is counted in <see cref="ServerBytesPerCall"/>, because BenchmarkDotNet
/// counts the allocations of every thread. Field numbers come from the messages compiled from
/// protos/sourcegendo.proto; anything it cannot answer ends the stream with an error, so that a
/// protocol change fails the benchmark at once instead of leaving a call waiting for ever.
/// </remarks>
public sealed class InMemoryGrpcTransport : HttpMessageHandler
{
    public const string Namespace = "BENCH";

    private static readonly MediaTypeHeaderValue GrpcContentType = new("application/grpc");
    private readonly string _className;
    private readonly (byte[] Method, byte[] Value)[] _results;
    private long _serverBytes;
    private long _calls;

    /// <param name="className">The full name of the class the namespace hosts.</param>
    /// <param name="results">For each method name, the encoded <c>Result.value</c> to answer with.</param>
    public InMemoryGrpcTransport(string className, IReadOnlyDictionary<string, byte[]> results)
    {
        _className = className;
        _results = [.. results.Select(static pair => (Encoding.UTF8.GetBytes(pair.Key), pair.Value))];
    }

    /// <summary>The bytes this fake server allocated while answering, per call answered.</summary>
    public double ServerBytesPerCall => Calls == 0 ? 0 : (double)Interlocked.Read(ref _serverBytes) / Calls;

    /// <summary>The number of calls answered.</summary>
    public long Calls => Interlocked.Read(ref _calls);

    /// <summary>Why the fake server ended a stream with an error, if it did.</summary>
    public Exception? Failure { get; private set; }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var path = request.RequestUri?.AbsolutePath ?? "";
        if (path.EndsWith("/Handshake", StringComparison.Ordinal))
        {
            if (request.Content is not null)
            {
                await request.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
            }
            return Unary(request, HandshakeResponse());
        }
        if (path.EndsWith("/Connect", StringComparison.Ordinal) && request.Content is not null)
        {
            return Connect(request, request.Content);
        }
        return new HttpResponseMessage(HttpStatusCode.NotFound) { RequestMessage = request };
    }

    private byte[] HandshakeResponse() => new HandshakeResponse
    {
        Namespaces =
        {
            new NamespaceInfo
            {
                Name = Namespace,
                ClassName = _className,
                IdKey = ByteString.CopyFrom("in-memory transport key, 32 byte"u8),
            },
        },
    }.ToByteArray();

    private static HttpResponseMessage Unary(HttpRequestMessage request, byte[] message)
    {
        var framed = new byte[5 + message.Length];
        BinaryPrimitives.WriteUInt32BigEndian(framed.AsSpan(1), (uint)message.Length);
        message.CopyTo(framed.AsSpan(5));
        var response = Response(request, new ByteArrayContent(framed));
        response.TrailingHeaders.Add("grpc-status", "0");
        return response;
    }

    private HttpResponseMessage Connect(HttpRequestMessage request, HttpContent requestContent)
    {
        var requests = new Pipe(new PipeOptions(useSynchronizationContext: false));
        var responses = new Pipe(new PipeOptions(useSynchronizationContext: false));
        var response = Response(request, new StreamContent(responses.Reader.AsStream()));
        _ = Task.Run(() => PumpRequestsAsync(requestContent, requests.Writer));
        _ = Task.Run(() => ServeAsync(requests.Reader, responses.Writer, response));
        return response;
    }

    private static HttpResponseMessage Response(HttpRequestMessage request, HttpContent content)
    {
        content.Headers.ContentType = GrpcContentType;
        return new HttpResponseMessage(HttpStatusCode.OK)
        {
            RequestMessage = request,
            Version = HttpVersion.Version20,
            Content = content,
        };
    }

    // The client writes its request stream into whatever stream the handler hands its content.
    private static async Task PumpRequestsAsync(HttpContent content, PipeWriter requests)
    {
        Exception? failure = null;
        try
        {
            await content.CopyToAsync(requests.AsStream(leaveOpen: true)).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            failure = e;
        }
        await requests.CompleteAsync(failure).ConfigureAwait(false);
    }

    private async Task ServeAsync(PipeReader requests, PipeWriter responses, HttpResponseMessage response)
    {
        var scratch = new byte[4096];
        var frame = new WireWriter(4096);
        Exception? failure = null;
        try
        {
            while (true)
            {
                var read = await requests.ReadAsync().ConfigureAwait(false);
                var buffer = read.Buffer;
                var answered = false;
                while (TryReadMessage(ref buffer, ref scratch, out var message))
                {
                    answered |= Answer(message, frame, responses);
                }
                requests.AdvanceTo(buffer.Start, buffer.End);
                if (answered)
                {
                    await responses.FlushAsync().ConfigureAwait(false);
                }
                if (read.IsCompleted)
                {
                    break;
                }
            }
        }
        catch (Exception e)
        {
            failure = e;
            Failure = e;
        }
        // The status travels in the trailers, which the client reads once the body ends.
        response.TrailingHeaders.Add("grpc-status", failure is null ? "0" : "13");
        if (failure is not null)
        {
            response.TrailingHeaders.Add("grpc-message", Uri.EscapeDataString($"in-memory transport: {failure.Message}"));
        }
        await requests.CompleteAsync().ConfigureAwait(false);
        await responses.CompleteAsync().ConfigureAwait(false);
    }

    // One gRPC message: a compressed flag, a big-endian length, then the ClientFrame.
    private static bool TryReadMessage(ref ReadOnlySequence<byte> buffer, ref byte[] scratch, out ReadOnlySpan<byte> message)
    {
        message = default;
        if (buffer.Length < 5)
        {
            return false;
        }
        Span<byte> header = stackalloc byte[5];
        buffer.Slice(0, 5).CopyTo(header);
        var length = BinaryPrimitives.ReadUInt32BigEndian(header[1..]);
        if (header[0] != 0)
        {
            throw new InvalidOperationException("a compressed message arrived; the client is expected to send uncompressed frames.");
        }
        if (buffer.Length < 5 + length)
        {
            return false;
        }
        var body = buffer.Slice(5, length);
        if (body.IsSingleSegment)
        {
            message = body.FirstSpan;
        }
        else
        {
            if (scratch.Length < length)
            {
                scratch = new byte[Math.Max(length, scratch.Length * 2)];
            }
            body.CopyTo(scratch);
            message = scratch.AsSpan(0, (int)length);
        }
        buffer = buffer.Slice(body.End);
        return true;
    }

    /// <summary>
    /// Answers the calls of one <c>ClientFrame</c> with one <c>ServerFrame</c>; opens, cancels and closes
    /// need no answer. False when the frame held no call.
    /// </summary>
    private bool Answer(ReadOnlySpan<byte> clientFrame, WireWriter frame, PipeWriter responses)
    {
        var before = GC.GetAllocatedBytesForCurrentThread();
        frame.Reset();
        var calls = 0;
        var reader = new ProtoScanner(clientFrame);
        while (reader.TryReadTag(out var field, out var wireType))
        {
            switch (field)
            {
                case ClientFrame.CallsFieldNumber:
                    AnswerCall(reader.ReadLengthDelimited(wireType), frame);
                    calls++;
                    break;
                case ClientFrame.OpensFieldNumber or ClientFrame.CancelsFieldNumber or ClientFrame.ClosesFieldNumber:
                    reader.Skip(wireType);
                    break;
                default:
                    throw new InvalidOperationException($"ClientFrame field {field} is not one the transport knows.");
            }
        }
        if (calls > 0)
        {
            var payload = frame.WrittenSpan;
            var output = responses.GetSpan(5 + payload.Length);
            output[0] = 0;
            BinaryPrimitives.WriteUInt32BigEndian(output[1..], (uint)payload.Length);
            payload.CopyTo(output[5..]);
            responses.Advance(5 + payload.Length);
        }
        Interlocked.Add(ref _serverBytes, GC.GetAllocatedBytesForCurrentThread() - before);
        Interlocked.Add(ref _calls, calls);
        return calls > 0;
    }

    // Call { call_id, method, ... } answered with Result { call_id, value }.
    private void AnswerCall(ReadOnlySpan<byte> encodedCall, WireWriter frame)
    {
        var call = new ProtoScanner(encodedCall);
        ulong callId = 0;
        ReadOnlySpan<byte> value = default;
        var answered = false;
        while (call.TryReadTag(out var field, out var wireType))
        {
            switch (field)
            {
                case Call.CallIdFieldNumber:
                    callId = call.ReadVarint(wireType);
                    break;
                case Call.MethodFieldNumber:
                    value = ResultOf(call.ReadLengthDelimited(wireType));
                    answered = true;
                    break;
                default:
                    call.Skip(wireType);
                    break;
            }
        }
        if (!answered)
        {
            throw new InvalidOperationException($"call {callId} names no method.");
        }
        var result = frame.BeginMessage(ServerFrame.ResultsFieldNumber);
        frame.WriteUInt64(Result.CallIdFieldNumber, callId);
        frame.WriteBytes(Result.ValueFieldNumber, value);
        frame.EndMessage(result);
    }

    private ReadOnlySpan<byte> ResultOf(ReadOnlySpan<byte> method)
    {
        foreach (var (name, value) in _results)
        {
            if (method.SequenceEqual(name))
            {
                return value;
            }
        }
        throw new InvalidOperationException($"there is no result for method \"{Encoding.UTF8.GetString(method)}\".");
    }

    /// <summary>Reads protobuf keys, varints and length-delimited spans without allocating.</summary>
    private ref struct ProtoScanner(ReadOnlySpan<byte> data)
    {
        private readonly ReadOnlySpan<byte> _data = data;
        private int _position;

        public bool TryReadTag(out int field, out WireType wireType)
        {
            if (_position >= _data.Length)
            {
                field = 0;
                wireType = default;
                return false;
            }
            var key = ReadRawVarint();
            field = (int)(key >> 3);
            wireType = (WireType)(key & 7);
            return true;
        }

        public ulong ReadVarint(WireType wireType) =>
            wireType == WireType.Varint ? ReadRawVarint() : throw Unexpected(wireType, WireType.Varint);

        public ReadOnlySpan<byte> ReadLengthDelimited(WireType wireType)
        {
            if (wireType != WireType.LengthDelimited)
            {
                throw Unexpected(wireType, WireType.LengthDelimited);
            }
            var length = checked((int)ReadRawVarint());
            var span = _data.Slice(_position, length);
            _position += length;
            return span;
        }

        public void Skip(WireType wireType)
        {
            switch (wireType)
            {
                case WireType.Varint:
                    ReadRawVarint();
                    break;
                case WireType.Fixed64:
                    _position += 8;
                    break;
                case WireType.Fixed32:
                    _position += 4;
                    break;
                default:
                    ReadLengthDelimited(wireType);
                    break;
            }
        }

        private ulong ReadRawVarint()
        {
            ulong value = 0;
            for (var shift = 0; shift < 64; shift += 7)
            {
                var b = _data[_position++];
                value |= (ulong)(b & 0x7F) << shift;
                if (b < 0x80)
                {
                    return value;
                }
            }
            throw new InvalidOperationException("a varint is longer than 10 bytes.");
        }

        private static InvalidOperationException Unexpected(WireType actual, WireType expected) =>
            new($"a field has wire type {actual} where {expected} was expected.");
    }
}
