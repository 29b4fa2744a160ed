namespace SourceGenDO.Server.Storage.Sqlite;

/// <summary>Configuration of a <see cref="SqliteStorageBackend"/>.</summary>
public sealed class SqliteStorageOptions
{
    /// <summary>
    /// The directory of the database file (<see cref="SqliteStorageBackend.DatabaseFileName"/>, with its
    /// <c>-wal</c> and <c>-shm</c> files beside it); created when missing. Relative paths are resolved
    /// against the current directory. Default "sgdo-data", the server's data directory.
    /// </summary>
    public string DataDirectory { get; set; } = "sgdo-data";

    /// <summary>
    /// How far a commit waits for the disk. Default <see cref="SqliteSynchronousMode.Full"/>: durable past
    /// a power loss, one sync per commit.
    /// </summary>
    public SqliteSynchronousMode Synchronous { get; set; } = SqliteSynchronousMode.Full;

    /// <summary>
    /// How many connections serve reads at once (reads never wait for a commit: the database runs in WAL
    /// mode, and commits have a connection of their own). A read that finds all of them busy waits for
    /// one. Default 4; at least 1.
    /// </summary>
    public int ReadConnections { get; set; } = 4;
}
