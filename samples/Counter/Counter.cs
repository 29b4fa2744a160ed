using SourceGenDO;

namespace CounterSample;

/// <summary>A durable object: one instance per id, running one event at a time.</summary>
public class Counter(DurableObjectState ctx) : DurableObject(ctx)
{
    private long _value;   // durable storage comes later; a field lives as long as the instance

    public Task<long> Increment(long amount = 1)
    {
        _value += amount;
        return Task.FromResult(_value);
    }

    public Task<long> Decrement(long amount = 1)
    {
        if (_value - amount < 0)
        {
            throw new InvalidOperationException($"Counter {Ctx.Id.Name} would go below zero.");
        }
        _value -= amount;
        return Task.FromResult(_value);
    }
}
