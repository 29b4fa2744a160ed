namespace SourceGenDO.Server.Storage.Sqlite;

/// <summary>
/// The embedded default <see cref="IStorageBackend"/>: one SQLite database file (Microsoft.Data.Sqlite) in
/// a data directory, in WAL mode, with <c>synchronous=FULL</c> by default so that a completed
/// <see cref="CommitAsync"/> is on disk past a power loss (one fsync per commit);
/// <see cref="SqliteStorageOptions.Synchronous"/> may relax it.
/// </summary>
/// <remarks>
/// <para>
/// <b>One shared file, not one file per object</b>, decided by measurement: every commit of a file costs
/// one sync whatever it holds, so a shared file makes the writes of many objects one sync (which is what
/// the group committer hands it), while files per object pay a sync per object, however they are
/// scheduled. Only a shared file can also apply many objects' batches in one atomic transaction, as
/// <see cref="CommitAsync"/> promises, and it needs two or three file handles instead of some per object.
/// Figures from <c>StorageLayoutMeasurement</c> (tests/Server.Tests/Storage; run with
/// <c>SGDO_STORAGE_MEASURE=1</c>): N objects write one key each per round, <c>synchronous=FULL</c>, on a
/// 2-core VM with ext4 on a virtio disk that syncs about 1,000 times a second. Writes per second
/// (SQLite commits, so syncs, per second in brackets):
/// <code>
/// objects   one shared file,          file per object,         file per object,
///           one transaction a round   transactions in turn     all transactions at once
///      10    9,510 (951)                950 (950)               2,540 (2,540)
///     100   32,947 (329)                647 (647)               3,033 (3,033)
///   1,000   54,434 (54)               1,078 (1,078)             3,727 (3,727)
/// </code>
/// With one object both layouts are the same, about 1,000 commits a second.
/// </para>
/// <para>
/// Keys are stored as BLOBs of their UTF-8 bytes, so SQLite's order is the API's; every bound of
/// <see cref="ListOptions"/>, the order and the limit are applied in SQL (a prefix as the byte range from
/// the prefix to the prefix with its last byte incremented). Each object's namespace, id, name and alarm
/// time are a row of their own, the alarm indexed for <see cref="GetAlarmsAsync"/> and
/// <see cref="GetNextAlarmTimeAsync"/>; an object left with no keys and no alarm loses its row.
/// </para>
/// <para>
/// Threads: commits run one after another on one write connection, on the caller's thread, which they
/// block for as long as the disk takes: the group committer's dedicated thread, so a sync neither holds a
/// thread-pool thread nor waits for one when the pool is busy. Reads use a small pool of read connections
/// (<see cref="SqliteStorageOptions.ReadConnections"/>) and run on the caller's thread; WAL lets them
/// read the last committed state while a commit is in progress, so they never wait for one.
/// </para>
/// </remarks>
public sealed class SqliteStorageBackend : IStorageBackend
{
    /// <summary>The database's file name inside <see cref="SqliteStorageOptions.DataDirectory"/>.</summary>
    public const string DatabaseFileName = "objects.db";

    private readonly SqliteStorageOptions _options;
    private SqliteWriter? _writer;
    private SqliteReadPool? _readers;
    private int _disposed;

    /// <summary>Creates the backend; nothing is opened until <see cref="OpenAsync"/>.</summary>
    public SqliteStorageBackend(SqliteStorageOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrWhiteSpace(options.DataDirectory, "options.DataDirectory");
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.ReadConnections, "options.ReadConnections");
        if (!Enum.IsDefined(options.Synchronous))
        {
            throw new ArgumentOutOfRangeException("options.Synchronous", options.Synchronous, "Synchronous must be Full or Normal.");
        }
        _options = options;
        DatabasePath = Path.GetFullPath(Path.Combine(options.DataDirectory, DatabaseFileName));
    }

    /// <summary>The full path of the database file.</summary>
    public string DatabasePath { get; }

    /// <summary>The writer, for tests that check what SQLite was told.</summary>
    internal SqliteWriter Writer => _writer ?? throw NotOpen();

    /// <summary>Creates the data directory and the database when missing, checks its schema, and opens its connections.</summary>
    public ValueTask OpenAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (_writer is not null)
        {
            throw new InvalidOperationException("The SQLite storage backend is already open.");
        }
        cancellationToken.ThrowIfCancellationRequested();
        Directory.CreateDirectory(Path.GetDirectoryName(DatabasePath)!);
        // The writer creates the schema, so it opens first.
        var writer = new SqliteWriter(DatabasePath, _options.Synchronous);
        try
        {
            _readers = new SqliteReadPool(DatabasePath, _options.ReadConnections);
        }
        catch
        {
            writer.Dispose();
            throw;
        }
        _writer = writer;
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public ValueTask<byte[]?[]> GetAsync(ObjectAddress address, IReadOnlyList<string> keys, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(keys);
        return Readers.ReadAsync((address, keys), static (connection, state) => connection.Get(state.address, state.keys), cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<KeyValuePair<string, byte[]>>> ListAsync(ObjectAddress address, ListOptions range, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(range);
        return Readers.ReadAsync((address, range), static (connection, state) => connection.List(state.address, state.range), cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask<DateTimeOffset?> GetAlarmAsync(ObjectAddress address, CancellationToken cancellationToken) =>
        Readers.ReadAsync(address, static (connection, address) => connection.GetAlarm(address), cancellationToken);

    /// <summary>
    /// Makes every batch durable in one SQLite transaction, so one sync for all of them: when it completes
    /// they are on disk (with <see cref="SqliteSynchronousMode.Full"/>); when it throws, the transaction was
    /// rolled back and none of them was applied (a key with no UTF-8 form fails it too). Cancellation is
    /// honoured only until the transaction begins.
    /// </summary>
    /// <remarks>
    /// Runs synchronously, blocking the calling thread for the sync, and returns a completed task: the group
    /// committer calls it from its dedicated thread, and handing the commit to another thread cost two
    /// thread wake-ups per commit.
    /// </remarks>
    public ValueTask CommitAsync(IReadOnlyList<ObjectWriteBatch> batches, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batches);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        try
        {
            (_writer ?? throw NotOpen()).Commit(batches, cancellationToken);
        }
        catch (Exception e)
        {
            return ValueTask.FromException(e);
        }
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<StoredAlarm>> GetAlarmsAsync(DateTimeOffset until, int limit, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        return Readers.ReadAsync((until, limit), static (connection, state) => connection.GetAlarms(state.until, state.limit), cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask<DateTimeOffset?> GetNextAlarmTimeAsync(CancellationToken cancellationToken) =>
        Readers.ReadAsync(0, static (connection, _) => connection.GetNextAlarmTime(), cancellationToken);

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<ListedObject>> ListObjectsAsync(string @namespace, string? afterId, int limit, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(@namespace);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        return Readers.ReadAsync((@namespace, afterId, limit), static (connection, state) => connection.ListObjects(state.@namespace, state.afterId, state.limit), cancellationToken);
    }

    /// <summary>Lets a commit in progress finish, waits for reads in progress, and closes the database.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        _writer?.Dispose();
        if (_readers is { } readers)
        {
            await readers.DisposeAsync().ConfigureAwait(false);
        }
    }

    private SqliteReadPool Readers
    {
        get
        {
            ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
            return _readers ?? throw NotOpen();
        }
    }

    private static InvalidOperationException NotOpen() =>
        new("The SQLite storage backend is not open: call OpenAsync first.");
}
