using System.Collections.Concurrent;

namespace SourceGenDO.Server.Http;

/// <summary>
/// The accepted WebSockets of one object and its auto-response. They belong to the object, not to an
/// instance: the namespace keeps them while an idle instance is evicted (hibernation).
/// </summary>
internal sealed class ObjectSockets
{
    private readonly object _lock = new();
    private readonly List<HostedWebSocket> _sockets = [];
    private AutoResponse? _autoResponse;

    /// <summary>The text a matching message is answered with, read without the lock by the receive loops.</summary>
    public AutoResponse? Auto => Volatile.Read(ref _autoResponse);

    /// <summary>True when the entry holds nothing worth keeping.</summary>
    public bool IsEmpty
    {
        get
        {
            lock (_lock)
            {
                return _sockets.Count == 0 && _autoResponse is null;
            }
        }
    }

    /// <summary>True when a socket is accepted and not yet closed.</summary>
    public bool HasOpenSockets
    {
        get
        {
            lock (_lock)
            {
                return _sockets.Count > 0;
            }
        }
    }

    public void Add(HostedWebSocket socket)
    {
        lock (_lock)
        {
            _sockets.Add(socket);
        }
    }

    public void Remove(HostedWebSocket socket)
    {
        lock (_lock)
        {
            _sockets.Remove(socket);
        }
    }

    public IReadOnlyList<DurableWebSocket> Open(string? tag)
    {
        lock (_lock)
        {
            var open = new List<DurableWebSocket>(_sockets.Count);
            foreach (var hosted in _sockets)
            {
                var socket = hosted.Socket;
                if (socket.ReadyState == DurableWebSocketState.Open && (tag is null || socket.Tags.Contains(tag, StringComparer.Ordinal)))
                {
                    open.Add(socket);
                }
            }
            return open;
        }
    }

    public HostedWebSocket[] Snapshot()
    {
        lock (_lock)
        {
            return [.. _sockets];
        }
    }

    public void SetAutoResponse(string? request, string? response) =>
        Volatile.Write(ref _autoResponse, request is null || response is null ? null : new AutoResponse(request, System.Text.Encoding.UTF8.GetBytes(response)));

    /// <summary>An auto-response: the request text, and the response's UTF-8 bytes.</summary>
    internal sealed record AutoResponse(string Request, byte[] Response);
}

/// <summary>The <see cref="ObjectSockets"/> of every object of one namespace that has any.</summary>
internal sealed class NamespaceSockets
{
    private readonly ConcurrentDictionary<DurableObjectId, ObjectSockets> _objects = new();

    public ObjectSockets For(DurableObjectId id) => _objects.GetOrAdd(id, static _ => new ObjectSockets());

    public ObjectSockets? Find(DurableObjectId id) => _objects.GetValueOrDefault(id);

    /// <summary>True when <paramref name="id"/> has an accepted socket still open.</summary>
    public bool HasOpenSockets(DurableObjectId id) => _objects.TryGetValue(id, out var sockets) && sockets.HasOpenSockets;

    /// <summary>Removes a socket that closed, and the object's entry once it holds nothing.</summary>
    public void Remove(DurableObjectId id, HostedWebSocket socket)
    {
        if (!_objects.TryGetValue(id, out var sockets))
        {
            return;
        }
        sockets.Remove(socket);
        if (sockets.IsEmpty)
        {
            // A socket accepted between the look and the removal would be lost with the entry: put it back.
            if (_objects.TryRemove(new KeyValuePair<DurableObjectId, ObjectSockets>(id, sockets)) && !sockets.IsEmpty)
            {
                foreach (var survivor in sockets.Snapshot())
                {
                    For(id).Add(survivor);
                }
            }
        }
    }

    /// <summary>Every accepted socket of the namespace; for closing them when the server stops.</summary>
    public IEnumerable<HostedWebSocket> All() => _objects.Values.SelectMany(static sockets => sockets.Snapshot());

    /// <summary>How many accepted sockets are open; for tests and benchmarks.</summary>
    public int Count => _objects.Values.Sum(static sockets => sockets.Open(null).Count);
}
