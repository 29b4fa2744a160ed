using System.Collections.Concurrent;

namespace SourceGenDO.TestObjects;

/// <summary>Waits until its caller cancels, and records that it saw the cancellation.</summary>
public class Canceller(DurableObjectState ctx) : DurableObject(ctx)
{
    public static readonly ConcurrentDictionary<string, TaskCompletionSource> Observed = new();

    public async Task<string> WaitUntilCanceled(string tag, CancellationToken cancellationToken = default)
    {
        try
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
            return tag;
        }
        catch (OperationCanceledException)
        {
            ObservedFor(tag).TrySetResult();
            throw;
        }
    }

    public Task<string> Echo(string tag) => Task.FromResult(tag);

    public static TaskCompletionSource ObservedFor(string tag) =>
        Observed.GetOrAdd(tag, static _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
}
