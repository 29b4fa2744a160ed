using Microsoft.Data.Sqlite;
using SourceGenDO.Server.Storage;
using SourceGenDO.Server.Storage.Sqlite;
using static SourceGenDO.Server.Tests.Storage.Batches;

namespace SourceGenDO.Server.Tests.Storage;

/// <summary>The conformance suite against <see cref="SqliteStorageBackend"/> on a real temporary directory, and what only SQLite does.</summary>
public sealed class SqliteStorageBackendTests : StorageBackendConformance
{
    private static readonly CancellationToken None = CancellationToken.None;
    private readonly TempDirectory _directory = new();

    protected override IStorageBackend CreateBackend() => Create();

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        _directory.Dispose();
    }

    [Fact]
    public async Task KeysNamesAndAlarmsSurviveClosingAndReopening()
    {
        var a = Address("a");
        var time = DateTimeOffset.UnixEpoch.AddDays(3);
        await using (var first = Create())
        {
            await first.OpenAsync(None);
            await first.CommitAsync([Write(a, "the-name", ("k", "v"), ("\U0001F600", "smile")), Alarm(a, time)], None);
        }

        await using var second = Create();
        await second.OpenAsync(None);

        Assert.Equal(["v", "smile"], (await second.GetAsync(a, ["k", "\U0001F600"], None)).Select(Text));
        Assert.Equal([new StoredAlarm(a, "the-name", time)], await second.GetAlarmsAsync(time, 10, None));
    }

    [Fact]
    public async Task ACommitThatFailsPartWayThroughIsRolledBackWhole()
    {
        var a = Address("a");
        var b = Address("b");
        await Backend.CommitAsync([Write(a, ("k", "1"))], None);
        // A failure in the middle of the transaction, after a's batch was applied: SQLite raises it when b's
        // key "boom" is inserted.
        using (var raw = OpenRaw())
        {
            Execute(raw, "CREATE TRIGGER fail_on_boom BEFORE INSERT ON entries WHEN NEW.key = x'626f6f6d' BEGIN SELECT RAISE(ABORT, 'injected failure'); END;");
        }

        var thrown = await Assert.ThrowsAsync<SqliteException>(async () =>
            await Backend.CommitAsync([Write(a, ("k", "2"), ("j", "2")), Alarm(a, DateTimeOffset.UnixEpoch), Write(b, "b", ("boom", "x"))], None));

        Assert.Contains("injected failure", thrown.Message);
        Assert.Equal(["1", null], (await Backend.GetAsync(a, ["k", "j"], None)).Select(Text));
        Assert.Null(await Backend.GetAlarmAsync(a, None));
        Assert.Empty(await Backend.GetAlarmsAsync(DateTimeOffset.MaxValue, 10, None));
        await Backend.CommitAsync([Write(b, ("fine", "y"))], None);
        Assert.Equal("y", Text((await Backend.GetAsync(b, ["fine"], None))[0]));
    }

    [Fact]
    public async Task TheWriterRemembersObjectRowsWithoutMissingANameOrARowRemoved()
    {
        var a = Address("a");
        var later = DateTimeOffset.UnixEpoch.AddDays(1);
        // Known first without a name, then a batch brings one: it is stored.
        await Backend.CommitAsync([Write(a, ("k", "1"))], None);
        await Backend.CommitAsync([Write(a, "named", ("k", "2")), Alarm(a, later)], None);
        Assert.Equal([new StoredAlarm(a, "named", later)], await Backend.GetAlarmsAsync(later, 10, None));
        // A batch without a name keeps the stored one.
        await Backend.CommitAsync([Write(a, ("k", "3"))], None);
        Assert.Equal("named", (await Backend.GetAlarmsAsync(later, 10, None)).Single().Name);
        // Emptied, the row goes, name and all; the next write makes a new row that the reads find.
        await Backend.CommitAsync([DeleteAll(a)], None);
        Assert.Equal(0, RowsOfObjects());
        await Backend.CommitAsync([Write(a, ("k", "4"))], None);
        Assert.Equal("4", Text((await Backend.GetAsync(a, ["k"], None))[0]));
        Assert.Equal(1, RowsOfObjects());
    }

    private long RowsOfObjects()
    {
        using var raw = OpenRaw();
        using var command = raw.CreateCommand();
        command.CommandText = "SELECT count(*) FROM objects;";
        return (long)command.ExecuteScalar()!;
    }

    [Fact]
    public async Task ReadsDoNotWaitForAWriterThatHoldsTheDatabase()
    {
        var a = Address("a");
        await Backend.CommitAsync([Write(a, ("k", "committed"))], None);
        using var raw = OpenRaw();
        // Without WAL an exclusive writer locks readers out: they would wait for the busy timeout and fail.
        Execute(raw, "BEGIN EXCLUSIVE; UPDATE entries SET value = x'00';");

        var read = await Backend.GetAsync(a, ["k"], None);
        var listed = await Backend.ListAsync(a, new ListOptions(), None);

        Assert.Equal("committed", Text(read[0]));
        Assert.Equal("committed", Text(listed.Single().Value));
        Execute(raw, "ROLLBACK;");
    }

    [Theory]
    [InlineData(null, 2)]
    [InlineData(SqliteSynchronousMode.Full, 2)]
    [InlineData(SqliteSynchronousMode.Normal, 1)]
    public async Task CommitsSyncInFullModeUnlessRelaxedToNormal(SqliteSynchronousMode? mode, int expectedLevel)
    {
        using var directory = new TempDirectory();
        var options = new SqliteStorageOptions { DataDirectory = directory.Path };
        if (mode is { } m)
        {
            options.Synchronous = m;
        }
        await using var backend = new SqliteStorageBackend(options);
        await backend.OpenAsync(None);

        Assert.Equal(expectedLevel, backend.Writer.SynchronousLevel);
    }

    [Fact]
    public async Task TheDatabaseIsOneWalFileInTheDataDirectoryWithKeysAsTheirUtf8Bytes()
    {
        await Backend.CommitAsync([Write(Address("a"), ("\u00E9\U0001F600", "v"))], None);

        using var raw = OpenRaw();
        Assert.Equal("wal", Scalar(raw, "PRAGMA journal_mode;"));
        Assert.Equal("blob", Scalar(raw, "SELECT typeof(key) FROM entries;"));
        Assert.Equal(Bytes("\u00E9\U0001F600"), Scalar(raw, "SELECT key FROM entries;"));
        Assert.Equal(Path.Combine(_directory.Path, SqliteStorageBackend.DatabaseFileName), ((SqliteStorageBackend)Backend).DatabasePath);
        Assert.True(File.Exists(((SqliteStorageBackend)Backend).DatabasePath));
    }

    [Fact]
    public async Task TheDataDirectoryIsCreatedWhenMissing()
    {
        using var parent = new TempDirectory();
        var directory = Path.Combine(parent.Path, "nested", "data");
        await using var backend = new SqliteStorageBackend(new SqliteStorageOptions { DataDirectory = directory });

        await backend.OpenAsync(None);
        await backend.CommitAsync([Write(Address("a"), ("k", "v"))], None);

        Assert.True(File.Exists(Path.Combine(directory, SqliteStorageBackend.DatabaseFileName)));
    }

    [Fact]
    public async Task ADatabaseWithAnotherSchemaVersionIsRefusedWithTheVersions()
    {
        using (var raw = OpenRaw())
        {
            Execute(raw, "PRAGMA user_version = 99;");
        }
        await using var backend = Create();

        var thrown = await Assert.ThrowsAsync<InvalidOperationException>(async () => await backend.OpenAsync(None));

        Assert.Contains("schema 99", thrown.Message);
        Assert.Contains($"schema {SqliteSchema.Version}", thrown.Message);
    }

    [Fact]
    public async Task UseBeforeOpenOrAfterDisposeFailsClearly()
    {
        await using var backend = Create();
        var notOpen = await Assert.ThrowsAsync<InvalidOperationException>(async () => await backend.GetAsync(Address("a"), ["k"], None));
        Assert.Contains("OpenAsync", notOpen.Message);

        await backend.OpenAsync(None);
        await backend.DisposeAsync();

        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await backend.GetAsync(Address("a"), ["k"], None));
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await backend.CommitAsync([Write(Address("a"), ("k", "v"))], None));
    }

    private SqliteStorageBackend Create() => new(new SqliteStorageOptions { DataDirectory = _directory.Path });

    private SqliteConnection OpenRaw()
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = Path.Combine(_directory.Path, SqliteStorageBackend.DatabaseFileName),
            Pooling = false,
        }.ToString());
        connection.Open();
        return connection;
    }

    private static object? Scalar(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar();
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
