namespace SourceGenDO.TestObjects;

/// <summary>Calls other objects through a namespace injected into its constructor.</summary>
public class Caller(DurableObjectState ctx, DurableObjectNamespace<CounterStub> counters) : DurableObject(ctx)
{
    public Task<long> IncrementCounter(string name, long amount) => counters.GetByName(name).Increment(amount);

    /// <summary>The ids of the counters with stored data, listed from object code.</summary>
    public async Task<List<string>> ListCounters(int pageSize)
    {
        var ids = new List<string>();
        await foreach (var info in counters.ListObjectsAsync(pageSize))
        {
            ids.Add(info.Id.ToString());
        }
        return ids;
    }
}
