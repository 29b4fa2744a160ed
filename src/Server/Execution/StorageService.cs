using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SourceGenDO.Server.Storage;
using SourceGenDO.Server.Storage.Sqlite;

namespace SourceGenDO.Server.Execution;

/// <summary>
/// The server's storage: the backend chosen in <see cref="DurableObjectsOptions"/>, the group committer
/// in front of it, the cache budget, and the alarm scheduler. <see cref="StorageLifetime"/> opens it
/// when the host starts and drains it when the host stops.
/// </summary>
internal sealed class StorageService : IAsyncDisposable
{
    private readonly GroupCommitter _committer;
    private readonly TaskCompletionSource _opened = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private AlarmScheduler? _alarms;

    public StorageService(IOptions<DurableObjectsOptions> options, IServiceProvider services, ILoggerFactory loggers)
    {
        var settings = options.Value;
        ArgumentOutOfRangeException.ThrowIfLessThan(settings.StorageCacheBytes, 0, nameof(DurableObjectsOptions.StorageCacheBytes));
        Logger = loggers.CreateLogger("SourceGenDO.Server.Storage");
        Backend = settings.StorageBackendFactory?.Invoke(services)
            ?? new SqliteStorageBackend(new SqliteStorageOptions { DataDirectory = Path.GetFullPath(settings.DataDirectory) });
        _committer = new GroupCommitter(Backend, Logger);
        Context = new StorageContext(Backend, CommitAfterOpenAsync, new StorageCacheBudget(settings.StorageCacheBytes), OnAlarmChanged, _opened.Task);
    }

    public IStorageBackend Backend { get; }

    public StorageContext Context { get; }

    public ILogger Logger { get; }

    /// <summary>What the committer's commits did, for the storage health check.</summary>
    public Health.CommitOutcomes CommitOutcomes => _committer.Outcomes;

    /// <summary>Completes once the backend is open; reads wait for it.</summary>
    public Task Opened => _opened.Task;

    public async Task OpenAsync(AlarmScheduler alarms, CancellationToken cancellationToken)
    {
        try
        {
            await Backend.OpenAsync(cancellationToken).ConfigureAwait(false);
            _alarms = alarms;
            _opened.TrySetResult();
        }
        catch (Exception e)
        {
            _opened.TrySetException(e);
            throw;
        }
    }

    private Task CommitAfterOpenAsync(ObjectWriteBatch batch, Func<bool> isCancelled)
    {
        return _opened.Task.IsCompletedSuccessfully ? _committer.CommitAsync(batch, isCancelled) : AfterOpen(batch, isCancelled);

        async Task AfterOpen(ObjectWriteBatch batch, Func<bool> isCancelled)
        {
            await _opened.Task.ConfigureAwait(false);
            await _committer.CommitAsync(batch, isCancelled).ConfigureAwait(false);
        }
    }

    private void OnAlarmChanged() => _alarms?.AlarmChanged();

    /// <summary>Commits what is queued, then refuses storage from now on.</summary>
    public async Task StopAsync()
    {
        await _committer.StopAsync().ConfigureAwait(false);
        Context.Stop();
    }

    public async ValueTask DisposeAsync()
    {
        Context.Stop();
        await Backend.DisposeAsync().ConfigureAwait(false);
    }
}
