namespace SourceGenDO;

/// <summary>
/// The base class of a durable object: a uniquely addressable instance that runs its code one piece at
/// a time. Every public method returning <see cref="Task"/>, <see cref="Task{TResult}"/>,
/// <see cref="ValueTask"/> or <see cref="ValueTask{TResult}"/> is callable through the typed stub the
/// generator emits as <c>&lt;ClassName&gt;Stub</c>.
/// </summary>
/// <example>
/// <code>
/// public class Counter(DurableObjectState ctx) : DurableObject(ctx)
/// {
///     public async Task&lt;long&gt; Increment(long amount = 1)
///     {
///         long value = await Ctx.Storage.GetAsync&lt;long&gt;("value") + amount;
///         Ctx.Storage.Put("value", value);   // not awaited: the output gate makes it safe
///         return value;
///     }
/// }
/// </code>
/// </example>
public abstract class DurableObject
{
    /// <summary>Creates the object for the instance <paramref name="ctx"/> describes.</summary>
    protected DurableObject(DurableObjectState ctx)
    {
        ArgumentNullException.ThrowIfNull(ctx);
        Ctx = ctx;
    }

    /// <summary>The instance's state: its id, storage and host services.</summary>
    protected DurableObjectState Ctx { get; }

    /// <summary>
    /// Runs when the alarm set with <see cref="DurableObjectStorageOperations.SetAlarmAsync"/> is due: at
    /// least once, at or soon after its time, also after the server restarted or the instance was
    /// evicted. If it throws, it is retried with exponential backoff (the first retry after about 2 s, at
    /// most <see cref="AlarmInfo.MaxRetries"/> retries). It is never run for two alarms of one instance at
    /// once. The default does nothing.
    /// </summary>
    protected internal virtual Task Alarm(AlarmInfo alarmInfo) => Task.CompletedTask;
}
