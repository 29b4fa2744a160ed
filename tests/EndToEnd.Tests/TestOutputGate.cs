namespace SourceGenDO.EndToEnd.Tests;

/// <summary>
/// Stands in for an object's scheduler as the client transport sees it: the context of code whose
/// writes are pending until the test says otherwise. Posted callbacks run on the thread pool, with
/// this context current again.
/// </summary>
internal sealed class TestOutputGate : SynchronizationContext, IOutputGate
{
    public Task? PendingWrites { get; set; }

    /// <summary>Runs <paramref name="code"/> as object code: with this gate as the current context.</summary>
    public T Run<T>(Func<T> code)
    {
        var previous = Current;
        SetSynchronizationContext(this);
        try
        {
            return code();
        }
        finally
        {
            SetSynchronizationContext(previous);
        }
    }

    public override void Post(SendOrPostCallback callback, object? state) =>
        ThreadPool.UnsafeQueueUserWorkItem(_ => Run(() =>
        {
            callback(state);
            return 0;
        }), null);

    public override void Send(SendOrPostCallback callback, object? state) => Run(() =>
    {
        callback(state);
        return 0;
    });

    public override SynchronizationContext CreateCopy() => this;
}
