using System.Threading.Channels;
using Grpc.Core;
using SourceGenDO.Server.Listing;
using SourceGenDO.Transport;
using SourceGenDO.Wire;

namespace SourceGenDO.Server.Rpc;

/// <summary>
/// Carries the stub streams of objects calling other objects on the same server straight to the
/// dispatcher service, without a socket: the frames, their order and the service code are the same as
/// over the network. It also carries the listing's unary calls, so that object code can list objects.
/// </summary>
internal sealed class InProcessCallInvoker : CallInvoker
{
    private readonly DurableObjectsService _service;
    private readonly ListingRpcService? _listing;

    public InProcessCallInvoker(DurableObjectsService service, ListingRpcService? listing = null)
    {
        _service = service;
        _listing = listing;
    }

    public override AsyncDuplexStreamingCall<TRequest, TResponse> AsyncDuplexStreamingCall<TRequest, TResponse>(
        Method<TRequest, TResponse> method, string? host, CallOptions options)
    {
        if (typeof(TRequest) != typeof(OutgoingClientFrame) || typeof(TResponse) != typeof(IncomingServerFrame))
        {
            throw new NotSupportedException($"The in-process transport only carries the {method.FullName} streams of stubs.");
        }
        // Frames are encoded and decoded exactly as over the network, so both sides see what they would see there.
        var requests = new ChannelStream<IncomingClientFrame>();
        var responses = new ChannelStream<IncomingServerFrame>();
        var requestWriter = new EncodingWriter<OutgoingClientFrame, IncomingClientFrame>(requests, static frame =>
        {
            FrameCodec.Encode(frame);
            return FrameCodec.DecodeClientFrame(frame.Encoder.ToArray());
        });
        var responseWriter = new EncodingWriter<OutgoingServerFrame, IncomingServerFrame>(responses, static frame =>
        {
            FrameCodec.Encode(frame);
            var payload = frame.Encoder.ToArray();
            return FrameCodec.DecodeServerFrame(payload, payload.Length);
        });
        var cancellation = CancellationTokenSource.CreateLinkedTokenSource(options.CancellationToken);
        var context = new InProcessCallContext(method.FullName, options.Headers ?? new Metadata(), cancellation.Token);
        var status = new Status(StatusCode.OK, "");
        _ = Task.Run(async () =>
        {
            try
            {
                await _service.Connect(requests, responseWriter, context).ConfigureAwait(false);
                responses.Complete(null);
            }
            catch (RpcException e)
            {
                status = e.Status;
                responses.Complete(e);
            }
            catch (Exception e)
            {
                status = new Status(StatusCode.Unknown, e.Message);
                responses.Complete(new RpcException(status));
            }
        });
        return new AsyncDuplexStreamingCall<TRequest, TResponse>(
            (IClientStreamWriter<TRequest>)(object)requestWriter,
            (IAsyncStreamReader<TResponse>)(object)responses,
            Task.FromResult(new Metadata()),
            () => status,
            () => new Metadata(),
            () =>
            {
                cancellation.Cancel();
                requests.Complete(null);
            });
    }

    public override TResponse BlockingUnaryCall<TRequest, TResponse>(Method<TRequest, TResponse> method, string? host, CallOptions options, TRequest request) =>
        throw new NotSupportedException();

    public override AsyncUnaryCall<TResponse> AsyncUnaryCall<TRequest, TResponse>(Method<TRequest, TResponse> method, string? host, CallOptions options, TRequest request)
    {
        var context = new InProcessCallContext(method.FullName, options.Headers ?? new Metadata(), options.CancellationToken);
        var response = (_listing, request) switch
        {
            ({ } listing, ListObjectsRequest objects) => (Task<TResponse>)(object)listing.ListObjects(objects, context),
            ({ } listing, ListNamespacesRequest namespaces) => (Task<TResponse>)(object)listing.ListNamespaces(namespaces, context),
            _ => throw new NotSupportedException($"The in-process transport carries the streams of stubs and the listing only, not {method.FullName}."),
        };
        return new AsyncUnaryCall<TResponse>(
            response,
            Task.FromResult(new Metadata()),
            () => response.Exception?.GetBaseException() is RpcException e ? e.Status : Status.DefaultSuccess,
            () => new Metadata(),
            static () => { });
    }

    public override AsyncServerStreamingCall<TResponse> AsyncServerStreamingCall<TRequest, TResponse>(Method<TRequest, TResponse> method, string? host, CallOptions options, TRequest request) =>
        throw new NotSupportedException();

    public override AsyncClientStreamingCall<TRequest, TResponse> AsyncClientStreamingCall<TRequest, TResponse>(Method<TRequest, TResponse> method, string? host, CallOptions options) =>
        throw new NotSupportedException();

    /// <summary>Writes frames of one type into a stream that delivers them, converted, as another.</summary>
    private sealed class EncodingWriter<TWritten, TRead>(ChannelStream<TRead> target, Func<TWritten, TRead> convert)
        : IClientStreamWriter<TWritten>, IServerStreamWriter<TWritten>
    {
        public WriteOptions? WriteOptions { get; set; }

        public Task WriteAsync(TWritten message) => target.WriteAsync(convert(message));

        public Task CompleteAsync() => target.CompleteAsync();
    }

    /// <summary>One direction of an in-process stream: what one side writes, the other reads, in order.</summary>
    private sealed class ChannelStream<T> : IAsyncStreamReader<T>, IClientStreamWriter<T>, IServerStreamWriter<T>
    {
        private readonly Channel<T> _channel = Channel.CreateUnbounded<T>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });

        public T Current { get; private set; } = default!;

        public WriteOptions? WriteOptions { get; set; }

        public async Task<bool> MoveNext(CancellationToken cancellationToken)
        {
            if (await _channel.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false) && _channel.Reader.TryRead(out var item))
            {
                Current = item;
                return true;
            }
            return false;
        }

        public Task WriteAsync(T message) =>
            _channel.Writer.TryWrite(message)
                ? Task.CompletedTask
                : Task.FromException(new RpcException(new Status(StatusCode.Unavailable, "The stream is closed.")));

        public Task CompleteAsync()
        {
            Complete(null);
            return Task.CompletedTask;
        }

        public void Complete(Exception? error) => _channel.Writer.TryComplete(error);
    }

    private sealed class InProcessCallContext(string method, Metadata headers, CancellationToken cancellationToken) : ServerCallContext
    {
        protected override string MethodCore => method;
        protected override string HostCore => "in-process";
        protected override string PeerCore => "in-process";
        protected override DateTime DeadlineCore => DateTime.MaxValue;
        protected override Metadata RequestHeadersCore => headers;
        protected override CancellationToken CancellationTokenCore => cancellationToken;
        protected override Metadata ResponseTrailersCore { get; } = new();
        protected override Status StatusCore { get; set; }
        protected override WriteOptions? WriteOptionsCore { get; set; }
        protected override AuthContext AuthContextCore { get; } = new(null, new Dictionary<string, List<AuthProperty>>());

        protected override ContextPropagationToken CreatePropagationTokenCore(ContextPropagationOptions? options) =>
            throw new NotSupportedException();

        protected override Task WriteResponseHeadersAsyncCore(Metadata responseHeaders) => Task.CompletedTask;
    }
}
