namespace SourceGenDO.TestObjects;

/// <summary>Calls other objects through a namespace injected into its constructor.</summary>
public class Caller(DurableObjectState ctx, DurableObjectNamespace<CounterStub> counters) : DurableObject(ctx)
{
    public Task<long> IncrementCounter(string name, long amount) => counters.GetByName(name).Increment(amount);
}
