namespace SourceGenDO.Load.Orleans;

/// <summary>Does the same work as SourceGenDO's Counter, so the benchmark compares the frameworks, not the object.</summary>
public sealed class CounterGrain : Grain, ICounterGrain
{
    private long _value;

    public Task<long> Increment(long amount)
    {
        _value += amount;
        return Task.FromResult(_value);
    }
}
