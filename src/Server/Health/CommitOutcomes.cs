namespace SourceGenDO.Server.Health;

/// <summary>
/// What the group committer's commits did, for the storage health check: how many succeeded and failed,
/// and the error of the last one when it failed. Written by the committer's one thread, read by any.
/// </summary>
internal sealed class CommitOutcomes
{
    private long _succeeded;
    private long _failed;
    // Null after a commit that succeeded (or before any commit).
    private CommitFailure? _lastFailure;

    public long Succeeded => Volatile.Read(ref _succeeded);

    public long Failed => Volatile.Read(ref _failed);

    /// <summary>The last commit's failure, or null when it succeeded.</summary>
    public CommitFailure? LastFailure => Volatile.Read(ref _lastFailure);

    public void RecordSuccess()
    {
        Volatile.Write(ref _succeeded, _succeeded + 1);
        Volatile.Write(ref _lastFailure, null);
    }

    public void RecordFailure(Exception error)
    {
        Volatile.Write(ref _failed, _failed + 1);
        Volatile.Write(ref _lastFailure, new CommitFailure(error, (_lastFailure?.InARow ?? 0) + 1));
    }
}

/// <summary>A failed commit's error, and how many commits in a row have failed with it.</summary>
internal sealed record CommitFailure(Exception Error, long InARow);
