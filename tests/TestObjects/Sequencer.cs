namespace SourceGenDO.TestObjects;

/// <summary>Records the order calls start in and checks that its code never runs on two threads at once.</summary>
public class Sequencer(DurableObjectState ctx) : DurableObject(ctx)
{
    private readonly List<int> _started = [];
    private int _inside;
    private int _overlaps;
    private long _unsafeCounter;

    /// <summary>Records <paramref name="value"/> as started, then lets other events in before finishing.</summary>
    public async Task<int> Record(int value, bool yieldFirst = false)
    {
        _started.Add(value);
        if (yieldFirst)
        {
            await Task.Yield();
        }
        return _started.Count;
    }

    public Task<List<int>> Started() => Task.FromResult(_started);

    /// <summary>
    /// A read-modify-write split across an await, with the thread kept busy in between: any overlap of
    /// two threads in the instance shows up as a lost update or a counted overlap.
    /// </summary>
    public async Task<long> Touch()
    {
        Enter();
        var read = _unsafeCounter;
        Thread.SpinWait(200);
        _unsafeCounter = read + 1;
        Leave();
        await Task.Yield();
        Enter();
        Thread.SpinWait(50);
        Leave();
        return _unsafeCounter;
    }

    public Task<long> Touches() => Task.FromResult(_unsafeCounter);

    public Task<int> Overlaps() => Task.FromResult(_overlaps);

    /// <summary>True when code after an await runs on the same scheduler as before it.</summary>
    public async Task<bool> ContinuationReturnsToInstance()
    {
        var before = SynchronizationContext.Current;
        await Task.Delay(5);
        var afterDelay = SynchronizationContext.Current;
        await Task.Yield();
        return before is not null && ReferenceEquals(before, afterDelay) && ReferenceEquals(before, SynchronizationContext.Current);
    }

    private void Enter()
    {
        if (Interlocked.Increment(ref _inside) != 1)
        {
            Interlocked.Increment(ref _overlaps);
        }
    }

    private void Leave() => Interlocked.Decrement(ref _inside);
}
