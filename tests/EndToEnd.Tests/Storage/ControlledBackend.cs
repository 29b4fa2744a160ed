using SourceGenDO.Server.Storage;
using SourceGenDO.Server.Storage.InMemory;

namespace SourceGenDO.EndToEnd.Tests.Storage;

/// <summary>
/// A real in-memory backend with doors a test can shut: reads or commits wait while their door is shut,
/// and the next commit can be made to fail. Each door says when something is waiting at it.
/// </summary>
internal sealed class ControlledBackend : IStorageBackend
{
    private readonly InMemoryStorageBackend _inner = new();

    public Door Reads { get; } = new();

    public Door Commits { get; } = new();

    /// <summary>Every commit applied, in order: its batches.</summary>
    public System.Collections.Concurrent.ConcurrentQueue<IReadOnlyList<ObjectWriteBatch>> Applied { get; } = new();

    /// <summary>When set, the next commit throws this and applies nothing.</summary>
    public Exception? FailNextCommit { get; set; }

    public ValueTask OpenAsync(CancellationToken cancellationToken) => _inner.OpenAsync(cancellationToken);

    public async ValueTask<byte[]?[]> GetAsync(ObjectAddress address, IReadOnlyList<string> keys, CancellationToken cancellationToken)
    {
        await Reads.PassAsync().ConfigureAwait(false);
        return await _inner.GetAsync(address, keys, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<IReadOnlyList<KeyValuePair<string, byte[]>>> ListAsync(ObjectAddress address, ListOptions range, CancellationToken cancellationToken)
    {
        await Reads.PassAsync().ConfigureAwait(false);
        return await _inner.ListAsync(address, range, cancellationToken).ConfigureAwait(false);
    }

    public ValueTask<DateTimeOffset?> GetAlarmAsync(ObjectAddress address, CancellationToken cancellationToken) => _inner.GetAlarmAsync(address, cancellationToken);

    public async ValueTask CommitAsync(IReadOnlyList<ObjectWriteBatch> batches, CancellationToken cancellationToken)
    {
        await Commits.PassAsync().ConfigureAwait(false);
        if (FailNextCommit is { } failure)
        {
            FailNextCommit = null;
            throw failure;
        }
        await _inner.CommitAsync(batches, cancellationToken).ConfigureAwait(false);
        Applied.Enqueue([.. batches]);
    }

    public ValueTask<IReadOnlyList<StoredAlarm>> GetAlarmsAsync(DateTimeOffset until, int limit, CancellationToken cancellationToken) =>
        _inner.GetAlarmsAsync(until, limit, cancellationToken);

    public ValueTask<DateTimeOffset?> GetNextAlarmTimeAsync(CancellationToken cancellationToken) => _inner.GetNextAlarmTimeAsync(cancellationToken);

    public ValueTask DisposeAsync() => _inner.DisposeAsync();

    /// <summary>A door that is open until shut; what passes a shut door waits until it opens.</summary>
    internal sealed class Door
    {
        private readonly object _lock = new();
        private TaskCompletionSource? _shut;
        private int _waiting;

        /// <summary>How many operations wait at the door now.</summary>
        public int Waiting => Volatile.Read(ref _waiting);

        public void Shut()
        {
            lock (_lock)
            {
                _shut ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }
        }

        public void Open()
        {
            TaskCompletionSource? shut;
            lock (_lock)
            {
                shut = _shut;
                _shut = null;
            }
            shut?.TrySetResult();
        }

        public async Task PassAsync()
        {
            Task? wait;
            lock (_lock)
            {
                wait = _shut?.Task;
            }
            if (wait is null)
            {
                return;
            }
            Interlocked.Increment(ref _waiting);
            try
            {
                await wait.ConfigureAwait(false);
            }
            finally
            {
                Interlocked.Decrement(ref _waiting);
            }
        }
    }
}
