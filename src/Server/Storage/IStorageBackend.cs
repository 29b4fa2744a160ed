namespace SourceGenDO.Server.Storage;

/// <summary>
/// Where durable object data lives: keys and values per object, one alarm per object, and the object's
/// name. The server's gated cache and group committer sit in front of it, so an implementation only
/// stores and reads bytes; nothing in object code or in the gates depends on which backend runs.
/// </summary>
/// <remarks>
/// Keys are compared by their UTF-8 bytes. Every member may be called from any thread, concurrently
/// with others; <see cref="CommitAsync"/> is never called again before the previous call completed.
/// An object left with no keys and no alarm is not kept, and its name goes with it (a later batch that
/// carries the name stores it again), so what a backend holds is exactly the objects with stored data or
/// an alarm. A batch that changes nothing (<see cref="ObjectWriteBatch.IsEmpty"/>) is skipped.
/// </remarks>
public interface IStorageBackend : IAsyncDisposable
{
    /// <summary>Creates or opens the store (files, schema); called once before any other member.</summary>
    ValueTask OpenAsync(CancellationToken cancellationToken);

    /// <summary>The values of <paramref name="keys"/> of one object, null where a key has none, in the keys' order.</summary>
    ValueTask<byte[]?[]> GetAsync(ObjectAddress address, IReadOnlyList<string> keys, CancellationToken cancellationToken);

    /// <summary>The entries of one object within <paramref name="range"/>, in its order and up to its limit.</summary>
    ValueTask<IReadOnlyList<KeyValuePair<string, byte[]>>> ListAsync(ObjectAddress address, ListOptions range, CancellationToken cancellationToken);

    /// <summary>The alarm of one object, or null.</summary>
    ValueTask<DateTimeOffset?> GetAlarmAsync(ObjectAddress address, CancellationToken cancellationToken);

    /// <summary>
    /// Makes every batch durable in one atomic transaction: when it completes, all of them survive a crash
    /// or a power loss (an fsync, unless the backend was configured otherwise); when it throws, none of
    /// them was applied. Batches of one object are applied in list order.
    /// </summary>
    ValueTask CommitAsync(IReadOnlyList<ObjectWriteBatch> batches, CancellationToken cancellationToken);

    /// <summary>Every alarm set at or before <paramref name="until"/>, earliest first, at most <paramref name="limit"/>.</summary>
    ValueTask<IReadOnlyList<StoredAlarm>> GetAlarmsAsync(DateTimeOffset until, int limit, CancellationToken cancellationToken);

    /// <summary>The earliest alarm of any object, or null when none is set.</summary>
    ValueTask<DateTimeOffset?> GetNextAlarmTimeAsync(CancellationToken cancellationToken);

    /// <summary>
    /// The objects of <paramref name="namespace"/> that the backend holds (those with keys or an alarm),
    /// ordered by id (ordinal, so by the id's bytes), only those after <paramref name="afterId"/> when it is
    /// given, at most <paramref name="limit"/>: the keyset paging of the listing API, so that an object held
    /// throughout a listing is on exactly one page however others come and go between pages.
    /// </summary>
    /// <remarks>
    /// A default implementation throws <see cref="NotSupportedException"/>, so a backend written before the
    /// listing still builds; the listing API then answers that the backend cannot list.
    /// </remarks>
    ValueTask<IReadOnlyList<ListedObject>> ListObjectsAsync(string @namespace, string? afterId, int limit, CancellationToken cancellationToken) =>
        throw new NotSupportedException($"The storage backend {GetType().FullName} does not list objects: it does not implement IStorageBackend.ListObjectsAsync.");
}

/// <summary>One object's place in a backend: its namespace and its id as 64 lowercase hex digits.</summary>
public readonly record struct ObjectAddress(string Namespace, string Id)
{
    /// <inheritdoc />
    public override string ToString() => $"{Namespace}/{Id}";
}

/// <summary>An object as the listing reports it: its id (64 lowercase hex digits), its name when stored, and whether it has keys.</summary>
public sealed record ListedObject(string Id, string? Name, bool HasStoredData);

/// <summary>An alarm as stored: whose, for when, and the object's name when it has one.</summary>
public sealed record StoredAlarm(ObjectAddress Address, string? Name, DateTimeOffset Time);

/// <summary>The writes of one object that become durable together, in the order they were made.</summary>
public sealed class ObjectWriteBatch
{
    /// <summary>Creates an empty batch for <paramref name="address"/>.</summary>
    public ObjectWriteBatch(ObjectAddress address, string? name)
    {
        Address = address;
        Name = name;
    }

    /// <summary>The object written.</summary>
    public ObjectAddress Address { get; }

    /// <summary>The object's name, for ids made from one; stored with its data (the listing and alarms read it).</summary>
    public string? Name { get; }

    /// <summary>True when every key and the alarm are deleted first, before <see cref="Writes"/> and <see cref="Alarm"/> apply.</summary>
    public bool DeleteAll { get; set; }

    /// <summary>Keys written, each at most once: a value to store, or null to delete the key.</summary>
    public Dictionary<string, byte[]?> Writes { get; } = new(StringComparer.Ordinal);

    /// <summary>True when the batch sets or deletes the alarm.</summary>
    public bool AlarmChanged { get; set; }

    /// <summary>The alarm's new time when <see cref="AlarmChanged"/>; null deletes it.</summary>
    public DateTimeOffset? Alarm { get; set; }

    /// <summary>The bytes of keys and values, for the cache's and the committer's accounting.</summary>
    public long Bytes { get; set; }

    /// <summary>True when the batch changes nothing.</summary>
    public bool IsEmpty => !DeleteAll && Writes.Count == 0 && !AlarmChanged;
}
