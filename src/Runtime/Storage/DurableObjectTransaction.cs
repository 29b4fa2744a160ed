namespace SourceGenDO;

/// <summary>
/// The storage view inside <see cref="DurableObjectStorage.TransactionAsync(Func{DurableObjectTransaction, Task})"/>:
/// reads see the transaction's own writes, which reach storage only when the transaction returns.
/// </summary>
public sealed class DurableObjectTransaction : DurableObjectStorageOperations
{
    private readonly Overlay _overlay;
    private bool _rolledBack;

    internal DurableObjectTransaction(IStorageCore storage) => _overlay = new Overlay(storage);

    private protected override IStorageCore Core => _overlay;

    /// <summary>Discards the transaction's writes: none of them reach storage when it returns.</summary>
    public void Rollback()
    {
        _overlay.CheckOpen();
        _rolledBack = true;
    }

    internal void End() => _overlay.Ended = true;

    internal void CommitInto(IStorageCore storage)
    {
        if (!_rolledBack)
        {
            _overlay.CommitInto(storage);
        }
    }

    /// <summary>The transaction's writes over the instance's storage.</summary>
    private sealed class Overlay(IStorageCore storage) : IStorageCore
    {
        private readonly Dictionary<string, byte[]?> _writes = new(StringComparer.Ordinal);
        private DateTimeOffset? _alarm;
        private bool _alarmWritten;

        public bool Ended { get; set; }

        public void CheckOpen()
        {
            if (Ended)
            {
                throw new InvalidOperationException("The transaction has ended; use Ctx.Storage, or start another transaction.");
            }
        }

        public async ValueTask<byte[]?[]> GetAsync(IReadOnlyList<string> keys)
        {
            CheckOpen();
            var missing = keys.Where(key => !_writes.ContainsKey(key)).ToList();
            var stored = missing.Count == 0 ? [] : await storage.GetAsync(missing).ConfigureAwait(true);
            var result = new byte[]?[keys.Count];
            for (int i = 0, next = 0; i < keys.Count; i++)
            {
                result[i] = _writes.TryGetValue(keys[i], out var written) ? written : stored[next++];
            }
            return result;
        }

        public void Write(IReadOnlyList<KeyValuePair<string, byte[]?>> entries)
        {
            CheckOpen();
            foreach (var (key, value) in entries)
            {
                _writes[key] = value;
            }
        }

        public async ValueTask<int> DeleteAsync(IReadOnlyList<string> keys)
        {
            var existing = await GetAsync(keys).ConfigureAwait(true);
            var deletes = keys.Distinct(StringComparer.Ordinal).Select(static key => new KeyValuePair<string, byte[]?>(key, null)).ToList();
            Write(deletes);
            return existing.Count(static value => value is not null);
        }

        public async ValueTask<IReadOnlyList<KeyValuePair<string, byte[]>>> ListAsync(ListOptions options)
        {
            CheckOpen();
            var deleted = _writes.Count(pair => pair.Value is null && KeyRange.Contains(options, pair.Key));
            var stored = await storage.ListAsync(options.Widen(deleted)).ConfigureAwait(true);
            return KeyRange.Merge(options, stored, _writes);
        }

        public ValueTask<DateTimeOffset?> GetAlarmAsync()
        {
            CheckOpen();
            return _alarmWritten ? new(_alarm) : storage.GetAlarmAsync();
        }

        public void SetAlarm(DateTimeOffset? time)
        {
            CheckOpen();
            _alarm = time;
            _alarmWritten = true;
        }

        public void CommitInto(IStorageCore target)
        {
            // One call, with no await around it: the writes join one batch and become durable together.
            if (_writes.Count > 0)
            {
                target.Write(_writes.ToList());
            }
            if (_alarmWritten)
            {
                target.SetAlarm(_alarm);
            }
        }
    }
}
