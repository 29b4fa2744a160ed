using System.Collections.Concurrent;

namespace SourceGenDO.Server.Http;

/// <summary>
/// The accepted WebSockets of one object and its auto-response. They belong to the object, not to an
/// instance: the namespace keeps them while an idle instance is evicted (hibernation).
/// </summary>
internal sealed class ObjectSockets
{
    private readonly object _lock = new();
    // In the order they were accepted; each socket knows its node, so that removal is O(1).
    private readonly LinkedList<HostedWebSocket> _sockets = new();
    private AutoResponse? _autoResponse;

    /// <summary>The text a matching message is answered with, read without the lock by the receive loops.</summary>
    public AutoResponse? Auto => Volatile.Read(ref _autoResponse);

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

    /// <summary>Adds <paramref name="socket"/> unless the object has <paramref name="max"/> sockets already.</summary>
    public bool TryAdd(HostedWebSocket socket, int max)
    {
        lock (_lock)
        {
            if (_sockets.Count >= max)
            {
                return false;
            }
            socket.Node = _sockets.AddLast(socket);
            return true;
        }
    }

    public void Remove(HostedWebSocket socket)
    {
        lock (_lock)
        {
            if (socket.Node is { } node && node.List == _sockets)
            {
                _sockets.Remove(node);
                socket.Node = null;
            }
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

/// <summary>
/// The <see cref="ObjectSockets"/> of every object of one namespace that has an open socket or a live
/// instance that set an auto-response: an entry goes with the last of both (the next instance's
/// constructor sets its auto-response again, as on Cloudflare), so the table is bounded by the objects
/// in use, not by every object ever constructed.
/// </summary>
internal sealed class NamespaceSockets
{
    // Held while entries are added or removed, so that no socket or auto-response lands in an entry
    // just taken out of the table.
    private readonly object _lock = new();
    private readonly ConcurrentDictionary<DurableObjectId, ObjectSockets> _objects = new();
    private readonly Func<DurableObjectId, bool> _isLive;

    /// <param name="isLive">Whether an object has a live activation.</param>
    public NamespaceSockets(Func<DurableObjectId, bool> isLive) => _isLive = isLive;

    public ObjectSockets? Find(DurableObjectId id) => _objects.GetValueOrDefault(id);

    /// <summary>True when <paramref name="id"/> has an accepted socket still open.</summary>
    public bool HasOpenSockets(DurableObjectId id) => _objects.TryGetValue(id, out var sockets) && sockets.HasOpenSockets;

    /// <summary>How many objects have an entry; for tests.</summary>
    internal int ObjectCount => _objects.Count;

    /// <summary>Adds an accepted socket; false when its object has <paramref name="max"/> open already.</summary>
    public bool TryAdd(DurableObjectId id, HostedWebSocket socket, int max)
    {
        lock (_lock)
        {
            return _objects.GetOrAdd(id, static _ => new ObjectSockets()).TryAdd(socket, max);
        }
    }

    /// <summary>Removes a socket that closed, and the object's entry once it holds nothing in use.</summary>
    public void Remove(DurableObjectId id, HostedWebSocket socket)
    {
        lock (_lock)
        {
            if (_objects.TryGetValue(id, out var sockets))
            {
                sockets.Remove(socket);
                DropIfUnusedLocked(id, sockets);
            }
        }
    }

    /// <summary>Sets (or, with nulls, clears) the auto-response of <paramref name="id"/>.</summary>
    public void SetAutoResponse(DurableObjectId id, string? request, string? response)
    {
        lock (_lock)
        {
            if (request is null)
            {
                if (_objects.TryGetValue(id, out var existing))
                {
                    existing.SetAutoResponse(null, null);
                    DropIfUnusedLocked(id, existing);
                }
                return;
            }
            _objects.GetOrAdd(id, static _ => new ObjectSockets()).SetAutoResponse(request, response);
        }
    }

    /// <summary>The activation of <paramref name="id"/> was evicted or reset: its entry goes unless a socket is open.</summary>
    public void Forget(DurableObjectId id)
    {
        lock (_lock)
        {
            if (_objects.TryGetValue(id, out var sockets))
            {
                DropIfUnusedLocked(id, sockets);
            }
        }
    }

    private void DropIfUnusedLocked(DurableObjectId id, ObjectSockets sockets)
    {
        if (!sockets.HasOpenSockets && (sockets.Auto is null || !_isLive(id)))
        {
            _objects.TryRemove(new KeyValuePair<DurableObjectId, ObjectSockets>(id, sockets));
        }
    }

    /// <summary>Every accepted socket of the namespace; for closing them when the server stops.</summary>
    public IEnumerable<HostedWebSocket> All() => _objects.Values.SelectMany(static sockets => sockets.Snapshot());

    /// <summary>How many accepted sockets are open; for tests and benchmarks.</summary>
    public int Count => _objects.Values.Sum(static sockets => sockets.Open(null).Count);
}
