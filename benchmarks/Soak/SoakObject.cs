namespace SourceGenDO.Soak;

/// <summary>The soak's durable object: a counter for the good clients, and an error of any size for the bad ones.</summary>
public class SoakObject(DurableObjectState ctx) : DurableObject(ctx)
{
    private long _value;

    /// <summary>Adds <paramref name="amount"/> and returns the new value.</summary>
    public Task<long> Increment(long amount)
    {
        _value += amount;
        return Task.FromResult(_value);
    }

    /// <summary>Fails with a message of <paramref name="n"/> characters.</summary>
    public Task Throw(int n) => throw new InvalidOperationException(new string('x', n));
}
