using Microsoft.Data.Sqlite;

namespace SourceGenDO.Server.Storage.Sqlite;

/// <summary>
/// The one connection that writes. Each commit is one transaction, and with
/// <see cref="SqliteSynchronousMode.Full"/> one fsync, which blocks for as long as the disk takes. It runs on
/// the caller's thread: the group committer's dedicated thread, which is there to block (a hand-over to a
/// thread of this class's own cost two thread wake-ups per commit, which on a busy machine took as long as
/// the sync).
/// </summary>
/// <remarks>
/// It remembers the row of each object it wrote recently, and the name stored with it, so that a batch of
/// a known object writes only its entries: rewriting the object's row on every commit made the commit
/// write two pages instead of one, and ran an upsert with <c>RETURNING</c> (a temporary table) each time.
/// </remarks>
internal sealed class SqliteWriter : IDisposable
{
    // The objects remembered; past this the memory is dropped and built again as batches come.
    private const int MaxKnownObjects = 16_384;

    private readonly Lock _lock = new();
    private readonly Dictionary<ObjectAddress, KnownObject> _known = [];
    private readonly SqliteConnection _connection;
    private readonly SqliteCommand _upsertObject;
    private readonly SqliteCommand _putEntry;
    private readonly SqliteCommand _deleteEntry;
    private readonly SqliteCommand _deleteEntries;
    private readonly SqliteCommand _setAlarm;
    private readonly SqliteCommand _forgetIfEmpty;
    private bool _disposed;

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
    }

    /// <summary>What SQLite reports for <c>PRAGMA synchronous</c> on this connection: 2 is FULL, 1 is NORMAL.</summary>
    public int SynchronousLevel { get; }

    /// <summary>
    /// Commits <paramref name="batches"/> in one transaction, on the calling thread, which it blocks for the
    /// sync. Cancellation is honoured until the transaction begins; a commit once begun completes, or fails
    /// and is rolled back.
    /// </summary>
    public void Commit(IReadOnlyList<ObjectWriteBatch> batches, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            if (_disposed)
            {
                throw new ObjectDisposedException(nameof(SqliteStorageBackend), "The SQLite storage backend was disposed; it commits nothing more.");
            }
            cancellationToken.ThrowIfCancellationRequested();
            Apply(batches);
        }
    }

    /// <summary>Waits for a commit in progress, then closes the connection.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }
            _disposed = true;
            _upsertObject.Dispose();
            _putEntry.Dispose();
            _deleteEntry.Dispose();
            _deleteEntries.Dispose();
            _setAlarm.Dispose();
            _forgetIfEmpty.Dispose();
            _connection.Dispose();
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
            // Rows made or deleted by the failed transaction are not there: learn them again.
            _known.Clear();
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
        var obj = RowOf(batch);
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
            if (_forgetIfEmpty.ExecuteNonQuery() > 0)
            {
                _known.Remove(batch.Address);
            }
        }
    }

    // The object's row, made when missing; its stored name updated when the batch brings another one.
    private long RowOf(ObjectWriteBatch batch)
    {
        if (_known.TryGetValue(batch.Address, out var known) && (batch.Name is null || batch.Name == known.Name))
        {
            return known.Row;
        }
        _upsertObject.Parameters["$namespace"].Value = batch.Address.Namespace;
        _upsertObject.Parameters["$id"].Value = batch.Address.Id;
        _upsertObject.Parameters["$name"].Value = (object?)batch.Name ?? DBNull.Value;
        var row = (long)_upsertObject.ExecuteScalar()!;
        if (_known.Count >= MaxKnownObjects)
        {
            _known.Clear();
        }
        // A batch without a name leaves the stored one alone, which this writer may not know: null then
        // means "not known", and the next batch with a name writes it.
        _known[batch.Address] = new KnownObject(row, batch.Name ?? known.Name);
        return row;
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

    private readonly record struct KnownObject(long Row, string? Name);
}
