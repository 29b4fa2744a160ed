using Grpc.Core;
using Grpc.Net.Client;
using SourceGenDO.Ids;
using SourceGenDO.Serialization;
using SourceGenDO.Transport;
using SourceGenDO.Transport.Http2;
using SourceGenDO.Wire;

namespace SourceGenDO;

/// <summary>
/// A connection to a SourceGenDO server. It learns the server's namespaces and their id keys once, when
/// it connects; after that, ids and stubs are made locally. Each stub gets its own ordered channel on
/// its first call; the channels of all stubs share one gRPC stream, so calls of many stubs travel
/// packed together.
/// </summary>
/// <example>
/// <code>
/// await using var client = await DurableObjectClient.ConnectAsync(new Uri("http://127.0.0.1:5000"));
/// var counters = client.GetNamespace&lt;CounterStub&gt;("COUNTERS");
/// long value = await counters.GetByName("apples").Increment(5);
/// </code>
/// </example>
public sealed partial class DurableObjectClient : IAsyncDisposable, IDisposable
{
    // What Dispose closes: the GrpcChannel or the HTTP/2 call invoker; none for an in-process client.
    private readonly IDisposable? _transport;
    private readonly IReadOnlyDictionary<string, NamespaceInfo> _namespaces;
    private readonly Dictionary<string, NamespaceIdKey> _keys;
    private readonly object _streamLock = new();
    private readonly int _maxQueuedCalls;
    // The access token's header, sent on the handshake and on every stream; null without a token.
    private readonly Metadata? _headers;
    private ClientStream? _stream;

    private DurableObjectClient(
        CallInvoker invoker, IDisposable? transport, IReadOnlyDictionary<string, NamespaceInfo> namespaces, int maxQueuedCalls, Metadata? headers = null)
    {
        _transport = transport;
        _maxQueuedCalls = maxQueuedCalls;
        _headers = headers;
        _namespaces = namespaces;
        _keys = namespaces.ToDictionary(pair => pair.Key, pair => new NamespaceIdKey(pair.Value.IdKey.Span), StringComparer.Ordinal);
        Invoker = invoker;
    }

    internal CallInvoker Invoker { get; }

    /// <summary>The names of the namespaces the server hosts.</summary>
    public IReadOnlyCollection<string> Namespaces => _namespaces.Keys.ToArray();

    /// <summary>Connects to the server at <paramref name="address"/> and learns its namespaces (those its access token grants).</summary>
    /// <exception cref="DurableObjectException">
    /// The server could not be reached (<see cref="DurableObjectException.Retryable"/>), or refused the client's
    /// credentials (not retryable; the message says why: no token, a wrong one, a wrong certificate).
    /// </exception>
    /// <exception cref="ArgumentException">An option is invalid, for example a token with characters an HTTP header cannot carry.</exception>
    public static async Task<DurableObjectClient> ConnectAsync(
        Uri address, DurableObjectClientOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(address);
        options ??= new DurableObjectClientOptions();
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.MaxQueuedCalls, nameof(options.MaxQueuedCalls));
        var headers = AccessHeaders(options.AccessToken);
        var (invoker, transport) = CreateTransport(address, options);
        try
        {
            var handshake = invoker.AsyncUnaryCall(
                FrameCodec.Handshake, null,
                new CallOptions(headers, DateTime.UtcNow + options.ConnectTimeout, cancellationToken),
                new HandshakeRequest());
            // The stream every stub will share opens while the handshake is under way, so that the first
            // call finds it ready; if the handshake fails, disposing the channel ends it.
            var stream = new ClientStream(invoker, options.MaxQueuedCalls, headers);
            var response = await handshake.ConfigureAwait(false);
            return new DurableObjectClient(
                invoker, transport, response.Namespaces.ToDictionary(info => info.Name, StringComparer.Ordinal), options.MaxQueuedCalls, headers)
            {
                _stream = stream,
            };
        }
        catch (RpcException e)
        {
            transport.Dispose();
            throw new DurableObjectException($"Could not connect to the SourceGenDO server at {address}: {e.Status.Detail}", e)
            {
                Retryable = e.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded,
            };
        }
        catch
        {
            transport.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Creates a client over a transport whose namespaces are already known; a host uses this to let its
    /// own objects call each other without leaving the process.
    /// </summary>
    internal static DurableObjectClient CreateConnected(CallInvoker invoker, IEnumerable<NamespaceInfo> namespaces) =>
        new(invoker, null, namespaces.ToDictionary(info => info.Name, StringComparer.Ordinal), new DurableObjectClientOptions().MaxQueuedCalls);

    /// <summary>The namespace <paramref name="name"/>, whose stubs are of type <typeparamref name="TStub"/>.</summary>
    /// <exception cref="ArgumentException">The server has no such namespace, or it hosts another class than <typeparamref name="TStub"/> calls.</exception>
    public DurableObjectNamespace<TStub> GetNamespace<TStub>(string name) where TStub : DurableObjectStub, IDurableObjectStub<TStub>
    {
        ArgumentNullException.ThrowIfNull(name);
        if (!_namespaces.TryGetValue(name, out var info))
        {
            throw new ArgumentException(
                $"The server has no namespace \"{name}\". It hosts: {string.Join(", ", _namespaces.Keys.Order(StringComparer.Ordinal))}.", nameof(name));
        }
        if (info.ClassName != TStub.ObjectClassName)
        {
            throw new ArgumentException(
                $"Namespace \"{name}\" hosts '{info.ClassName}', but {typeof(TStub).Name} calls '{TStub.ObjectClassName}'.", nameof(name));
        }
        return new DurableObjectNamespace<TStub>(this, name, _keys[name]);
    }

    /// <summary>
    /// The stream new stubs bind to: one shared by every stub of this client, replaced by a new one once
    /// it has failed (the stubs bound to the failed one stay broken).
    /// </summary>
    internal ClientStream CurrentStream()
    {
        lock (_streamLock)
        {
            if (_stream is null || _stream.IsBroken)
            {
                _stream = new ClientStream(Invoker, _maxQueuedCalls, _headers);
            }
            return _stream;
        }
    }

    internal IEnumerable<NamespaceInfo> NamespacesHosting(string className) =>
        _namespaces.Values.Where(info => info.ClassName == className);

    /// <summary>Closes the connection; every stub made from this client breaks.</summary>
    public void Dispose() => _transport?.Dispose();

    /// <inheritdoc cref="Dispose"/>
    public ValueTask DisposeAsync()
    {
        _transport?.Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>The header that carries the access token, or null without one.</summary>
    private static Metadata? AccessHeaders(string? token)
    {
        if (token is null)
        {
            return null;
        }
        // A header cannot carry these; a newline would even let the value add headers of its own.
        if (token.Length == 0 || token.Any(c => c <= ' ' || c >= '\u007f'))
        {
            throw new ArgumentException(
                "DurableObjectClientOptions.AccessToken must be non-empty printable ASCII without spaces (as the server's tokens are).", nameof(token));
        }
        return new Metadata { { "authorization", "Bearer " + token } };
    }

    /// <summary>
    /// SourceGenDO's own HTTP/2 client for cleartext addresses, which writes and reads the stream's frames
    /// on the callers' and the reader's threads; grpc-dotnet's channel for TLS or a handler of the user's.
    /// </summary>
    private static (CallInvoker Invoker, IDisposable Transport) CreateTransport(Uri address, DurableObjectClientOptions options)
    {
        var tls = options.ServerCertificateValidation is not null || options.ClientCertificate is not null;
        if (tls && options.HttpHandler is not null)
        {
            throw new ArgumentException(
                "DurableObjectClientOptions.ServerCertificateValidation and ClientCertificate apply to the client's own handler: with an HttpHandler, set them on that handler.", nameof(options));
        }
        if (tls && address.Scheme != Uri.UriSchemeHttps)
        {
            throw new ArgumentException(
                $"DurableObjectClientOptions.ServerCertificateValidation and ClientCertificate need an https address; \"{address}\" is not one.", nameof(options));
        }
        if (options.HttpHandler is null && address.Scheme == Uri.UriSchemeHttp)
        {
            var invoker = new Http2CallInvoker(address, options.ConnectTimeout);
            return (invoker, invoker);
        }
        var channel = CreateChannel(address, options);
        return (channel.CreateCallInvoker(), channel);
    }

    private static GrpcChannel CreateChannel(Uri address, DurableObjectClientOptions options) =>
        GrpcChannel.ForAddress(address, new GrpcChannelOptions
        {
            HttpHandler = options.HttpHandler ?? new SocketsHttpHandler
            {
                // One long-lived stream carries every stub; a replacement after a failure, or a host's
                // own streams, may exceed a server's per-connection stream limit: spill over then.
                EnableMultipleHttp2Connections = true,
                PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
                KeepAlivePingDelay = TimeSpan.FromSeconds(30),
                KeepAlivePingTimeout = TimeSpan.FromSeconds(20),
                ConnectTimeout = options.ConnectTimeout,
                SslOptions = new System.Net.Security.SslClientAuthenticationOptions
                {
                    RemoteCertificateValidationCallback = options.ServerCertificateValidation,
                    ClientCertificates = options.ClientCertificate is { } certificate ? new System.Security.Cryptography.X509Certificates.X509CertificateCollection { certificate } : null,
                },
            },
            DisposeHttpClient = true,
            MaxReceiveMessageSize = PayloadLimits.MaxFrameBytes,
            MaxSendMessageSize = PayloadLimits.MaxFrameBytes,
        });
}
