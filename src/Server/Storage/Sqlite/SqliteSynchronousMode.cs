namespace SourceGenDO.Server.Storage.Sqlite;

/// <summary>How far a commit of <see cref="SqliteStorageBackend"/> waits for the disk: SQLite's <c>PRAGMA synchronous</c>.</summary>
public enum SqliteSynchronousMode
{
    /// <summary>
    /// Every commit is synced to the disk (an fsync of the write-ahead log, F_FULLFSYNC on macOS) before it
    /// completes, so an acknowledged write survives a crash of the process, of the operating system and a
    /// power loss. The default.
    /// </summary>
    Full,

    /// <summary>
    /// Commits are written to the operating system but synced only at checkpoints: an acknowledged write
    /// survives a crash of the process, and the file is never corrupted, but a crash of the operating
    /// system or a power loss may lose the last commits. Faster where a sync is slow; choose it only when
    /// losing recent writes on a power loss is acceptable.
    /// </summary>
    Normal,
}
