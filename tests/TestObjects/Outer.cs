namespace SourceGenDO.TestObjects;

/// <summary>Holds a nested durable object class: its stub is Outer_NestedCounterStub.</summary>
public static class Outer
{
    public class NestedCounter(DurableObjectState ctx) : DurableObject(ctx)
    {
        private int _value;

        public Task<int> Increment() => Task.FromResult(++_value);
    }
}
