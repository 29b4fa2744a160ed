using System.Collections.Concurrent;

namespace SourceGenDO.TestObjects;

/// <summary>Holds calls until a test opens the gate of its id; lets tests keep calls in flight.</summary>
public class Gate(DurableObjectState ctx) : DurableObject(ctx)
{
    private static readonly ConcurrentDictionary<string, TaskCompletionSource> Gates = new();

    /// <summary>How many calls are waiting at each gate.</summary>
    public static readonly ConcurrentDictionary<string, int> Waiting = new();

    public static void Open(string id) => GateFor(id).TrySetResult();

    public async Task<int> Wait(int value)
    {
        Waiting.AddOrUpdate(Ctx.Id.ToString(), 1, static (_, count) => count + 1);
        await GateFor(Ctx.Id.ToString()).Task;
        return value;
    }

    public Task<int> Ping(int value) => Task.FromResult(value);

    /// <summary>Blocks its turn's thread until the gate opens: object code that should not, but may.</summary>
    public Task<int> Block(int value)
    {
        Waiting.AddOrUpdate(Ctx.Id.ToString(), 1, static (_, count) => count + 1);
        GateFor(Ctx.Id.ToString()).Task.Wait(TimeSpan.FromSeconds(60));
        return Task.FromResult(value);
    }

    /// <summary><see cref="Wait"/> as a ValueTask method, whose stub call uses a pooled awaitable.</summary>
    public async ValueTask<int> WaitValue(int value)
    {
        await Wait(value);
        return value;
    }

    /// <summary>A method whose ValueTask comes from a pooled source: the server may read it only once.</summary>
    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<int> YieldThenReturn(int value)
    {
        await Task.Yield();
        return value;
    }

    /// <summary><see cref="Ping"/> as a ValueTask method that takes a cancellation token.</summary>
    public ValueTask<int> PingValue(int value, CancellationToken cancellationToken = default) => ValueTask.FromResult(value);

    private static TaskCompletionSource GateFor(string id) =>
        Gates.GetOrAdd(id, static _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
}
