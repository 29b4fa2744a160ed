using System.Text;
using SourceGenDO.Serialization;

namespace SourceGenDO;

/// <summary>
/// The reads and writes that <see cref="DurableObjectStorage"/> and a <see cref="DurableObjectTransaction"/>
/// share. Values are encoded by the codecs the generator emits for every type object code stores (no
/// reflection); reads see the instance's own writes at once.
/// </summary>
/// <remarks>
/// Keys are at most <see cref="StorageLimits.MaxKeyBytes"/> in UTF-8, an entry (key plus encoded value)
/// at most <see cref="StorageLimits.MaxEntryBytes"/>, and a batch at most
/// <see cref="StorageLimits.MaxBatchSize"/> keys or pairs; past a limit a call throws
/// <see cref="ArgumentException"/> and changes nothing.
/// </remarks>
public abstract class DurableObjectStorageOperations
{
    private protected DurableObjectStorageOperations()
    {
    }

    private protected abstract IStorageCore Core { get; }

    /// <summary>
    /// The value stored under <paramref name="key"/>, or <c>default</c> when there is none. Read a value
    /// type as its nullable form (<c>GetAsync&lt;long?&gt;</c>) to tell a missing key from a stored zero.
    /// </summary>
    /// <exception cref="ArgumentException">The key is longer than the limit.</exception>
    public async ValueTask<T?> GetAsync<T>(string key)
    {
        StorageLimits.CheckKey(key);
        var codec = ValueCodecs.Get<T>();
        var values = await Core.GetAsync([key]).ConfigureAwait(true);
        return values[0] is { } bytes ? codec.Decode(bytes) : default;
    }

    /// <summary>The value stored under <paramref name="key"/>, or <paramref name="defaultValue"/> when there is none.</summary>
    /// <exception cref="ArgumentException">The key is longer than the limit.</exception>
    public async ValueTask<T> GetAsync<T>(string key, T defaultValue)
    {
        StorageLimits.CheckKey(key);
        var codec = ValueCodecs.Get<T>();
        var values = await Core.GetAsync([key]).ConfigureAwait(true);
        return values[0] is { } bytes ? codec.Decode(bytes) : defaultValue;
    }

    /// <summary>The values of those of <paramref name="keys"/> that have one (at most 128 keys), in the keys' order.</summary>
    /// <exception cref="ArgumentException">More than 128 keys, or a key longer than the limit.</exception>
    public async ValueTask<IReadOnlyDictionary<string, T>> GetAsync<T>(IEnumerable<string> keys)
    {
        var list = CheckKeys(keys);
        var codec = ValueCodecs.Get<T>();
        var values = await Core.GetAsync(list).ConfigureAwait(true);
        var result = new OrderedDictionary<string, T>(list.Count, StringComparer.Ordinal);
        for (var i = 0; i < list.Count; i++)
        {
            if (values[i] is { } bytes)
            {
                result[list[i]] = codec.Decode(bytes);
            }
        }
        return result;
    }

    /// <summary>
    /// Stores <paramref name="value"/> under <paramref name="key"/>. Need not be awaited (it returns at once):
    /// reads see the value immediately, and the output gate holds the event's result until it is durable.
    /// Writes made with no <c>await</c> between them become durable together or not at all.
    /// </summary>
    /// <exception cref="ArgumentException">The key or the entry is larger than its limit.</exception>
    public void Put<T>(string key, T value)
    {
        var keyBytes = StorageLimits.CheckKey(key);
        var encoded = ValueCodecs.Get<T>().Encode(value);
        StorageLimits.CheckEntry(key, keyBytes, encoded.Length);
        Core.Write([new(key, encoded)]);
    }

    /// <summary>Stores every pair of <paramref name="entries"/> (at most 128) atomically; see <see cref="Put{T}"/>.</summary>
    /// <exception cref="ArgumentException">More than 128 pairs, a key twice, or a key or entry larger than its limit; nothing is stored.</exception>
    public ValueTask PutAsync<T>(IEnumerable<KeyValuePair<string, T>> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        var codec = ValueCodecs.Get<T>();
        var writes = new List<KeyValuePair<string, byte[]?>>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var pairs = entries.ToList();
        StorageLimits.CheckBatch(pairs.Count, "pairs", nameof(entries));
        foreach (var (key, value) in pairs)
        {
            var keyBytes = StorageLimits.CheckKey(key, nameof(entries));
            if (!seen.Add(key))
            {
                throw new ArgumentException($"The batch names the key {ClientText.Quote(key)} twice.", nameof(entries));
            }
            var encoded = codec.Encode(value);
            StorageLimits.CheckEntry(key, keyBytes, encoded.Length);
            writes.Add(new(key, encoded));
        }
        Core.Write(writes);
        return ValueTask.CompletedTask;
    }

    /// <summary>Deletes <paramref name="key"/>; true when it had a value.</summary>
    /// <exception cref="ArgumentException">The key is longer than the limit.</exception>
    public async ValueTask<bool> DeleteAsync(string key)
    {
        StorageLimits.CheckKey(key);
        return await Core.DeleteAsync([key]).ConfigureAwait(true) > 0;
    }

    /// <summary>Deletes <paramref name="keys"/> (at most 128) atomically; the number of them that had a value.</summary>
    /// <exception cref="ArgumentException">More than 128 keys, or a key longer than the limit.</exception>
    public ValueTask<int> DeleteAsync(IEnumerable<string> keys) => Core.DeleteAsync(CheckKeys(keys));

    /// <summary>
    /// The entries <paramref name="options"/> selects, enumerated in the UTF-8 byte order of their keys
    /// (descending with <see cref="ListOptions.Reverse"/>).
    /// </summary>
    /// <exception cref="ArgumentException">Start and StartAfter are both set, the limit is not positive, or a bound is longer than a key may be.</exception>
    public async ValueTask<IReadOnlyDictionary<string, T>> ListAsync<T>(ListOptions? options = null)
    {
        options ??= new ListOptions();
        options.Validate();
        var codec = ValueCodecs.Get<T>();
        var entries = await Core.ListAsync(options).ConfigureAwait(true);
        var result = new OrderedDictionary<string, T>(entries.Count, StringComparer.Ordinal);
        foreach (var (key, bytes) in entries)
        {
            result.Add(key, codec.Decode(bytes));
        }
        return result;
    }

    /// <summary>The time the instance's alarm is set for, or null when none is set.</summary>
    public ValueTask<DateTimeOffset?> GetAlarmAsync() => Core.GetAlarmAsync();

    /// <summary>
    /// Sets the instance's one alarm to <paramref name="scheduledTime"/>, replacing any other: the object's
    /// <c>Alarm</c> handler runs at or soon after that time, at least once, also after a restart.
    /// </summary>
    public ValueTask SetAlarmAsync(DateTimeOffset scheduledTime)
    {
        Core.SetAlarm(scheduledTime);
        return ValueTask.CompletedTask;
    }

    /// <summary>Deletes the instance's alarm, if one is set.</summary>
    public ValueTask DeleteAlarmAsync()
    {
        Core.SetAlarm(null);
        return ValueTask.CompletedTask;
    }

    private static List<string> CheckKeys(IEnumerable<string> keys)
    {
        ArgumentNullException.ThrowIfNull(keys);
        var list = keys.ToList();
        StorageLimits.CheckBatch(list.Count, "keys", nameof(keys));
        foreach (var key in list)
        {
            StorageLimits.CheckKey(key, nameof(keys));
        }
        return list;
    }
}
