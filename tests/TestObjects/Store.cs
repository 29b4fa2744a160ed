namespace SourceGenDO.TestObjects;

/// <summary>Exposes Ctx.Storage over RPC, so tests drive every storage operation through a real server.</summary>
public class Store(DurableObjectState ctx) : DurableObject(ctx)
{
    private int _calls;

    /// <summary>The seed's Counter, exactly as written: the write is not awaited.</summary>
    public async Task<long> Increment(long amount = 1)
    {
        long value = await Ctx.Storage.GetAsync<long>("value") + amount;
        Ctx.Storage.Put("value", value);
        return value;
    }

    /// <summary>How many calls this instance has served: 1 on a fresh instance.</summary>
    public Task<int> CallsOnThisInstance() => Task.FromResult(++_calls);

    public async Task<string?> Get(string key) => await Ctx.Storage.GetAsync<string>(key);

    public async Task<Dictionary<string, string>> GetMany(List<string> keys) => new(await Ctx.Storage.GetAsync<string>(keys));

    public Task Put(string key, string value)
    {
        Ctx.Storage.Put(key, value);
        return Task.CompletedTask;
    }

    public async Task PutMany(Dictionary<string, string> entries) => await Ctx.Storage.PutAsync(entries);

    public async Task<bool> Delete(string key) => await Ctx.Storage.DeleteAsync(key);

    public async Task<int> DeleteMany(List<string> keys) => await Ctx.Storage.DeleteAsync(keys);

    /// <summary>The keys <c>ListAsync</c> returns, in its order, each with its value after a '='.</summary>
    public async Task<List<string>> List(string? start, string? startAfter, string? end, string? prefix, bool reverse, int? limit)
    {
        var entries = await Ctx.Storage.ListAsync<string>(new ListOptions
        {
            Start = start, StartAfter = startAfter, End = end, Prefix = prefix, Reverse = reverse, Limit = limit,
        });
        return entries.Select(static pair => pair.Key + "=" + pair.Value).ToList();
    }

    public async Task DeleteAll() => await Ctx.Storage.DeleteAllAsync();

    /// <summary>Writes two keys in a transaction, then throws when asked: the writes must vanish, the instance stay.</summary>
    public async Task<int> Transfer(long amount, bool fail)
    {
        await Ctx.Storage.TransactionAsync(async transaction =>
        {
            var from = await transaction.GetAsync<long>("from");
            var to = await transaction.GetAsync<long>("to");
            transaction.Put("from", from - amount);
            transaction.Put("to", to + amount);
            if (fail)
            {
                throw new InvalidOperationException("transfer refused");
            }
        });
        return ++_calls;
    }

    public async Task<List<long>> Balances() => [await Ctx.Storage.GetAsync<long>("from"), await Ctx.Storage.GetAsync<long>("to")];

    /// <summary>Writes both keys with no await between them: they must always agree.</summary>
    public Task<long> WritePair(long value)
    {
        Ctx.Storage.Put("left", value);
        Ctx.Storage.Put("right", value);
        return Task.FromResult(value);
    }

    public async Task<List<long>> ReadPair() => [await Ctx.Storage.GetAsync<long>("left"), await Ctx.Storage.GetAsync<long>("right")];

    public async Task Sync() => await Ctx.Storage.SyncAsync();

    public Task Abort(string? reason)
    {
        Ctx.Abort(reason);
        return Task.CompletedTask;
    }

    /// <summary>Calls a storage method with an argument past a limit; the server-side exception crosses as itself.</summary>
    public async Task Misuse(string what)
    {
        switch (what)
        {
            case "long-key":
                Ctx.Storage.Put(new string('k', StorageLimits.MaxKeyBytes + 1), "v");
                break;
            case "big-entry":
                Ctx.Storage.Put("big", new byte[StorageLimits.MaxEntryBytes]);
                break;
            case "many-keys":
                await Ctx.Storage.GetAsync<string>(Enumerable.Range(0, StorageLimits.MaxBatchSize + 1).Select(static i => "k" + i));
                break;
            case "many-pairs":
                await Ctx.Storage.PutAsync(Enumerable.Range(0, StorageLimits.MaxBatchSize + 1).ToDictionary(static i => "k" + i, static i => i));
                break;
            case "many-deletes":
                await Ctx.Storage.DeleteAsync(Enumerable.Range(0, StorageLimits.MaxBatchSize + 1).Select(static i => "k" + i));
                break;
            case "start-and-start-after":
                await Ctx.Storage.ListAsync<string>(new ListOptions { Start = "a", StartAfter = "b" });
                break;
            case "zero-limit":
                await Ctx.Storage.ListAsync<string>(new ListOptions { Limit = 0 });
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(what), what, "Unknown misuse.");
        }
    }
}
