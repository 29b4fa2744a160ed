using System.Text;
using Microsoft.Data.Sqlite;

namespace SourceGenDO.Server.Storage.Sqlite;

/// <summary>One read connection of <see cref="SqliteReadPool"/> with its prepared queries; used by one caller at a time.</summary>
internal sealed class SqliteReadConnection : IDisposable
{
    // The list query's shape depends on which bounds are set: one prepared command per shape, made on first use.
    private const int HasStart = 1, HasStartAfter = 2, HasEnd = 4, HasPrefix = 8, HasPrefixBound = 16, Descending = 32;

    private readonly SqliteConnection _connection;
    private readonly SqliteCommand _get;
    private readonly SqliteCommand _getAlarm;
    private readonly SqliteCommand _getAlarms;
    private readonly SqliteCommand _getNextAlarm;
    private SqliteCommand? _listObjects;
    private readonly SqliteCommand?[] _lists = new SqliteCommand?[Descending * 2];

    public SqliteReadConnection(string path)
    {
        _connection = SqliteSchema.OpenReader(path);
        try
        {
            _get = SqliteSchema.Prepare(_connection, """
                SELECT e.value FROM objects o JOIN entries e ON e.object = o.object
                WHERE o.namespace = $namespace AND o.id = $id AND e.key = $key
                """, "$namespace", "$id", "$key");
            _getAlarm = SqliteSchema.Prepare(_connection,
                "SELECT alarm FROM objects WHERE namespace = $namespace AND id = $id",
                "$namespace", "$id");
            // "alarm IS NOT NULL" lets the planner use the partial index objects_by_alarm.
            _getAlarms = SqliteSchema.Prepare(_connection, """
                SELECT namespace, id, name, alarm FROM objects
                WHERE alarm IS NOT NULL AND alarm <= $until ORDER BY alarm LIMIT $limit
                """, "$until", "$limit");
            _getNextAlarm = SqliteSchema.Prepare(_connection,
                "SELECT alarm FROM objects WHERE alarm IS NOT NULL ORDER BY alarm LIMIT 1");
        }
        catch
        {
            _connection.Dispose();
            throw;
        }
    }

    public byte[]?[] Get(ObjectAddress address, IReadOnlyList<string> keys)
    {
        var values = new byte[]?[keys.Count];
        // Several keys are read in one read transaction, so they come from one snapshot of the file.
        using var transaction = keys.Count > 1 ? _connection.BeginTransaction(deferred: true) : null;
        _get.Transaction = transaction;
        _get.Parameters["$namespace"].Value = address.Namespace;
        _get.Parameters["$id"].Value = address.Id;
        for (var i = 0; i < values.Length; i++)
        {
            _get.Parameters["$key"].Value = Utf8Keys.Encode(keys[i]);
            using var reader = _get.ExecuteReader();
            values[i] = reader.Read() ? reader.GetFieldValue<byte[]>(0) : null;
        }
        transaction?.Commit();
        return values;
    }

    public IReadOnlyList<KeyValuePair<string, byte[]>> List(ObjectAddress address, ListOptions range)
    {
        var prefix = string.IsNullOrEmpty(range.Prefix) ? null : Utf8Keys.Encode(range.Prefix);
        var prefixBound = prefix is null ? null : Utf8Keys.PrefixUpperBound(prefix);
        var shape = (range.Start is null ? 0 : HasStart)
            | (range.StartAfter is null ? 0 : HasStartAfter)
            | (range.End is null ? 0 : HasEnd)
            | (prefix is null ? 0 : HasPrefix)
            | (prefixBound is null ? 0 : HasPrefixBound)
            | (range.Reverse ? Descending : 0);
        var command = _lists[shape] ??= PrepareList(shape);
        command.Parameters["$namespace"].Value = address.Namespace;
        command.Parameters["$id"].Value = address.Id;
        command.Parameters["$limit"].Value = range.Limit ?? -1;
        if (range.Start is not null)
        {
            command.Parameters["$start"].Value = Utf8Keys.Encode(range.Start);
        }
        if (range.StartAfter is not null)
        {
            command.Parameters["$startAfter"].Value = Utf8Keys.Encode(range.StartAfter);
        }
        if (range.End is not null)
        {
            command.Parameters["$end"].Value = Utf8Keys.Encode(range.End);
        }
        if (prefix is not null)
        {
            command.Parameters["$prefix"].Value = prefix;
        }
        if (prefixBound is not null)
        {
            command.Parameters["$prefixBound"].Value = prefixBound;
        }
        var entries = new List<KeyValuePair<string, byte[]>>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            entries.Add(new(Utf8Keys.Decode(reader.GetFieldValue<byte[]>(0)), reader.GetFieldValue<byte[]>(1)));
        }
        return entries;
    }

    public DateTimeOffset? GetAlarm(ObjectAddress address)
    {
        _getAlarm.Parameters["$namespace"].Value = address.Namespace;
        _getAlarm.Parameters["$id"].Value = address.Id;
        using var reader = _getAlarm.ExecuteReader();
        return reader.Read() && !reader.IsDBNull(0) ? SqliteSchema.FromStored(reader.GetInt64(0)) : null;
    }

    public IReadOnlyList<StoredAlarm> GetAlarms(DateTimeOffset until, int limit)
    {
        _getAlarms.Parameters["$until"].Value = SqliteSchema.ToStored(until);
        _getAlarms.Parameters["$limit"].Value = limit;
        var alarms = new List<StoredAlarm>();
        using var reader = _getAlarms.ExecuteReader();
        while (reader.Read())
        {
            alarms.Add(new StoredAlarm(
                new ObjectAddress(reader.GetString(0), reader.GetString(1)),
                reader.IsDBNull(2) ? null : reader.GetString(2),
                SqliteSchema.FromStored(reader.GetInt64(3))));
        }
        return alarms;
    }

    public DateTimeOffset? GetNextAlarmTime()
    {
        using var reader = _getNextAlarm.ExecuteReader();
        return reader.Read() ? SqliteSchema.FromStored(reader.GetInt64(0)) : null;
    }

    public IReadOnlyList<ListedObject> ListObjects(string @namespace, string? afterId, int limit)
    {
        // The UNIQUE (namespace, id) index gives the order and the start; every id is longer than "", so
        // no bound is the same query. Ids are lowercase hex text, whose BINARY order is their bytes' order.
        _listObjects ??= SqliteSchema.Prepare(_connection, """
            SELECT o.id, o.name, EXISTS (SELECT 1 FROM entries e WHERE e.object = o.object) FROM objects o
            WHERE o.namespace = $namespace AND o.id > $after ORDER BY o.id LIMIT $limit
            """, "$namespace", "$after", "$limit");
        _listObjects.Parameters["$namespace"].Value = @namespace;
        _listObjects.Parameters["$after"].Value = afterId ?? "";
        _listObjects.Parameters["$limit"].Value = limit;
        var objects = new List<ListedObject>();
        using var reader = _listObjects.ExecuteReader();
        while (reader.Read())
        {
            objects.Add(new ListedObject(reader.GetString(0), reader.IsDBNull(1) ? null : reader.GetString(1), reader.GetInt64(2) != 0));
        }
        return objects;
    }

    public void Dispose()
    {
        _listObjects?.Dispose();
        foreach (var command in _lists)
        {
            command?.Dispose();
        }
        _get.Dispose();
        _getAlarm.Dispose();
        _getAlarms.Dispose();
        _getNextAlarm.Dispose();
        _connection.Dispose();
    }

    private SqliteCommand PrepareList(int shape)
    {
        var sql = new StringBuilder("""
            SELECT e.key, e.value FROM objects o JOIN entries e ON e.object = o.object
            WHERE o.namespace = $namespace AND o.id = $id
            """);
        var parameters = new List<string> { "$namespace", "$id", "$limit" };
        void Bound(int flag, string condition, string parameter)
        {
            if ((shape & flag) != 0)
            {
                sql.Append(" AND e.key ").Append(condition).Append(' ').Append(parameter);
                parameters.Add(parameter);
            }
        }
        Bound(HasStart, ">=", "$start");
        Bound(HasStartAfter, ">", "$startAfter");
        Bound(HasEnd, "<", "$end");
        // A prefix is the byte range prefix <= key < the prefix with its last byte incremented.
        Bound(HasPrefix, ">=", "$prefix");
        Bound(HasPrefixBound, "<", "$prefixBound");
        sql.Append((shape & Descending) != 0 ? " ORDER BY e.key DESC" : " ORDER BY e.key").Append(" LIMIT $limit");
        return SqliteSchema.Prepare(_connection, sql.ToString(), [.. parameters]);
    }
}
