using System.Collections.Concurrent;

namespace SourceGenDO.TestObjects;

/// <summary>Records the order in which its code runs, to observe the input and output gates.</summary>
public class GateProbe(DurableObjectState ctx, DurableObjectNamespace<GateStub> gates, DurableObjectNamespace<CounterStub> counters) : DurableObject(ctx)
{
    /// <summary>What each probe ran, in order, by object id.</summary>
    public static readonly ConcurrentDictionary<string, ConcurrentQueue<string>> Logs = new();

    private ConcurrentQueue<string> Log => Logs.GetOrAdd(Ctx.Id.ToString(), static _ => new());

    /// <summary>Reads a key the cache does not hold, so the read goes to the backend.</summary>
    public async Task<string?> ReadCold(string key)
    {
        Log.Enqueue("read-start");
        var value = await Ctx.Storage.GetAsync<string>(key);
        Log.Enqueue("read-end");
        return value;
    }

    /// <summary>Awaits a call to another object (a gate held by the test): other events may run meanwhile.</summary>
    public async Task<int> AwaitOther(string gateName)
    {
        Log.Enqueue("other-start");
        var value = await gates.GetByName(gateName).Wait(7);
        Log.Enqueue("other-end");
        return value;
    }

    public Task Mark(string text)
    {
        Log.Enqueue(text);
        return Task.CompletedTask;
    }

    /// <summary>Writes, then returns: the result must wait for the write.</summary>
    public Task<string> WriteAndReturn(string value)
    {
        Ctx.Storage.Put("written", value);
        return Task.FromResult(value);
    }

    /// <summary>Writes, then throws: the exception must wait for the write too.</summary>
    public Task WriteAndThrow(string value)
    {
        Ctx.Storage.Put("written", value);
        throw new InvalidOperationException("thrown after a write");
    }

    /// <summary>Writes, then calls another object: the call must not leave before the write is durable.</summary>
    public async Task<long> WriteAndCall(string counterName)
    {
        Ctx.Storage.Put("written", counterName);
        return await counters.GetByName(counterName).Increment(1);
    }

    /// <summary>Holds every other event while <paramref name="gateName"/>'s gate is shut.</summary>
    public async Task<int> Exclusive(string gateName)
    {
        return await Ctx.BlockConcurrencyWhile(async () =>
        {
            Log.Enqueue("exclusive-start");
            var value = await gates.GetByName(gateName).Wait(3);
            Log.Enqueue("exclusive-end");
            return value;
        });
    }

    /// <summary>A <c>BlockConcurrencyWhile</c> that throws: the instance is reset.</summary>
    public async Task FailExclusive()
    {
        await Ctx.BlockConcurrencyWhile(() => Task.FromException(new InvalidOperationException("initialization failed")));
    }
}
