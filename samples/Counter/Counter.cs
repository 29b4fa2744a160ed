using SourceGenDO;

namespace CounterSample;

/// <summary>A durable object: one instance per id, running one event at a time, with its own durable storage.</summary>
public class Counter(DurableObjectState ctx) : DurableObject(ctx)
{
    public async Task<long> Increment(long amount = 1)
    {
        long value = await Ctx.Storage.GetAsync<long>("value") + amount;   // 0 when nothing is stored yet
        Ctx.Storage.Put("value", value);    // not awaited: the output gate holds the result until it is durable
        return value;
    }

    public async Task<long> Decrement(long amount = 1)
    {
        long value = await Ctx.Storage.GetAsync<long>("value");
        if (value - amount < 0)
        {
            throw new InvalidOperationException($"Counter {Ctx.Id.Name} would go below zero.");
        }
        Ctx.Storage.Put("value", value - amount);
        return value - amount;
    }
}
