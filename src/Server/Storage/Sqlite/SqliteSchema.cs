using System.Globalization;
using Microsoft.Data.Sqlite;

namespace SourceGenDO.Server.Storage.Sqlite;

/// <summary>
/// The layout of the database file and how values are encoded in it, and how its connections are opened.
/// </summary>
/// <remarks>
/// <c>objects</c> has a row for every object that has keys or an alarm (a row left with neither is
/// deleted, name included): its namespace, id, name and alarm, the alarm as UTC ticks and indexed for the
/// alarm queries. <c>entries</c> holds the keys, as BLOBs of their UTF-8 bytes so that SQLite's BLOB order
/// (memcmp) is the API's key order, clustered by object and key (WITHOUT ROWID), so that one object's
/// range is one contiguous scan.
/// </remarks>
internal static class SqliteSchema
{
    /// <summary>The schema this code writes, kept in <c>PRAGMA user_version</c>.</summary>
    public const int Version = 1;

    private const string CreateTables = """
        CREATE TABLE objects (
            object INTEGER PRIMARY KEY,
            namespace TEXT NOT NULL,
            id TEXT NOT NULL,
            name TEXT,
            alarm INTEGER,
            UNIQUE (namespace, id)
        );
        CREATE INDEX objects_by_alarm ON objects (alarm) WHERE alarm IS NOT NULL;
        CREATE TABLE entries (
            object INTEGER NOT NULL,
            key BLOB NOT NULL,
            value BLOB NOT NULL,
            PRIMARY KEY (object, key)
        ) WITHOUT ROWID;
        """;

    /// <summary>Opens the connection that commits: WAL mode, <paramref name="synchronous"/>, and the schema created or checked.</summary>
    public static SqliteConnection OpenWriter(string path, SqliteSynchronousMode synchronous)
    {
        var connection = Open(path, SqliteOpenMode.ReadWriteCreate);
        try
        {
            var journal = (string?)Scalar(connection, "PRAGMA journal_mode = WAL;");
            if (!string.Equals(journal, "wal", StringComparison.OrdinalIgnoreCase))
            {
                throw new InvalidOperationException($"The SQLite database {path} could not be switched to WAL mode (its journal mode is {journal}); durable object storage needs WAL.");
            }
            Execute(connection, synchronous == SqliteSynchronousMode.Full
                // fullfsync makes the sync a real flush on macOS (F_FULLFSYNC); elsewhere it changes nothing.
                ? "PRAGMA synchronous = FULL; PRAGMA fullfsync = ON; PRAGMA checkpoint_fullfsync = ON;"
                : "PRAGMA synchronous = NORMAL;");
            // After a checkpoint the WAL file is cut back to this size instead of keeping its largest size.
            Execute(connection, "PRAGMA journal_size_limit = 67108864;");
            CreateOrCheck(connection, path);
            return connection;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    /// <summary>Opens a connection that only reads (WAL lets it read while the writer commits).</summary>
    public static SqliteConnection OpenReader(string path)
    {
        var connection = Open(path, SqliteOpenMode.ReadWrite);
        try
        {
            Execute(connection, "PRAGMA query_only = ON;");
            return connection;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    /// <summary>An alarm time as stored: UTC ticks, which keep every <see cref="DateTimeOffset"/> exactly and order as the times do.</summary>
    public static long ToStored(DateTimeOffset time) => time.UtcTicks;

    /// <summary>A stored alarm time back as a UTC <see cref="DateTimeOffset"/>.</summary>
    public static DateTimeOffset FromStored(long ticks) => new(ticks, TimeSpan.Zero);

    /// <summary>A command on <paramref name="connection"/> with named parameters, prepared once and reused.</summary>
    public static SqliteCommand Prepare(SqliteConnection connection, string sql, params ReadOnlySpan<string> parameters)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var name in parameters)
        {
            command.Parameters.Add(new SqliteParameter { ParameterName = name });
        }
        command.Prepare();
        return command;
    }

    private static SqliteConnection Open(string path, SqliteOpenMode mode)
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = mode,
            Cache = SqliteCacheMode.Private,
            // The backend keeps its connections open for its lifetime; without a pool, disposing it closes
            // the files, so the directory can be moved or deleted and the database reopened at once.
            Pooling = false,
        }.ToString());
        connection.Open();
        return connection;
    }

    private static void CreateOrCheck(SqliteConnection connection, string path)
    {
        using var transaction = connection.BeginTransaction();
        var version = Convert.ToInt32(Scalar(connection, "PRAGMA user_version;", transaction), CultureInfo.InvariantCulture);
        if (version == 0)
        {
            Execute(connection, CreateTables + $"PRAGMA user_version = {Version};", transaction);
        }
        else if (version != Version)
        {
            throw new InvalidOperationException($"The SQLite database {path} has storage schema {version}; this server reads schema {Version}. Run the server version that wrote it, or move the file away.");
        }
        transaction.Commit();
    }

    private static object? Scalar(SqliteConnection connection, string sql, SqliteTransaction? transaction = null)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Transaction = transaction;
        return command.ExecuteScalar();
    }

    private static void Execute(SqliteConnection connection, string sql, SqliteTransaction? transaction = null)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Transaction = transaction;
        command.ExecuteNonQuery();
    }
}
