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
///     private long _value;
///     public Task&lt;long&gt; Increment(long amount = 1) =&gt; Task.FromResult(_value += amount);
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

    /// <summary>The instance's state: its id and, in later releases, storage and sockets.</summary>
    protected DurableObjectState Ctx { get; }
}
