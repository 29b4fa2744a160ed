namespace SourceGenDO;

/// <summary>
/// The output gate of the instance whose code is running, as the client transport sees it: the server's
/// per-instance scheduler (the current <see cref="SynchronizationContext"/> inside object code)
/// implements it, so a call an object makes to another object after a write leaves only once that write
/// is durable.
/// </summary>
internal interface IOutputGate
{
    /// <summary>
    /// Null when every write made so far is durable; else a task that completes when they are, and faults
    /// (with the error the instance was reset with) when one of them failed.
    /// </summary>
    Task? PendingWrites { get; }
}
