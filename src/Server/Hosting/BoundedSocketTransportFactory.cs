using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace SourceGenDO.Server.Hosting;

/// <summary>
/// Kestrel's socket transport with a bound on the sockets it holds open at once, derived from the
/// process's open-file limit: at the bound it stops accepting (new connections wait in the listen
/// backlog) until a socket closes. Kestrel's own connection limits reject a connection only after
/// accepting it, and close it later on the thread pool, so a burst of connections can still take every
/// file the process may open; past that the runtime cannot start a thread and aborts the process.
/// </summary>
internal sealed class BoundedSocketTransportFactory : IConnectionListenerFactory, IConnectionListenerFactorySelector
{
    private static readonly TimeSpan WarningInterval = TimeSpan.FromMinutes(1);

    private readonly SocketTransportFactory _sockets;
    private readonly ILogger _logger;
    private readonly object _lock = new();
    private SemaphoreSlim? _open;
    private long _bound;
    private long _lastWarning = long.MinValue;

    public BoundedSocketTransportFactory(IOptions<SocketTransportOptions> options, ILoggerFactory loggers)
    {
        _sockets = new SocketTransportFactory(options, loggers);
        _logger = loggers.CreateLogger("SourceGenDO.Server.Connections");
    }

    public bool CanBind(EndPoint endpoint) => ((IConnectionListenerFactorySelector)_sockets).CanBind(endpoint);

    public async ValueTask<IConnectionListener> BindAsync(EndPoint endpoint, CancellationToken cancellationToken = default)
    {
        var listener = await _sockets.BindAsync(endpoint, cancellationToken).ConfigureAwait(false);
        return OpenSockets() is { } open ? new BoundedListener(listener, open, this) : listener;
    }

    /// <summary>The count of sockets every listener shares, sized when the first one binds (when Kestrel starts).</summary>
    private SemaphoreSlim? OpenSockets()
    {
        lock (_lock)
        {
            if (_open is null && KestrelConnectionDefaults.ConnectionBudget(OpenFileLimit.Current(), OpenFileLimit.OpenNow()) is { } budget)
            {
                _bound = Math.Min(budget, int.MaxValue);
                _open = new SemaphoreSlim((int)_bound, (int)_bound);
            }
            return _open;
        }
    }

    private void WarnFull()
    {
        var now = Environment.TickCount64;
        var last = Interlocked.Read(ref _lastWarning);
        if (now - last >= (long)WarningInterval.TotalMilliseconds && Interlocked.CompareExchange(ref _lastWarning, now, last) == last)
        {
            _logger.LogWarning(
                "The server holds {Bound} sockets, as many as its open-file limit ({Limit}) leaves room for; new connections wait until one closes. Raise the limit (ulimit -n) to hold more.",
                _bound, OpenFileLimit.Current());
        }
    }

    /// <summary>One endpoint's listener: takes a place before each accept and gives it back when the connection closes.</summary>
    private sealed class BoundedListener(IConnectionListener inner, SemaphoreSlim open, BoundedSocketTransportFactory owner) : IConnectionListener
    {
        private readonly CancellationTokenSource _unbound = new();

        public EndPoint EndPoint => inner.EndPoint;

        public async ValueTask<ConnectionContext?> AcceptAsync(CancellationToken cancellationToken = default)
        {
            if (!open.Wait(0))
            {
                owner.WarnFull();
                using var waiting = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _unbound.Token);
                try
                {
                    await open.WaitAsync(waiting.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (_unbound.IsCancellationRequested)
                {
                    return null;
                }
            }
            ConnectionContext? connection;
            try
            {
                connection = await inner.AcceptAsync(cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                open.Release();
                throw;
            }
            if (connection is null)
            {
                open.Release();
                return null;
            }
            // Fires once, when the transport's socket is done (the connection's disposal waits for it).
            connection.ConnectionClosed.UnsafeRegister(static state => ((SemaphoreSlim)state!).Release(), open);
            return connection;
        }

        public ValueTask UnbindAsync(CancellationToken cancellationToken = default)
        {
            _unbound.Cancel();
            return inner.UnbindAsync(cancellationToken);
        }

        public ValueTask DisposeAsync()
        {
            _unbound.Cancel();
            _unbound.Dispose();
            return inner.DisposeAsync();
        }
    }
}
