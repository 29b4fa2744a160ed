namespace SourceGenDO.Load;

/// <summary>The benchmark's durable object: the README counter.</summary>
public class BenchCounter(DurableObjectState ctx) : DurableObject(ctx)
{
    private long _value;

    public Task<long> Increment(long amount)
    {
        _value += amount;
        return Task.FromResult(_value);
    }
}
