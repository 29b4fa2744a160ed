namespace SourceGenDO.Server.Storage.InMemory;

/// <summary>
/// An <see cref="IStorageBackend"/> that keeps everything in memory, for tests: the semantics of the SQLite
/// backend (keys ordered by their UTF-8 bytes, atomic commits, one alarm and a name per object) without
/// files, so nothing survives the process. Thread-safe; reads copy values out and commits copy them in,
/// so no caller shares an array with the store. <see cref="BeforeCommit"/> lets a test hold or fail a
/// commit.
/// </summary>
/// <remarks>
/// Lists, the object listing and alarm queries scan (an object's keys, or every object), which is fine at test sizes. As in
/// the SQLite backend, an object left with no keys and no alarm is forgotten, its name with it.
/// </remarks>
public sealed class InMemoryStorageBackend : IStorageBackend
{
    private readonly Lock _lock = new();
    private readonly Dictionary<ObjectAddress, StoredObject> _objects = new();
    private int _commits;
    private bool _disposed;

    /// <summary>
    /// A test hook awaited at the start of every <see cref="CommitAsync"/>, before anything is applied: a
    /// hook that waits holds the commit (readers keep seeing the state before it), and a hook that throws
    /// fails it with that exception, applying nothing. Null (the default) commits at once.
    /// </summary>
    public Func<IReadOnlyList<ObjectWriteBatch>, CancellationToken, ValueTask>? BeforeCommit { get; set; }

    /// <summary>How many calls of <see cref="CommitAsync"/> have applied their batches so far.</summary>
    public int Commits => Volatile.Read(ref _commits);

    /// <inheritdoc />
    public ValueTask OpenAsync(CancellationToken cancellationToken)
    {
        ThrowIfDisposed();
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public ValueTask<byte[]?[]> GetAsync(ObjectAddress address, IReadOnlyList<string> keys, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(keys);
        var values = new byte[]?[keys.Count];
        lock (_lock)
        {
            ThrowIfDisposed();
            if (_objects.TryGetValue(address, out var stored))
            {
                for (var i = 0; i < values.Length; i++)
                {
                    values[i] = stored.Entries.TryGetValue(keys[i], out var value) ? value.AsSpan().ToArray() : null;
                }
            }
        }
        return ValueTask.FromResult(values);
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<KeyValuePair<string, byte[]>>> ListAsync(ObjectAddress address, ListOptions range, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(range);
        var entries = new List<KeyValuePair<string, byte[]>>();
        lock (_lock)
        {
            ThrowIfDisposed();
            if (_objects.TryGetValue(address, out var stored))
            {
                var ordered = range.Reverse ? stored.Entries.Reverse() : stored.Entries;
                foreach (var (key, value) in ordered)
                {
                    if (entries.Count == range.Limit)
                    {
                        break;
                    }
                    if (KeyRange.Contains(range, key))
                    {
                        entries.Add(new(key, value.AsSpan().ToArray()));
                    }
                }
            }
        }
        return ValueTask.FromResult<IReadOnlyList<KeyValuePair<string, byte[]>>>(entries);
    }

    /// <inheritdoc />
    public ValueTask<DateTimeOffset?> GetAlarmAsync(ObjectAddress address, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            ThrowIfDisposed();
            return ValueTask.FromResult(_objects.TryGetValue(address, out var stored) ? stored.Alarm : null);
        }
    }

    /// <inheritdoc />
    public async ValueTask CommitAsync(IReadOnlyList<ObjectWriteBatch> batches, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batches);
        ThrowIfDisposed();
        cancellationToken.ThrowIfCancellationRequested();
        if (BeforeCommit is { } hook)
        {
            await hook(batches, cancellationToken).ConfigureAwait(false);
        }
        // Everything the store could refuse is checked before anything is applied, so a refused commit
        // leaves the store as it was: the in-memory equivalent of a rolled-back transaction.
        foreach (var batch in batches)
        {
            Check(batch);
        }
        lock (_lock)
        {
            ThrowIfDisposed();
            foreach (var batch in batches)
            {
                Apply(batch);
            }
            _commits++;
        }
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<StoredAlarm>> GetAlarmsAsync(DateTimeOffset until, int limit, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        var alarms = new List<StoredAlarm>();
        lock (_lock)
        {
            ThrowIfDisposed();
            foreach (var (address, stored) in _objects)
            {
                if (stored.Alarm is { } time && time <= until)
                {
                    alarms.Add(new StoredAlarm(address, stored.Name, time));
                }
            }
        }
        alarms.Sort(static (x, y) =>
        {
            var order = x.Time.CompareTo(y.Time);
            if (order == 0)
            {
                order = string.CompareOrdinal(x.Address.Namespace, y.Address.Namespace);
            }
            return order != 0 ? order : string.CompareOrdinal(x.Address.Id, y.Address.Id);
        });
        if (alarms.Count > limit)
        {
            alarms.RemoveRange(limit, alarms.Count - limit);
        }
        return ValueTask.FromResult<IReadOnlyList<StoredAlarm>>(alarms);
    }

    /// <inheritdoc />
    public ValueTask<DateTimeOffset?> GetNextAlarmTimeAsync(CancellationToken cancellationToken)
    {
        DateTimeOffset? next = null;
        lock (_lock)
        {
            ThrowIfDisposed();
            foreach (var stored in _objects.Values)
            {
                if (stored.Alarm is { } time && (next is null || time < next))
                {
                    next = time;
                }
            }
        }
        return ValueTask.FromResult(next);
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<ListedObject>> ListObjectsAsync(string @namespace, string? afterId, int limit, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(@namespace);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        var objects = new List<ListedObject>();
        lock (_lock)
        {
            ThrowIfDisposed();
            foreach (var (address, stored) in _objects)
            {
                if (address.Namespace == @namespace && (afterId is null || string.CompareOrdinal(address.Id, afterId) > 0))
                {
                    objects.Add(new ListedObject(address.Id, stored.Name, stored.Entries.Count > 0));
                }
            }
        }
        objects.Sort(static (x, y) => string.CompareOrdinal(x.Id, y.Id));
        if (objects.Count > limit)
        {
            objects.RemoveRange(limit, objects.Count - limit);
        }
        return ValueTask.FromResult<IReadOnlyList<ListedObject>>(objects);
    }

    /// <summary>Drops everything; later calls throw <see cref="ObjectDisposedException"/>.</summary>
    public ValueTask DisposeAsync()
    {
        lock (_lock)
        {
            _disposed = true;
            _objects.Clear();
        }
        return ValueTask.CompletedTask;
    }

    private static void Check(ObjectWriteBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(batch.Address.Namespace, "batch.Address.Namespace");
        ArgumentNullException.ThrowIfNull(batch.Address.Id, "batch.Address.Id");
        foreach (var key in batch.Writes.Keys)
        {
            // The SQLite backend stores keys as UTF-8 and refuses one without a UTF-8 form; so does this one.
            Utf8Keys.Encode(key);
        }
    }

    private void Apply(ObjectWriteBatch batch)
    {
        if (batch.IsEmpty)
        {
            return;
        }
        if (!_objects.TryGetValue(batch.Address, out var stored))
        {
            stored = new StoredObject();
            _objects.Add(batch.Address, stored);
        }
        if (batch.Name is not null)
        {
            stored.Name = batch.Name;
        }
        if (batch.DeleteAll)
        {
            stored.Entries.Clear();
            stored.Alarm = null;
        }
        foreach (var (key, value) in batch.Writes)
        {
            if (value is null)
            {
                stored.Entries.Remove(key);
            }
            else
            {
                stored.Entries[key] = value.AsSpan().ToArray();
            }
        }
        if (batch.AlarmChanged)
        {
            stored.Alarm = batch.Alarm;
        }
        if (stored.Entries.Count == 0 && stored.Alarm is null)
        {
            _objects.Remove(batch.Address);
        }
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed, this);

    private sealed class StoredObject
    {
        public string? Name { get; set; }

        public DateTimeOffset? Alarm { get; set; }

        public SortedDictionary<string, byte[]> Entries { get; } = new(Utf8KeyComparer.Instance);
    }
}
