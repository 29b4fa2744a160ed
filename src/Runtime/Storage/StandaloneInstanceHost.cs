namespace SourceGenDO;

/// <summary>
/// The host of an instance constructed outside a server (<c>new Counter(new DurableObjectState(id))</c> in a
/// unit test): storage in a sorted dictionary, with no gates to close, as every write is "durable" at once.
/// </summary>
internal sealed class StandaloneInstanceHost : IInstanceHost, IObjectStorageCore
{
    private readonly SortedDictionary<string, byte[]> _entries = new(Utf8KeyComparer.Instance);
    private readonly object _lock = new();
    private DateTimeOffset? _alarm;

    public IObjectStorageCore Storage => this;

    public Task<T> RunExclusiveAsync<T>(Func<Task<T>> body, bool resetOnFailure) => body();

    public void Reset(DurableObjectException error) => throw error;

    // Sockets come only from a server's routes: outside one there is none to accept.
    public void AcceptWebSocket(DurableWebSocket socket, string[] tags) =>
        throw new InvalidOperationException("WebSockets are accepted only by an object hosted in a server, through a route (app.MapDurableObjectRoute).");

    public IReadOnlyList<DurableWebSocket> GetWebSockets(string? tag) => [];

    public void SetWebSocketAutoResponse(string? request, string? response)
    {
    }

    public ValueTask<byte[]?[]> GetAsync(IReadOnlyList<string> keys)
    {
        lock (_lock)
        {
            return new(keys.Select(key => _entries.GetValueOrDefault(key)).ToArray());
        }
    }

    public void Write(IReadOnlyList<KeyValuePair<string, byte[]?>> entries)
    {
        lock (_lock)
        {
            foreach (var (key, value) in entries)
            {
                if (value is null)
                {
                    _entries.Remove(key);
                }
                else
                {
                    _entries[key] = value;
                }
            }
        }
    }

    public ValueTask<int> DeleteAsync(IReadOnlyList<string> keys)
    {
        lock (_lock)
        {
            return new(keys.Distinct(StringComparer.Ordinal).Count(_entries.Remove));
        }
    }

    public ValueTask<IReadOnlyList<KeyValuePair<string, byte[]>>> ListAsync(ListOptions options)
    {
        lock (_lock)
        {
            return new(KeyRange.Merge(options, [], _entries.Select(static pair => new KeyValuePair<string, byte[]?>(pair.Key, pair.Value))));
        }
    }

    public ValueTask<DateTimeOffset?> GetAlarmAsync() => new(_alarm);

    public void SetAlarm(DateTimeOffset? time) => _alarm = time;

    public void DeleteAll()
    {
        lock (_lock)
        {
            _entries.Clear();
            _alarm = null;
        }
    }

    public ValueTask SyncAsync() => ValueTask.CompletedTask;
}
