using System.Collections.Concurrent;

namespace SourceGenDO.TestObjects;

/// <summary>The README's counter, plus what tests need to see inside it.</summary>
public class Counter(DurableObjectState ctx) : DurableObject(ctx)
{
    /// <summary>How often each instance (by id) was constructed; eviction tests read it.</summary>
    public static readonly ConcurrentDictionary<string, int> Constructions = new();

    private readonly int _construction = Constructions.AddOrUpdate(ctx.Id.ToString(), 1, static (_, count) => count + 1);
    private readonly string? _nameInConstructor = ctx.Id.Name;
    private long _value;

    public Task<long> Increment(long amount = 1)
    {
        _value += amount;
        return Task.FromResult(_value);
    }

    public Task<long> Get() => Task.FromResult(_value);

    public Task<string?> GetName() => Task.FromResult(Ctx.Id.Name);

    public Task<string?> GetNameSeenByConstructor() => Task.FromResult(_nameInConstructor);

    public Task<string> GetId() => Task.FromResult(Ctx.Id.ToString());

    public Task<int> GetConstruction() => Task.FromResult(_construction);
}

/// <summary>A counter hosted under a second namespace; derives from a concrete object class.</summary>
public class SecondCounter(DurableObjectState ctx) : Counter(ctx);
