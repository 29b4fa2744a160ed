using System.Globalization;
using Microsoft.Data.Sqlite;

namespace SourceGenDO.Load.Roles;

/// <summary>
/// The storage cost baseline of the durable benchmark, in process (no network): each call commits one
/// SQLite transaction, an UPSERT that increments the caller's counter row and returns its value, with the
/// store set up as the server's default backend sets up its own (WAL, <c>synchronous=FULL</c>, a file on
/// the same disk). The callers are the scenario's: 1, or 64 in flight over one row or 1,000 rows.
/// </summary>
/// <remarks>
/// With <c>--connections one</c> (the default) every writer awaits its turn on one connection and one
/// prepared statement; with <c>--connections each</c> every caller has its own connection and SQLite's
/// write lock (with its busy handler) serializes them. SQLite commits one writer at a time either way,
/// so one connection is the stronger baseline: no lock contention, no busy waits. README gives both rates.
/// </remarks>
internal static class SqliteTxClientRole
{
    private const string Upsert =
        "INSERT INTO counters (id, value) VALUES ($id, 1) ON CONFLICT (id) DO UPDATE SET value = value + 1 RETURNING value;";

    public static async Task<ScenarioResult> RunAsync(Arguments arguments, Scenario scenario)
    {
        var directory = arguments.Require("data");
        Directory.CreateDirectory(directory);
        var connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = Path.Combine(directory, "baseline.db"),
            Pooling = false,
        }.ToString();
        var perCaller = (arguments.Get("connections") ?? "one") switch
        {
            "one" => false,
            "each" => true,
            var other => throw new ArgumentException($"Unknown --connections \"{other}\": use one or each."),
        };
        // Writers block their thread for the sync; give every caller one so that none waits for the pool to grow.
        ThreadPool.GetMinThreads(out var workers, out var io);
        ThreadPool.SetMinThreads(Math.Max(workers, scenario.Callers + 4), io);

        using (var setup = Open(connectionString))
        {
            Execute(setup, "CREATE TABLE IF NOT EXISTS counters (id INTEGER PRIMARY KEY, value INTEGER NOT NULL);");
        }
        var writers = Enumerable.Range(0, perCaller ? scenario.Callers : 1).Select(_ => new Writer(Open(connectionString))).ToArray();
        var turn = new SemaphoreSlim(1, 1);
        try
        {
            var result = await scenario.RunAsync("sqlite-tx", perCaller
                ? (caller, n) =>
                {
                    writers[caller].Increment(scenario.ObjectFor(caller, n));
                    return Task.CompletedTask;
                }
                : async (caller, n) =>
                {
                    await turn.WaitAsync().ConfigureAwait(false);
                    try
                    {
                        writers[0].Increment(scenario.ObjectFor(caller, n));
                    }
                    finally
                    {
                        turn.Release();
                    }
                },
                arguments.GetDouble("warmup", 2), arguments.GetDouble("seconds", 10), serverPid: null);

            using var check = Open(connectionString);
            using var sum = check.CreateCommand();
            sum.CommandText = "SELECT COALESCE(SUM(value), 0) FROM counters;";
            var stored = Convert.ToInt64(sum.ExecuteScalar(), CultureInfo.InvariantCulture);
            if (stored != result.CompletedCalls)
            {
                throw new InvalidOperationException($"The counter rows hold {stored:N0} increments, but {result.CompletedCalls:N0} calls completed.");
            }
            return result;
        }
        finally
        {
            foreach (var writer in writers)
            {
                writer.Dispose();
            }
        }
    }

    /// <summary>A connection set up as the server's SQLite backend sets up its writer.</summary>
    private static SqliteConnection Open(string connectionString)
    {
        var connection = new SqliteConnection(connectionString);
        connection.Open();
        var journal = ExecuteScalar(connection, "PRAGMA journal_mode = WAL;");
        if (!string.Equals(journal, "wal", StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException($"SQLite refused WAL mode (journal_mode is {journal}).");
        }
        Execute(connection, "PRAGMA synchronous = FULL; PRAGMA busy_timeout = 30000; PRAGMA journal_size_limit = 67108864;");
        if (ExecuteScalar(connection, "PRAGMA synchronous;") != "2")
        {
            throw new InvalidOperationException("SQLite did not take synchronous=FULL.");
        }
        return connection;
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private static string? ExecuteScalar(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToString(command.ExecuteScalar(), CultureInfo.InvariantCulture);
    }

    /// <summary>One connection with its prepared UPSERT; each <see cref="Increment"/> is one committed transaction.</summary>
    private sealed class Writer : IDisposable
    {
        private readonly SqliteConnection _connection;
        private readonly SqliteCommand _command;
        private readonly SqliteParameter _id;

        public Writer(SqliteConnection connection)
        {
            _connection = connection;
            _command = connection.CreateCommand();
            _command.CommandText = Upsert;
            _id = _command.Parameters.Add("$id", SqliteType.Integer);
            _command.Prepare();
        }

        /// <summary>Outside an explicit transaction the statement commits on its own: one transaction, one sync.</summary>
        public long Increment(int row)
        {
            _id.Value = row;
            return (long)_command.ExecuteScalar()!;
        }

        public void Dispose()
        {
            _command.Dispose();
            _connection.Dispose();
        }
    }
}
