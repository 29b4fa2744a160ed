using SourceGenDO.Server.Storage;

namespace SourceGenDO.Server.Execution;

/// <summary>What every instance's <see cref="ObjectStorage"/> shares: the backend, the committer, the cache budget and the server's stop.</summary>
internal sealed class StorageContext
{
    /// <summary>SPEC.md section 8: storage used after the server stopped.</summary>
    public const string NoLongerAccessible = "Durable Object storage is no longer accessible.";

    private readonly CancellationTokenSource _stopping = new();
    private volatile bool _stopped;

    public StorageContext(IStorageBackend backend, Func<ObjectWriteBatch, Func<bool>, Task> commit, StorageCacheBudget budget, Action alarmChanged, Task ready)
    {
        Ready = ready;
        Backend = backend;
        Commit = commit;
        Budget = budget;
        AlarmChanged = alarmChanged;
    }

    public IStorageBackend Backend { get; }

    /// <summary>Completes when the backend is open; reads wait for it (it faults when opening failed).</summary>
    public Task Ready { get; }

    /// <summary>
    /// Hands a batch to the group committer; the task completes when it is durable. The committer drops
    /// the batch, uncommitted, if the predicate says its instance was reset before its turn came.
    /// </summary>
    public Func<ObjectWriteBatch, Func<bool>, Task> Commit { get; }

    public StorageCacheBudget Budget { get; }

    /// <summary>Told after a commit that set or deleted an alarm, so the alarm scheduler looks again.</summary>
    public Action AlarmChanged { get; }

    /// <summary>Canceled when the server stops; backend reads in progress end with it.</summary>
    public CancellationToken Stopping => _stopping.Token;

    public bool IsStopped => _stopped;

    /// <summary>From now on storage fails with <see cref="NoLongerAccessible"/>.</summary>
    public void Stop()
    {
        _stopped = true;
        _stopping.Cancel();
    }
}
