using SourceGenDO.Server.Storage;
using SourceGenDO.Server.Storage.InMemory;

namespace SourceGenDO.Server.Tests.Storage;

/// <summary>
/// An <see cref="InMemoryStorageBackend"/> that records each commit's batches and can hold or fail the next
/// commits, in the order the test asks for them.
/// </summary>
internal sealed class RecordingBackend
{
    private readonly Lock _lock = new();
    private readonly Queue<Func<ValueTask>> _steps = new();
    private readonly List<ObjectWriteBatch[]> _commits = [];

    public RecordingBackend() => Memory.BeforeCommit = OnCommitAsync;

    public InMemoryStorageBackend Memory { get; } = new();

    /// <summary>The batches of each commit the backend was asked for, in call order.</summary>
    public IReadOnlyList<ObjectWriteBatch[]> Commits
    {
        get
        {
            lock (_lock)
            {
                return [.. _commits];
            }
        }
    }

    /// <summary>Holds the next commit not yet claimed by another step until <see cref="Hold.Release"/>.</summary>
    public Hold HoldNext()
    {
        var hold = new Hold();
        Add(async () =>
        {
            hold.EnteredSource.SetResult();
            await hold.ReleaseSource.Task;
        });
        return hold;
    }

    /// <summary>Fails the next commit not yet claimed by another step with <paramref name="error"/>.</summary>
    public void FailNext(Exception error) => Add(() => ValueTask.FromException(error));

    private void Add(Func<ValueTask> step)
    {
        lock (_lock)
        {
            _steps.Enqueue(step);
        }
    }

    private ValueTask OnCommitAsync(IReadOnlyList<ObjectWriteBatch> batches, CancellationToken cancellationToken)
    {
        Func<ValueTask>? step;
        lock (_lock)
        {
            _commits.Add([.. batches]);
            _steps.TryDequeue(out step);
        }
        return step?.Invoke() ?? ValueTask.CompletedTask;
    }

    public sealed class Hold
    {
        internal TaskCompletionSource EnteredSource { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        internal TaskCompletionSource ReleaseSource { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Completes when the held commit has started.</summary>
        public Task Entered => EnteredSource.Task;

        public void Release() => ReleaseSource.SetResult();
    }
}
