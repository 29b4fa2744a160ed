using System.Diagnostics;

namespace SourceGenDO.Soak.BadClients;

/// <summary>
/// One kind of bad client: runs until stopped, counting what it saw. Every wait it makes is bounded by
/// the hang threshold or by the stop.
/// </summary>
internal abstract class BadClient(string kind, TimeSpan hangThreshold)
{
    private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _hangs;

    public string Kind => kind;

    protected TimeSpan HangThreshold => hangThreshold;

    /// <summary>What the client saw, by kind.</summary>
    protected Outcomes Saw { get; } = new();

    /// <summary>Completes once the client is doing its bad thing (its connections are open).</summary>
    public Task Started => _started.Task;

    /// <summary>What the client does, in a sentence, for the report.</summary>
    protected abstract string Did { get; }

    /// <summary>Runs until <paramref name="stop"/> is cancelled.</summary>
    protected abstract Task RunAsync(CancellationToken stop);

    public async Task<BadClientResult> RunUntilStoppedAsync(CancellationToken stop)
    {
        Task run;
        try
        {
            run = Task.Run(() => RunAsync(stop), CancellationToken.None);
        }
        catch (Exception e)
        {
            run = Task.FromException(e);
        }
        // Stop, then give the client the hang threshold and a little to wind down; a client that does not
        // is reported (it is the soak's own bug) and left behind.
        var stopped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using (stop.Register(() => stopped.TrySetResult()))
        {
            await Task.WhenAny(run, stopped.Task);
        }
        var inTime = await Task.WhenAny(run, Task.Delay(HangThreshold + TimeSpan.FromSeconds(5))) == run;
        if (run.IsFaulted)
        {
            Saw.Add("the client itself failed: " + Outcomes.Describe(run.Exception!.GetBaseException()));
        }
        MarkStarted();
        return new BadClientResult(kind, Did, Saw.ToDictionary(), Interlocked.Read(ref _hangs), inTime);
    }

    protected void MarkStarted() => _started.TrySetResult();

    /// <summary>Counts something the server should have answered within the hang threshold and did not.</summary>
    protected void Hang(string what, long count = 1)
    {
        Interlocked.Add(ref _hangs, count);
        Saw.Add($"HANG: {what}", count);
    }

    /// <summary>Waits <paramref name="delay"/>, or less if stopped; never throws.</summary>
    protected static async Task PauseAsync(TimeSpan delay, CancellationToken stop)
    {
        try
        {
            await Task.Delay(delay, stop).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Seconds since <paramref name="startTimestamp"/>, for messages.</summary>
    protected static double SecondsSince(long startTimestamp) => Stopwatch.GetElapsedTime(startTimestamp).TotalSeconds;
}
