namespace SourceGenDO.Server.Storage;

/// <summary>
/// Blocking waits for the storage's dedicated threads, on the task's kernel wait handle: <c>Task.Wait</c>
/// spins first (<c>sched_yield</c>), and these threads wait about a disk sync at a time, so spinning
/// would take a core from the instances and the network for nothing.
/// </summary>
internal static class KernelWait
{
    /// <summary>Blocks until <paramref name="pending"/> completes, then returns its result or throws its exception.</summary>
    public static T Result<T>(ValueTask<T> pending)
    {
        if (pending.IsCompleted)
        {
            return pending.GetAwaiter().GetResult();
        }
        var task = pending.AsTask();
        ((IAsyncResult)task).AsyncWaitHandle.WaitOne();
        return task.GetAwaiter().GetResult();
    }

    /// <summary>Blocks until <paramref name="pending"/> completes, then throws its exception if it failed.</summary>
    public static void Complete(ValueTask pending)
    {
        if (pending.IsCompleted)
        {
            pending.GetAwaiter().GetResult();
            return;
        }
        var task = pending.AsTask();
        ((IAsyncResult)task).AsyncWaitHandle.WaitOne();
        task.GetAwaiter().GetResult();
    }
}
