using System.ComponentModel;

namespace SourceGenDO.Dispatch;

/// <summary>
/// Creates instances of one durable object class and dispatches calls to them. The generator emits one
/// subclass per class; the server looks it up through <see cref="DurableObjectRegistry"/>.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public abstract class DurableObjectDispatcher
{
    /// <summary>The durable object class this dispatcher serves.</summary>
    public abstract Type ObjectType { get; }

    /// <summary>The full name of <see cref="ObjectType"/>, as stubs name it.</summary>
    public abstract string ClassName { get; }

    /// <summary>Constructs a new instance, resolving constructor parameters from <paramref name="state"/>.</summary>
    public abstract DurableObject Create(DurableObjectState state);

    /// <summary>
    /// Decodes <paramref name="arguments"/>, calls <paramref name="method"/> on <paramref name="instance"/>
    /// and returns the encoded result (empty for a method without one).
    /// </summary>
    /// <exception cref="DurableObjectException">The class has no callable method of that name.</exception>
    /// <exception cref="Serialization.WireFormatException">The arguments are malformed.</exception>
    public abstract ValueTask<ReadOnlyMemory<byte>> InvokeAsync(
        DurableObject instance, string method, ReadOnlyMemory<byte> arguments, CancellationToken cancellationToken);

    /// <summary>The error for a method name the class does not expose.</summary>
    protected static DurableObjectException UnknownMethod(string method) => new UnknownMethodException(method);

    /// <summary>Turns a method's task into the encoded result, without an extra state machine when it already finished.</summary>
    protected static ValueTask<ReadOnlyMemory<byte>> Complete(Task task)
    {
        return task.IsCompletedSuccessfully ? default : Await(task);

        static async ValueTask<ReadOnlyMemory<byte>> Await(Task task)
        {
            await task;
            return default;
        }
    }

    /// <inheritdoc cref="Complete(Task)"/>
    protected static ValueTask<ReadOnlyMemory<byte>> Complete(ValueTask task)
    {
        return task.IsCompletedSuccessfully ? default : Await(task);

        static async ValueTask<ReadOnlyMemory<byte>> Await(ValueTask task)
        {
            await task;
            return default;
        }
    }

    /// <inheritdoc cref="Complete(Task)"/>
    protected static ValueTask<ReadOnlyMemory<byte>> Complete<T>(Task<T> task, Func<T, ReadOnlyMemory<byte>> encode)
    {
        return task.IsCompletedSuccessfully ? new(encode(task.Result)) : Await(task, encode);

        static async ValueTask<ReadOnlyMemory<byte>> Await(Task<T> task, Func<T, ReadOnlyMemory<byte>> encode) =>
            encode(await task);
    }

    /// <inheritdoc cref="Complete(Task)"/>
    protected static ValueTask<ReadOnlyMemory<byte>> Complete<T>(ValueTask<T> task, Func<T, ReadOnlyMemory<byte>> encode)
    {
        return task.IsCompletedSuccessfully ? new(encode(task.Result)) : Await(task, encode);

        static async ValueTask<ReadOnlyMemory<byte>> Await(ValueTask<T> task, Func<T, ReadOnlyMemory<byte>> encode) =>
            encode(await task);
    }
}
