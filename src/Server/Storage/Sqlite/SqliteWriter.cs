using System.Threading.Channels;
using Microsoft.Data.Sqlite;

namespace SourceGenDO.Server.Storage.Sqlite;

/// <summary>
/// The one connection that writes, and the dedicated thread that runs its commits: each commit is one
/// transaction, and with <see cref="SqliteSynchronousMode.Full"/> one fsync, which blocks for as long as
/// the disk takes. That wait happens on this thread, so it never holds a thread-pool thread (nor waits for
/// one when the pool is busy, which would delay every output gate behind it).
/// </summary>
internal sealed class SqliteWriter : IAsyncDisposable
{
    // Commits waiting for the thread. IStorageBackend's caller commits one group at a time, so one slot is
    // used; a caller that commits more at once waits, asynchronously, for room.
    private readonly Channel<PendingCommit> _queue = Channel.CreateBounded<PendingCommit>(
        new BoundedChannelOptions(4) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly SqliteConnection _connection;
    private readonly SqliteCommand _upsertObject;
    private readonly SqliteCommand _putEntry;
    private readonly SqliteCommand _deleteEntry;
    private readonly SqliteCommand _deleteEntries;
    private readonly SqliteCommand _setAlarm;
    private readonly SqliteCommand _forgetIfEmpty;

    public SqliteWriter(string path, SqliteSynchronousMode synchronous)
    {
        _connection = SqliteSchema.OpenWriter(path, synchronous);
        try
        {
            using (var pragma = _connection.CreateCommand())
            {
                pragma.CommandText = "PRAGMA synchronous;";
                SynchronousLevel = Convert.ToInt32(pragma.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
            }
            // A name given with any batch is kept; a batch without one (null) leaves the stored name alone.
            _upsertObject = SqliteSchema.Prepare(_connection, """
                INSERT INTO objects (namespace, id, name) VALUES ($namespace, $id, $name)
                ON CONFLICT (namespace, id) DO UPDATE SET name = coalesce(excluded.name, objects.name)
                RETURNING object
                """, "$namespace", "$id", "$name");
            _putEntry = SqliteSchema.Prepare(_connection, """
                INSERT INTO entries (object, key, value) VALUES ($object, $key, $value)
                ON CONFLICT (object, key) DO UPDATE SET value = excluded.value
                """, "$object", "$key", "$value");
            _deleteEntry = SqliteSchema.Prepare(_connection,
                "DELETE FROM entries WHERE object = $object AND key = $key", "$object", "$key");
            _deleteEntries = SqliteSchema.Prepare(_connection,
                "DELETE FROM entries WHERE object = $object", "$object");
            _setAlarm = SqliteSchema.Prepare(_connection,
                "UPDATE objects SET alarm = $alarm WHERE object = $object", "$object", "$alarm");
            _forgetIfEmpty = SqliteSchema.Prepare(_connection, """
                DELETE FROM objects WHERE object = $object AND alarm IS NULL
                AND NOT EXISTS (SELECT 1 FROM entries WHERE object = $object)
                """, "$object");
        }
        catch
        {
            _connection.Dispose();
            throw;
        }
        new Thread(Run) { IsBackground = true, Name = "SourceGenDO SQLite commits" }.Start();
    }

    /// <summary>What SQLite reports for <c>PRAGMA synchronous</c> on this connection: 2 is FULL, 1 is NORMAL.</summary>
    public int SynchronousLevel { get; }

    /// <summary>
    /// Commits <paramref name="batches"/> in one transaction on the writer thread. Cancellation is honoured
    /// until the transaction begins; a commit once begun completes, or fails and is rolled back.
    /// </summary>
    public async ValueTask CommitAsync(IReadOnlyList<ObjectWriteBatch> batches, CancellationToken cancellationToken)
    {
        var commit = new PendingCommit(batches, cancellationToken);
        try
        {
            await _queue.Writer.WriteAsync(commit, cancellationToken).ConfigureAwait(false);
        }
        catch (ChannelClosedException)
        {
            throw new ObjectDisposedException(nameof(SqliteStorageBackend), "The SQLite storage backend was disposed; it commits nothing more.");
        }
        await commit.Completion.Task.ConfigureAwait(false);
    }

    /// <summary>Lets the commits already queued finish, then stops the thread and closes the connection.</summary>
    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _stopped.Task.ConfigureAwait(false);
    }

    private void Run()
    {
        try
        {
            var reader = _queue.Reader;
            // A dedicated thread may block: it waits here for the next commit, on a kernel event rather than
            // Task.Wait, which spins (sched_yield) first: between commits that wait is about a disk sync long,
            // and spinning through it took a core from the instances and the network.
            while (KernelWait.Result(reader.WaitToReadAsync()))
            {
                while (reader.TryRead(out var commit))
                {
                    Execute(commit);
                }
            }
        }
        finally
        {
            _upsertObject.Dispose();
            _putEntry.Dispose();
            _deleteEntry.Dispose();
            _deleteEntries.Dispose();
            _setAlarm.Dispose();
            _forgetIfEmpty.Dispose();
            _connection.Dispose();
            _stopped.TrySetResult();
        }
    }

    private void Execute(PendingCommit commit)
    {
        if (commit.Cancellation.IsCancellationRequested)
        {
            commit.Completion.TrySetCanceled(commit.Cancellation);
            return;
        }
        try
        {
            Apply(commit.Batches);
            commit.Completion.TrySetResult();
        }
        catch (Exception e)
        {
            commit.Completion.TrySetException(e);
        }
    }

    private void Apply(IReadOnlyList<ObjectWriteBatch> batches)
    {
        var transaction = _connection.BeginTransaction();
        try
        {
            SetTransaction(transaction);
            foreach (var batch in batches)
            {
                Apply(batch);
            }
            transaction.Commit();
        }
        catch
        {
            try
            {
                // Rolls back unless the failed COMMIT already ended the transaction.
                transaction.Dispose();
            }
            catch (Exception)
            {
                // The error that failed the commit is the one to report.
            }
            throw;
        }
        transaction.Dispose();
    }

    private void Apply(ObjectWriteBatch batch)
    {
        if (batch.IsEmpty)
        {
            return;
        }
        _upsertObject.Parameters["$namespace"].Value = batch.Address.Namespace;
        _upsertObject.Parameters["$id"].Value = batch.Address.Id;
        _upsertObject.Parameters["$name"].Value = (object?)batch.Name ?? DBNull.Value;
        var obj = (long)_upsertObject.ExecuteScalar()!;
        var removed = false;
        if (batch.DeleteAll)
        {
            _deleteEntries.Parameters["$object"].Value = obj;
            _deleteEntries.ExecuteNonQuery();
            SetAlarm(obj, null);
            removed = true;
        }
        foreach (var (key, value) in batch.Writes)
        {
            var command = value is null ? _deleteEntry : _putEntry;
            command.Parameters["$object"].Value = obj;
            command.Parameters["$key"].Value = Utf8Keys.Encode(key);
            if (value is not null)
            {
                command.Parameters["$value"].Value = value;
            }
            command.ExecuteNonQuery();
            removed |= value is null;
        }
        if (batch.AlarmChanged)
        {
            SetAlarm(obj, batch.Alarm);
            removed |= batch.Alarm is null;
        }
        if (removed)
        {
            // Keeps "a row in objects" meaning "an object with keys or an alarm".
            _forgetIfEmpty.Parameters["$object"].Value = obj;
            _forgetIfEmpty.ExecuteNonQuery();
        }
    }

    private void SetAlarm(long obj, DateTimeOffset? time)
    {
        _setAlarm.Parameters["$object"].Value = obj;
        _setAlarm.Parameters["$alarm"].Value = time is { } t ? SqliteSchema.ToStored(t) : DBNull.Value;
        _setAlarm.ExecuteNonQuery();
    }

    private void SetTransaction(SqliteTransaction transaction)
    {
        _upsertObject.Transaction = transaction;
        _putEntry.Transaction = transaction;
        _deleteEntry.Transaction = transaction;
        _deleteEntries.Transaction = transaction;
        _setAlarm.Transaction = transaction;
        _forgetIfEmpty.Transaction = transaction;
    }

    private sealed class PendingCommit(IReadOnlyList<ObjectWriteBatch> batches, CancellationToken cancellation)
    {
        public IReadOnlyList<ObjectWriteBatch> Batches { get; } = batches;

        public CancellationToken Cancellation { get; } = cancellation;

        // Continuations run on the writer thread as the commit completes: the one awaiting it is the group
        // committer, which completes the group's batches (bookkeeping that takes a lock and posts to the
        // instances) and hands over its next group, which this thread then takes without waiting. Running
        // them asynchronously cost a thread-pool hop, a worker's wake-up and its spinning, per commit.
        public TaskCompletionSource Completion { get; } = new();
    }
}
