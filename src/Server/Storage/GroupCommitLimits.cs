namespace SourceGenDO.Server.Storage;

/// <summary>The bounds of a <see cref="GroupCommitter"/>: how much one commit takes, and how much may wait for one.</summary>
internal sealed record GroupCommitLimits
{
    /// <summary>The most batches one backend commit takes; the rest wait for the next. Default 10,000.</summary>
    public int MaxBatchesPerCommit { get; init; } = 10_000;

    /// <summary>
    /// The most bytes one backend commit takes (a single larger batch still goes, alone); the rest wait for
    /// the next. Default 32 MiB.
    /// </summary>
    public long MaxBytesPerCommit { get; init; } = 32L * 1024 * 1024;

    /// <summary>
    /// The most batches that may wait for a commit (beside the commit in progress); past it a new batch
    /// fails at once as overloaded. Default 100,000.
    /// </summary>
    public int MaxQueuedBatches { get; init; } = 100_000;

    /// <summary>
    /// The most bytes that may wait for a commit; past it a new batch fails at once as overloaded (a single
    /// larger batch is still taken when nothing waits). Default 256 MiB.
    /// </summary>
    public long MaxQueuedBytes { get; init; } = 256L * 1024 * 1024;
}
