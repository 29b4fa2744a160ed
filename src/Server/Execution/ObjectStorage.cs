using SourceGenDO.Server.Storage;

namespace SourceGenDO.Server.Execution;

/// <summary>
/// One instance's storage: a write-back cache in front of the backend, and the gates around it. Reads
/// the cache can answer complete at once; a read it cannot answer closes the input gate until the backend
/// answers. Writes land in the cache at once and in the open batch, which is handed to the group committer
/// after the current work item (so writes with no <c>await</c> between them commit together); until that
/// commit is durable the output gate is closed (<see cref="PendingWrites"/>).
/// </summary>
/// <remarks>
/// Object code calls in on the instance's scheduler; commit completions and the server's cache budget
/// come from other threads, so the entries and the batch state are guarded by one lock. A failed commit
/// breaks the storage for good and resets the instance (SPEC.md section 5).
/// </remarks>
internal sealed class ObjectStorage : IObjectStorageCore
{
    private readonly object _sync = new();
    private readonly Dictionary<string, CacheEntry> _entries = new(StringComparer.Ordinal);
    private readonly ObjectActivation _activation;
    private readonly StorageContext _context;
    private readonly ObjectAddress _address;
    // Completes when the previous instance of this object has no commit in flight: reading the backend
    // before then could miss writes it still makes durable.
    private readonly Task _predecessor;
    private ObjectWriteBatch? _open;
    private TaskCompletionSource? _openDone;
    // True when the open batch's flush found a commit of this object still in flight: the batch stays
    // open, later writes join it, and it is handed over when that commit completes (see Flush).
    private bool _flushDeferred;
    private long _openSequence;
    private long _nextSequence;
    private Task _lastCommit = Task.CompletedTask;
    private int _commitsInFlight;
    private int _deleteAllsInFlight;
    private int _readsInFlight;
    // Bumped by every DeleteAll: a backend answer read across one is stale.
    private long _deleteAllGeneration;
    // True when the cache knows every entry (after DeleteAll): a key it does not hold has no value.
    private bool _complete;
    private DateTimeOffset? _alarm;
    private bool _alarmKnown;
    private DurableObjectException? _broken;
    // What PendingWrites returns once broken: made once, not on every look of the output gate.
    private Task? _brokenTask;
    private bool _dropped;
    private readonly Func<bool> _isBroken;

    public ObjectStorage(ObjectActivation activation, StorageContext context, Task predecessor)
    {
        _activation = activation;
        _context = context;
        _address = new ObjectAddress(activation.Namespace, activation.Id.ToString());
        _isBroken = () => Volatile.Read(ref _broken) is not null;
        _predecessor = predecessor.IsCompletedSuccessfully ? context.Ready : Task.WhenAll(predecessor, context.Ready);
    }

    /// <summary>Null when every write so far is durable; else the task of the latest one (faulted when storage broke).</summary>
    public Task? PendingWrites
    {
        get
        {
            lock (_sync)
            {
                if (_broken is { } broken)
                {
                    return _brokenTask ??= Task.FromException(broken);
                }
                if (_openDone is { } open)
                {
                    return open.Task;
                }
                return _lastCommit.IsCompleted ? null : _lastCommit;
            }
        }
    }

    /// <summary>True when no write is waiting or in flight: the instance may be evicted without losing one.</summary>
    public bool IsSettled
    {
        get
        {
            lock (_sync)
            {
                return _open is null && _commitsInFlight == 0;
            }
        }
    }

    /// <summary>Completes when the commits this storage handed out are finished, however they ended.</summary>
    public Task WhenSettled
    {
        get
        {
            lock (_sync)
            {
                return _lastCommit.IsCompleted ? Task.CompletedTask : _lastCommit.ContinueWith(static _ => { }, TaskScheduler.Default);
            }
        }
    }

    public ValueTask<byte[]?[]> GetAsync(IReadOnlyList<string> keys)
    {
        var values = new byte[]?[keys.Count];
        List<string>? missing = null;
        lock (_sync)
        {
            ThrowIfBroken();
            for (var i = 0; i < keys.Count; i++)
            {
                if (_entries.TryGetValue(keys[i], out var entry))
                {
                    entry.Referenced = true;
                    values[i] = entry.Value;
                }
                else if (!_complete)
                {
                    (missing ??= []).Add(keys[i]);
                }
            }
        }
        return missing is null ? new(values) : new(ReadAsync(keys, missing, values, deleting: false));
    }

    public ValueTask<int> DeleteAsync(IReadOnlyList<string> keys)
    {
        List<string>? missing = null;
        lock (_sync)
        {
            ThrowIfBroken();
            if (!_complete)
            {
                foreach (var key in keys)
                {
                    if (!_entries.ContainsKey(key))
                    {
                        (missing ??= []).Add(key);
                    }
                }
            }
            if (missing is null)
            {
                return new(DeleteKnown(keys));
            }
        }
        return new(DeleteAfterReadAsync(keys, missing));
    }

    private async Task<int> DeleteAfterReadAsync(IReadOnlyList<string> keys, List<string> missing)
    {
        await ReadAsync(keys, missing, new byte[]?[keys.Count], deleting: true).ConfigureAwait(true);
        lock (_sync)
        {
            ThrowIfBroken();
            return DeleteKnown(keys);
        }
    }

    // Under the lock, every key in the cache (or the cache complete).
    private int DeleteKnown(IReadOnlyList<string> keys)
    {
        var deleted = 0;
        var writes = new List<KeyValuePair<string, byte[]?>>(keys.Count);
        foreach (var key in keys.Distinct(StringComparer.Ordinal))
        {
            if (_entries.TryGetValue(key, out var entry) && entry.Value is not null)
            {
                deleted++;
            }
            writes.Add(new(key, null));
        }
        WriteLocked(writes);
        return deleted;
    }

    /// <summary>
    /// Reads <paramref name="missing"/> from the backend with the input gate closed; entries written
    /// meanwhile win over what the backend returned.
    /// </summary>
    private async Task<byte[]?[]> ReadAsync(IReadOnlyList<string> keys, List<string> missing, byte[]?[] values, bool deleting)
    {
        var result = await GatedReadAsync(
            async () =>
            {
                await _predecessor.ConfigureAwait(false);
                return await _context.Backend.GetAsync(_address, missing, _context.Stopping).ConfigureAwait(false);
            },
            (stored, deletedAllSince) =>
            {
                for (var i = 0; i < missing.Count; i++)
                {
                    if (!_entries.ContainsKey(missing[i]))
                    {
                        AddClean(missing[i], deletedAllSince ? null : stored[i]);
                    }
                }
                for (var i = 0; i < keys.Count; i++)
                {
                    if (_entries.TryGetValue(keys[i], out var entry))
                    {
                        values[i] = entry.Value;
                    }
                }
                return values;
            }).ConfigureAwait(true);
        if (!deleting)
        {
            // Not while deleting: the entries just read must still be there when the delete counts them.
            _context.Budget.Trim();
        }
        return result;
    }

    /// <summary>
    /// Runs <paramref name="read"/> against the backend with the input gate closed, and hands its answer to
    /// <paramref name="take"/> under the lock, on the instance's scheduler, with whether a
    /// <c>DeleteAll</c> was made meanwhile (which makes the backend's answer stale). The gate opens after
    /// the caller's continuation, so the caller runs before the next event. While the read is out, the
    /// budget evicts nothing of this cache: an entry written and committed meanwhile must not be replaced
    /// by the backend's older answer.
    /// </summary>
    private async Task<TResult> GatedReadAsync<TStored, TResult>(Func<Task<TStored>> read, Func<TStored, bool, TResult> take)
    {
        var scheduler = _activation.Scheduler;
        if (SynchronizationContext.Current != scheduler)
        {
            throw new InvalidOperationException(
                "Ctx.Storage was used outside the durable object's own code (after ConfigureAwait(false), or from a timer or another thread). Use it from the object's methods, where every await returns to the instance.");
        }
        scheduler.CloseInputGate();
        long generation;
        lock (_sync)
        {
            _readsInFlight++;
            generation = _deleteAllGeneration;
        }
        try
        {
            TStored stored;
            try
            {
                stored = await read().ConfigureAwait(true);
            }
            catch
            {
                lock (_sync)
                {
                    _readsInFlight--;
                }
                throw;
            }
            lock (_sync)
            {
                _readsInFlight--;
                ThrowIfBroken();
                return take(stored, generation != _deleteAllGeneration);
            }
        }
        finally
        {
            scheduler.OpenInputGateLater();
        }
    }

    public void Write(IReadOnlyList<KeyValuePair<string, byte[]?>> entries)
    {
        lock (_sync)
        {
            ThrowIfBroken();
            WriteLocked(entries);
        }
        _context.Budget.Trim();
    }

    private void WriteLocked(IReadOnlyList<KeyValuePair<string, byte[]?>> entries)
    {
        var batch = OpenBatch();
        foreach (var (key, value) in entries)
        {
            batch.Writes[key] = value;
            batch.Bytes += key.Length * 2L + (value?.Length ?? 0);
            if (_entries.TryGetValue(key, out var entry))
            {
                _context.Budget.Resize(entry.Size, CacheEntry.SizeOf(key, value));
                entry.Value = value;
                entry.Size = CacheEntry.SizeOf(key, value);
            }
            else
            {
                entry = new CacheEntry(key, value);
                _entries.Add(key, entry);
                _context.Budget.Add(this, entry);
            }
            entry.DirtyUntil = _openSequence;
            entry.Referenced = true;
        }
    }

    public async ValueTask<IReadOnlyList<KeyValuePair<string, byte[]>>> ListAsync(ListOptions options)
    {
        List<KeyValuePair<string, byte[]?>> overlay;
        bool complete;
        lock (_sync)
        {
            ThrowIfBroken();
            complete = _complete;
            overlay = [];
            foreach (var entry in _entries.Values)
            {
                if (KeyRange.Contains(options, entry.Key))
                {
                    overlay.Add(new(entry.Key, entry.Value));
                }
            }
        }
        if (complete)
        {
            return KeyRange.Merge(options, [], overlay);
        }
        var deleted = overlay.Count(static pair => pair.Value is null);
        var widened = options.Widen(deleted);
        return await GatedReadAsync(
            async () =>
            {
                await _predecessor.ConfigureAwait(false);
                return await _context.Backend.ListAsync(_address, widened, _context.Stopping).ConfigureAwait(false);
            },
            (stored, deletedAllSince) =>
            {
                // The cache as it is now, at least as new as the overlay gathered before the read.
                overlay.Clear();
                foreach (var entry in _entries.Values)
                {
                    if (KeyRange.Contains(options, entry.Key))
                    {
                        overlay.Add(new(entry.Key, entry.Value));
                    }
                }
                return KeyRange.Merge(options, deletedAllSince || _complete ? [] : stored, overlay);
            }).ConfigureAwait(true);
    }

    public ValueTask<DateTimeOffset?> GetAlarmAsync()
    {
        lock (_sync)
        {
            ThrowIfBroken();
            if (_alarmKnown || _complete)
            {
                return new(_alarm);
            }
        }
        return new(ReadAlarmAsync());
    }

    private Task<DateTimeOffset?> ReadAlarmAsync() => GatedReadAsync(
        async () =>
        {
            await _predecessor.ConfigureAwait(false);
            return await _context.Backend.GetAlarmAsync(_address, _context.Stopping).ConfigureAwait(false);
        },
        (stored, deletedAllSince) =>
        {
            if (!_alarmKnown)
            {
                _alarm = deletedAllSince ? null : stored;
                _alarmKnown = true;
            }
            return _alarm;
        });

    public void SetAlarm(DateTimeOffset? time)
    {
        lock (_sync)
        {
            ThrowIfBroken();
            var batch = OpenBatch();
            batch.AlarmChanged = true;
            batch.Alarm = time;
            _alarm = time;
            _alarmKnown = true;
        }
    }

    public void DeleteAll()
    {
        lock (_sync)
        {
            ThrowIfBroken();
            var batch = OpenBatch();
            batch.DeleteAll = true;
            batch.Writes.Clear();
            batch.AlarmChanged = false;
            batch.Alarm = null;
            batch.Bytes = 0;
            foreach (var entry in _entries.Values)
            {
                _context.Budget.Remove(entry.Size);
            }
            _entries.Clear();
            _complete = true;
            _deleteAllGeneration++;
            _alarm = null;
            _alarmKnown = true;
        }
    }

    public ValueTask SyncAsync() => PendingWrites is { } pending ? new(pending) : ValueTask.CompletedTask;

    /// <summary>The batch writes join until it is handed to the committer; its flush is queued when it opens.</summary>
    private ObjectWriteBatch OpenBatch()
    {
        if (_open is { } open)
        {
            return open;
        }
        _open = new ObjectWriteBatch(_address, _activation.Id.Name);
        // Synchronous continuations: what waits on a batch (held answers, held calls, SyncAsync) only posts
        // to a scheduler, so it may run on the committer's thread.
        _openDone = new TaskCompletionSource();
        _openSequence = ++_nextSequence;
        // Queued behind the work item running now: everything written before the next await joins this batch.
        _activation.Scheduler.Post(static state => ((ObjectStorage)state!).Flush(), this);
        return _open;
    }

    /// <summary>
    /// Hands the open batch to the group committer, or, while a commit of this object is in flight, leaves
    /// it open for the writes still to come until that commit completes.
    /// </summary>
    /// <remarks>
    /// So an object has at most one batch in the committer: the writes of every turn that runs while one
    /// commit is in flight become one batch, with one completion that releases all their held answers,
    /// instead of a batch per turn with its bookkeeping, its statements in the commit and its release each.
    /// The batch is handed over from that commit's completion, before the answers it held are released. The
    /// price: when the batch before it still waits in the committer's queue (the committer busy with another
    /// group), the new writes no longer ride in the same group as it, but in the next one.
    /// </remarks>
    private void Flush()
    {
        ObjectWriteBatch batch;
        TaskCompletionSource done;
        long sequence;
        lock (_sync)
        {
            if (_open is null || _broken is not null)
            {
                return;
            }
            if (_commitsInFlight > 0)
            {
                _flushDeferred = true;
                return;
            }
            _flushDeferred = false;
            batch = _open;
            done = _openDone!;
            sequence = _openSequence;
            _open = null;
            _openDone = null;
            _commitsInFlight++;
            if (batch.DeleteAll)
            {
                _deleteAllsInFlight++;
            }
            _lastCommit = done.Task;
        }
        Task commit;
        try
        {
            commit = _context.Commit(batch, _isBroken);
        }
        catch (Exception e)
        {
            commit = Task.FromException(e);
        }
        commit.ContinueWith(
            static (task, state) => ((CommitCompletion)state!).Storage.Committed(task, (CommitCompletion)state),
            new CommitCompletion(this, batch, done, sequence),
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    private void Committed(Task commit, CommitCompletion completion)
    {
        var batch = completion.Batch;
        if (commit.IsCompletedSuccessfully)
        {
            bool next;
            lock (_sync)
            {
                _commitsInFlight--;
                if (batch.DeleteAll)
                {
                    _deleteAllsInFlight--;
                }
                foreach (var key in batch.Writes.Keys)
                {
                    if (_entries.TryGetValue(key, out var entry) && entry.DirtyUntil == completion.Sequence)
                    {
                        entry.DirtyUntil = 0;
                    }
                }
                next = _flushDeferred && _commitsInFlight == 0;
            }
            if (next)
            {
                Flush();
            }
            if (batch.AlarmChanged || batch.DeleteAll)
            {
                _context.AlarmChanged();
            }
            completion.Done.TrySetResult();
            return;
        }
        var cause = commit.Exception?.GetBaseException() ?? new OperationCanceledException("The commit was canceled.");
        var error = cause as DurableObjectException is { DurableObjectReset: true } reset
            ? reset
            : new DurableObjectException(cause.Message, cause) { DurableObjectReset = true, DurableObjectId = _activation.Id };
        lock (_sync)
        {
            _commitsInFlight--;
            _broken ??= error;
        }
        completion.Done.TrySetException(_broken);
        _activation.Reset(_broken, fromStorage: true);
    }

    /// <summary>Breaks the storage because the instance was reset: later calls fail with <paramref name="error"/>; writes not yet handed out are dropped.</summary>
    public void Break(DurableObjectException error)
    {
        TaskCompletionSource? open;
        lock (_sync)
        {
            _broken ??= error;
            open = _openDone;
            _open = null;
            _openDone = null;
        }
        open?.TrySetException(error);
        Drop();
    }

    /// <summary>Gives the cache's bytes back to the server's budget; called when the instance goes.</summary>
    public void Drop()
    {
        lock (_sync)
        {
            if (_dropped)
            {
                return;
            }
            _dropped = true;
            foreach (var entry in _entries.Values)
            {
                _context.Budget.Remove(entry.Size);
            }
            _entries.Clear();
        }
    }

    /// <summary>Evicts <paramref name="entry"/> if it is clean and unused since the last look; the budget's clock calls it.</summary>
    public EvictResult TryEvict(CacheEntry entry)
    {
        lock (_sync)
        {
            if (_dropped || !_entries.TryGetValue(entry.Key, out var current) || !ReferenceEquals(current, entry))
            {
                return EvictResult.Gone;
            }
            if (entry.DirtyUntil != 0 || _readsInFlight > 0 || _deleteAllsInFlight > 0)
            {
                return EvictResult.Kept;
            }
            if (entry.Referenced)
            {
                entry.Referenced = false;
                return EvictResult.Kept;
            }
            _entries.Remove(entry.Key);
            _complete = false;
            _context.Budget.Remove(entry.Size);
            return EvictResult.Evicted;
        }
    }

    private void AddClean(string key, byte[]? value)
    {
        var entry = new CacheEntry(key, value) { Referenced = true };
        _entries.Add(key, entry);
        _context.Budget.Add(this, entry);
    }

    private void ThrowIfBroken()
    {
        if (_broken is { } broken)
        {
            throw broken;
        }
        if (_context.IsStopped)
        {
            throw new DurableObjectException(StorageContext.NoLongerAccessible) { DurableObjectId = _activation.Id };
        }
    }

    private sealed record CommitCompletion(ObjectStorage Storage, ObjectWriteBatch Batch, TaskCompletionSource Done, long Sequence);
}

/// <summary>One key the cache knows: its value, or null when the key has none.</summary>
internal sealed class CacheEntry(string key, byte[]? value)
{
    // What the dictionary, the entry and the key's characters cost beyond the value.
    private const int Overhead = 96;

    public string Key { get; } = key;

    public byte[]? Value { get; set; } = value;

    public long Size { get; set; } = SizeOf(key, value);

    /// <summary>The sequence of the batch that last wrote the entry while it is not yet durable; 0 when clean.</summary>
    public long DirtyUntil { get; set; }

    /// <summary>Set on use, cleared by the budget's clock: an entry is evicted only after a full round unused.</summary>
    public bool Referenced { get; set; }

    public static long SizeOf(string key, byte[]? value) => Overhead + key.Length * 2L + (value?.Length ?? 0);
}

/// <summary>What the budget's clock found when it tried to evict an entry.</summary>
internal enum EvictResult
{
    Evicted,
    Kept,
    Gone,
}
