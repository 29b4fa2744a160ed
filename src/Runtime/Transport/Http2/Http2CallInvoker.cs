using Grpc.Core;

namespace SourceGenDO.Transport.Http2;

/// <summary>
/// A <see cref="CallInvoker"/> over this client's own HTTP/2 connections: unary and duplex-streaming
/// calls, cleartext only. It opens a connection on first use and another when the current one fails or
/// takes no more streams.
/// </summary>
internal sealed class Http2CallInvoker : CallInvoker, IDisposable
{
    private readonly string _host;
    private readonly int _port;
    private readonly TimeSpan _connectTimeout;
    private readonly Http2Connection.KeepAlive _keepAlive;
    private readonly object _lock = new();
    private readonly List<Http2Connection> _connections = [];
    private Task<Http2Connection>? _current;
    private bool _disposed;

    /// <param name="address">An <c>http</c> address: host and port.</param>
    /// <param name="connectTimeout">How long opening a connection may take.</param>
    /// <param name="keepAlive">When to ping a quiet connection and how long to wait for the answer; 30 s and 20 s by default.</param>
    public Http2CallInvoker(Uri address, TimeSpan connectTimeout, Http2Connection.KeepAlive? keepAlive = null)
    {
        if (address.Scheme != Uri.UriSchemeHttp)
        {
            throw new ArgumentException($"The HTTP/2 transport speaks cleartext only; \"{address}\" is not an http address.", nameof(address));
        }
        _host = address.IdnHost;
        _port = address.Port;
        _connectTimeout = connectTimeout;
        _keepAlive = keepAlive ?? new Http2Connection.KeepAlive(TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(20));
    }

    /// <summary>The connection new calls use, opened when there is none that can take a stream.</summary>
    /// <exception cref="RpcException">The server cannot be reached (Unavailable).</exception>
    public ValueTask<Http2Connection> GetConnectionAsync(CancellationToken cancellationToken)
    {
        Task<Http2Connection> current;
        lock (_lock)
        {
            if (_disposed)
            {
                throw new RpcException(new Status(StatusCode.Unavailable, "The client was disposed."));
            }
            if (_current is null || _current.IsFaulted || _current.IsCanceled || (_current.IsCompletedSuccessfully && !_current.Result.CanOpenStream))
            {
                // Connections that take no new streams stay listed (for Dispose) until their streams end;
                // then they are closed.
                foreach (var done in _connections.Where(static connection => !connection.HasStreams && !connection.CanOpenStream).ToList())
                {
                    _connections.Remove(done);
                    done.Close("The connection took no more streams and had none open.");
                }
                _current = ConnectAsync();
            }
            current = _current;
        }
        return current.IsCompletedSuccessfully ? new ValueTask<Http2Connection>(current.Result) : AwaitConnection(current, cancellationToken);
    }

    public override TResponse BlockingUnaryCall<TRequest, TResponse>(Method<TRequest, TResponse> method, string? host, CallOptions options, TRequest request) =>
        AsyncUnaryCall(method, host, options, request).ResponseAsync.GetAwaiter().GetResult();

    public override AsyncUnaryCall<TResponse> AsyncUnaryCall<TRequest, TResponse>(Method<TRequest, TResponse> method, string? host, CallOptions options, TRequest request)
    {
        var call = new Http2Call<TRequest, TResponse>(this, method, options);
        return new AsyncUnaryCall<TResponse>(call.UnaryAsync(request), call.ResponseHeadersAsync, call.GetStatus, call.GetTrailers, call.Dispose);
    }

    public override AsyncDuplexStreamingCall<TRequest, TResponse> AsyncDuplexStreamingCall<TRequest, TResponse>(Method<TRequest, TResponse> method, string? host, CallOptions options)
    {
        var call = new Http2Call<TRequest, TResponse>(this, method, options);
        return new AsyncDuplexStreamingCall<TRequest, TResponse>(call, call, call.ResponseHeadersAsync, call.GetStatus, call.GetTrailers, call.Dispose);
    }

    public override AsyncServerStreamingCall<TResponse> AsyncServerStreamingCall<TRequest, TResponse>(Method<TRequest, TResponse> method, string? host, CallOptions options, TRequest request) =>
        throw new NotSupportedException("SourceGenDO's HTTP/2 transport carries unary and duplex-streaming calls only.");

    public override AsyncClientStreamingCall<TRequest, TResponse> AsyncClientStreamingCall<TRequest, TResponse>(Method<TRequest, TResponse> method, string? host, CallOptions options) =>
        throw new NotSupportedException("SourceGenDO's HTTP/2 transport carries unary and duplex-streaming calls only.");

    /// <summary>Closes every connection; their calls fail.</summary>
    public void Dispose()
    {
        Http2Connection[] connections;
        lock (_lock)
        {
            _disposed = true;
            connections = [.. _connections];
            _connections.Clear();
        }
        foreach (var connection in connections)
        {
            connection.Close("The client was disposed.");
        }
    }

    private async Task<Http2Connection> ConnectAsync()
    {
        using var timeout = new CancellationTokenSource(_connectTimeout);
        Http2Connection connection;
        try
        {
            connection = await Http2Connection.ConnectAsync(_host, _port, _keepAlive, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is System.Net.Sockets.SocketException or OperationCanceledException or IOException)
        {
            var reason = e is OperationCanceledException ? $"no answer within {_connectTimeout.TotalSeconds:0.#} s" : e.Message;
            throw new RpcException(new Status(StatusCode.Unavailable, $"Could not connect to {_host}:{_port}: {reason}", e));
        }
        lock (_lock)
        {
            if (!_disposed)
            {
                _connections.Add(connection);
                return connection;
            }
        }
        connection.Close("The client was disposed.");
        throw new RpcException(new Status(StatusCode.Unavailable, "The client was disposed."));
    }

    private static async ValueTask<Http2Connection> AwaitConnection(Task<Http2Connection> connecting, CancellationToken cancellationToken) =>
        await connecting.WaitAsync(cancellationToken).ConfigureAwait(false);
}
