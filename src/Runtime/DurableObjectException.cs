namespace SourceGenDO;

/// <summary>
/// An error of a durable object call: infrastructure failures (a lost connection, an overloaded or
/// reset object, an unknown method) and exceptions thrown by object code whose type is not one of the
/// standard types re-raised as themselves (see README, "Errors").
/// </summary>
public class DurableObjectException : Exception
{
    /// <summary>Creates the exception with a message.</summary>
    public DurableObjectException(string message) : base(message)
    {
    }

    /// <summary>Creates the exception with a message and the exception that caused it.</summary>
    public DurableObjectException(string message, Exception? innerException) : base(message, innerException)
    {
    }

    /// <summary>
    /// True when the connection was lost: the stub is broken, and retrying with a new stub from the
    /// namespace is safe when the operation is idempotent.
    /// </summary>
    public bool Retryable { get; init; }

    /// <summary>True when the object had too many requests queued. Do not retry.</summary>
    public bool Overloaded { get; init; }

    /// <summary>True when the object instance was reset; its in-memory state is gone.</summary>
    public bool DurableObjectReset { get; init; }

    /// <summary>True when object code threw this; false when the runtime did.</summary>
    public bool Remote { get; init; }

    /// <summary>The full .NET type name of the exception object code threw, when <see cref="Remote"/>.</summary>
    public string? RemoteType { get; init; }

    /// <summary>The object the error came from, when known.</summary>
    public DurableObjectId? DurableObjectId { get; init; }
}
