namespace SourceGenDO.Micro.Codec;

/// <summary>A small record argument: a string, an int, a decimal (written as text) and a list of strings.</summary>
public sealed record Order(string Id, int Quantity, decimal Price, List<string> Tags);

/// <summary>The durable object whose generated stub, dispatcher and serializer the benchmarks exercise.</summary>
public class BenchCounter(DurableObjectState ctx) : DurableObject(ctx)
{
    private long _value;

    public Task<long> Increment(long amount) => Task.FromResult(_value += amount);

    /// <summary><see cref="Increment"/> as a <see cref="ValueTask{TResult}"/> method: its stub call allocates nothing of its own.</summary>
    public ValueTask<long> IncrementValue(long amount) => ValueTask.FromResult(_value += amount);

    public Task<Order> Place(Order order) => Task.FromResult(order);
}
