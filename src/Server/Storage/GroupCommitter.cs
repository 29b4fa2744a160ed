using Microsoft.Extensions.Logging;
using SourceGenDO.Server.Health;
using SourceGenDO.Diagnostics;

namespace SourceGenDO.Server.Storage;

/// <summary>
/// The group commit of one server: object instances hand it their write batches, and one loop commits
/// everything queued by then in one <see cref="IStorageBackend.CommitAsync"/>, so the writes of many
/// objects that become ready together cost one disk sync.
/// </summary>
/// <remarks>
/// <para>
/// Order: batches are committed in the order they were queued, one commit at a time, so a batch queued
/// after another is never durable before it (and the backend applies one object's batches of one commit
/// in that order). An empty batch is queued like any other, so it completes when every batch queued
/// before it is durable: the way to wait for what is already queued.
/// </para>
/// <para>
/// Failure: when a commit fails, nothing in it was applied, every batch in it faults with the backend's
/// exception, and so does every batch of the same objects still queued behind it (their writes were made
/// on top of the failed ones). The failure is logged as an error; later batches are committed as usual.
/// </para>
/// <para>
/// Bounds (<see cref="GroupCommitLimits"/>): one commit takes at most so many batches and bytes, and at
/// most so many batches and bytes may wait. Past the waiting bound a new batch fails at once with
/// <see cref="DurableObjectException.Overloaded"/> instead of waiting: a writer's results are held by
/// its output gate until its batch is durable anyway, so waiting would only hide the overload as latency
/// while the waiting writes kept growing; failing resets the writer's instance and its callers see a
/// clear overload error, as a full per-object queue does.
/// </para>
/// </remarks>
internal sealed class GroupCommitter
{
    /// <summary>The error of a batch given after <see cref="StopAsync"/> (SPEC.md section 8).</summary>
    public const string StoppedMessage = "Durable Object storage is no longer accessible.";

    /// <summary>The error of a batch given while too much waits for a commit.</summary>
    public const string OverloadedMessage = "Durable Object storage is overloaded. Too many writes are waiting to be committed.";

    private readonly IStorageBackend _backend;
    private readonly ILogger _logger;
    private readonly GroupCommitLimits _limits;
    private readonly Lock _lock = new();
    // Bounded by _limits.MaxQueuedBatches and MaxQueuedBytes, enforced in CommitAsync.
    private readonly Queue<QueuedBatch> _queue = new();
    // Wakes the loop's thread: a kernel event, so that waking it involves no thread-pool worker (whose
    // wake-ups and spinning cost more CPU than a commit's bookkeeping); a set that finds it set is dropped.
    private readonly AutoResetEvent _wake = new(false);
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _queuedBytes;
    private bool _stopping;

    public GroupCommitter(IStorageBackend backend, ILogger logger, GroupCommitLimits? limits = null)
    {
        _backend = backend;
        _logger = logger;
        _limits = limits ?? new GroupCommitLimits();
        new Thread(Run) { IsBackground = true, Name = "SourceGenDO group commit" }.Start();
    }

    /// <summary>What the commits did, for the storage health check.</summary>
    public CommitOutcomes Outcomes { get; } = new();

    /// <summary>
    /// Queues <paramref name="batch"/> for the next commit. The task completes when the batch is durable;
    /// faults with the backend's exception when its commit failed, with an overload error when too much
    /// is waiting, and with <see cref="StoppedMessage"/> after <see cref="StopAsync"/>; and is canceled
    /// when <paramref name="isCancelled"/> returns true at the moment its commit is put together (the
    /// batch is then dropped, not applied: for a batch whose instance was reset meanwhile).
    /// </summary>
    public Task CommitAsync(ObjectWriteBatch batch, Func<bool>? isCancelled = null)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var queued = new QueuedBatch(batch, SizeOf(batch), isCancelled);
        lock (_lock)
        {
            if (_stopping)
            {
                return Task.FromException(new DurableObjectException(StoppedMessage));
            }
            // The first batch is taken whatever its size, so that one large batch is never refused forever.
            if (_queue.Count > 0
                && (_queue.Count >= _limits.MaxQueuedBatches || _queuedBytes + queued.Bytes > _limits.MaxQueuedBytes))
            {
                return Task.FromException(new DurableObjectException(OverloadedMessage) { Overloaded = true });
            }
            _queue.Enqueue(queued);
            _queuedBytes += queued.Bytes;
        }
        _wake.Set();
        return queued.Completion.Task;
    }

    /// <summary>
    /// Refuses new batches from now on (with <see cref="StoppedMessage"/>), commits everything queued, and
    /// completes when that is done (a failed commit faults its batches, not this task).
    /// </summary>
    public Task StopAsync()
    {
        lock (_lock)
        {
            _stopping = true;
        }
        _wake.Set();
        return _stopped.Task;
    }

    // The loop, on a dedicated thread: it waits for work on a kernel event and for each commit on the
    // commit's wait handle, so between commits it neither spins nor holds a thread-pool thread.
    private void Run()
    {
        var group = new List<QueuedBatch>();
        var batches = new List<ObjectWriteBatch>();
        try
        {
            while (true)
            {
                bool stop;
                lock (_lock)
                {
                    Take(group);
                    stop = group.Count == 0 && _stopping;
                }
                if (stop)
                {
                    return;
                }
                if (group.Count == 0)
                {
                    _wake.WaitOne();
                    continue;
                }
                Commit(group, batches);
                group.Clear();
                batches.Clear();
            }
        }
        catch (Exception e)
        {
            // Not a failed commit (CommitAsync handles those) but a bug in this loop: nothing more can be
            // committed, so fail what waits rather than leave it hanging.
            _logger.LogCritical(e, "The durable object group committer stopped on an unexpected error; storage writes fail from now on.");
            Outcomes.RecordFailure(e);
            List<QueuedBatch> abandoned;
            lock (_lock)
            {
                _stopping = true;
                abandoned = [.. group, .. _queue];
                _queue.Clear();
                _queuedBytes = 0;
            }
            foreach (var queued in abandoned)
            {
                queued.Completion.TrySetException(e);
            }
        }
        finally
        {
            _stopped.TrySetResult();
        }
    }

    // Under _lock: moves the next group, in queue order and within the per-commit bounds, into group.
    private void Take(List<QueuedBatch> group)
    {
        long bytes = 0;
        while (_queue.TryPeek(out var next)
            && group.Count < _limits.MaxBatchesPerCommit
            && (group.Count == 0 || bytes + next.Bytes <= _limits.MaxBytesPerCommit))
        {
            _queue.Dequeue();
            _queuedBytes -= next.Bytes;
            bytes += next.Bytes;
            group.Add(next);
        }
    }

    private void Commit(List<QueuedBatch> group, List<ObjectWriteBatch> batches)
    {
        var kept = new List<QueuedBatch>(group.Count);
        foreach (var queued in group)
        {
            bool cancelled;
            try
            {
                cancelled = queued.IsCancelled?.Invoke() ?? false;
            }
            catch (Exception e)
            {
                queued.Completion.TrySetException(e);
                continue;
            }
            if (cancelled)
            {
                queued.Completion.TrySetCanceled();
                continue;
            }
            kept.Add(queued);
            batches.Add(queued.Batch);
        }
        if (batches.Count == 0)
        {
            return;
        }
        var started = StorageTelemetry.Begin();
        try
        {
            WaitFor(_backend.CommitAsync(batches, CancellationToken.None));
        }
        catch (Exception e)
        {
            StorageTelemetry.End(started, failed: true);
            _logger.LogError(e, "Committing {Batches} durable object write batches failed; none of them was applied, and their objects' callers get this error.", batches.Count);
            Outcomes.RecordFailure(e);
            foreach (var queued in kept)
            {
                queued.Completion.TrySetException(e);
            }
            FailQueuedBehind(kept, e);
            return;
        }
        Outcomes.RecordSuccess();
        StorageTelemetry.End(started, failed: false);
        foreach (var queued in kept)
        {
            queued.Completion.TrySetResult();
        }
    }

    // Blocks this thread until the backend's commit completes (at once for SQLite, which commits on the
    // calling thread), on the task's kernel wait handle: Task.Wait spins first (sched_yield), and a wait
    // about a disk sync long would take a core from the instances and the network for nothing.
    private static void WaitFor(ValueTask pending)
    {
        if (!pending.IsCompleted)
        {
            var task = pending.AsTask();
            ((IAsyncResult)task).AsyncWaitHandle.WaitOne();
            task.GetAwaiter().GetResult();
            return;
        }
        pending.GetAwaiter().GetResult();
    }

    // The batches of the failed objects still queued were written on top of the failed writes: committing
    // them alone would store later writes without earlier ones, so they fail too.
    private void FailQueuedBehind(List<QueuedBatch> failed, Exception error)
    {
        var objects = failed.Select(static queued => queued.Batch.Address).ToHashSet();
        var dropped = new List<QueuedBatch>();
        lock (_lock)
        {
            var count = _queue.Count;
            for (var i = 0; i < count; i++)
            {
                var queued = _queue.Dequeue();
                if (objects.Contains(queued.Batch.Address))
                {
                    _queuedBytes -= queued.Bytes;
                    dropped.Add(queued);
                }
                else
                {
                    _queue.Enqueue(queued);
                }
            }
        }
        foreach (var queued in dropped)
        {
            queued.Completion.TrySetException(error);
        }
    }

    // The caller's count when it gave one; otherwise keys (as UTF-16 code units) plus values.
    private static long SizeOf(ObjectWriteBatch batch)
    {
        if (batch.Bytes > 0)
        {
            return batch.Bytes;
        }
        long bytes = 0;
        foreach (var (key, value) in batch.Writes)
        {
            bytes += key.Length + (value?.Length ?? 0);
        }
        return bytes;
    }

    private sealed class QueuedBatch(ObjectWriteBatch batch, long bytes, Func<bool>? isCancelled)
    {
        public ObjectWriteBatch Batch { get; } = batch;

        public long Bytes { get; } = bytes;

        public Func<bool>? IsCancelled { get; } = isCancelled;

        // Continuations run on the committer's thread as it completes the group: they are the instances'
        // commit bookkeeping, which only takes a lock and posts to the instance, and running them here
        // saves a thread hop on every acknowledged write.
        public TaskCompletionSource Completion { get; } = new();
    }
}
