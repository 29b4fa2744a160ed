namespace SourceGenDO;

/// <summary>
/// Byte-level storage of one instance, behind the typed API of <see cref="DurableObjectStorageOperations"/>:
/// the server's gated cache implements it, and a transaction's overlay wraps it. Keys and limits are
/// checked before a call reaches it; values are encoded.
/// </summary>
internal interface IStorageCore
{
    /// <summary>The values of <paramref name="keys"/>, null where a key has none, in the keys' order.</summary>
    ValueTask<byte[]?[]> GetAsync(IReadOnlyList<string> keys);

    /// <summary>Writes entries, a null value deleting its key; all of them or none become durable.</summary>
    void Write(IReadOnlyList<KeyValuePair<string, byte[]?>> entries);

    /// <summary>Deletes <paramref name="keys"/>; the number of them that had a value.</summary>
    ValueTask<int> DeleteAsync(IReadOnlyList<string> keys);

    /// <summary>The entries <paramref name="options"/> selects (validated), in its order.</summary>
    ValueTask<IReadOnlyList<KeyValuePair<string, byte[]>>> ListAsync(ListOptions options);

    /// <summary>The time of the instance's alarm, or null.</summary>
    ValueTask<DateTimeOffset?> GetAlarmAsync();

    /// <summary>Sets (or, with null, deletes) the alarm; a write like any other.</summary>
    void SetAlarm(DateTimeOffset? time);
}

/// <summary>The whole storage of one instance: <see cref="IStorageCore"/> plus what only the top level offers.</summary>
internal interface IObjectStorageCore : IStorageCore
{
    /// <summary>Deletes every key and the alarm, atomically.</summary>
    void DeleteAll();

    /// <summary>Completes when every write made so far is durable.</summary>
    ValueTask SyncAsync();
}

/// <summary>What an instance's <see cref="DurableObjectState"/> asks of the activation that hosts it.</summary>
internal interface IInstanceHost
{
    /// <summary>The instance's storage.</summary>
    IObjectStorageCore Storage { get; }

    /// <summary>
    /// Runs <paramref name="body"/> with no other event delivered until it completes (the input gate stays
    /// closed). When <paramref name="resetOnFailure"/> and it throws, the instance is reset and the events
    /// waiting for it fail with that error.
    /// </summary>
    Task<T> RunExclusiveAsync<T>(Func<Task<T>> body, bool resetOnFailure);

    /// <summary>Resets the instance: it is discarded, and events in progress or waiting fail with <paramref name="error"/>.</summary>
    void Reset(DurableObjectException error);
    /// <summary>Makes <paramref name="socket"/> one of the object's accepted sockets, with <paramref name="tags"/> (checked).</summary>
    void AcceptWebSocket(DurableWebSocket socket, string[] tags);

    /// <summary>The object's accepted open sockets, those with <paramref name="tag"/> when given.</summary>
    IReadOnlyList<DurableWebSocket> GetWebSockets(string? tag);

    /// <summary>Sets the object's auto-response (both null: removes it).</summary>
    void SetWebSocketAutoResponse(string? request, string? response);
}
