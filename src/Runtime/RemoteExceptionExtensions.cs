namespace SourceGenDO;

/// <summary>
/// Tells whether an exception came from a durable object, also for standard exception types that are
/// re-raised as themselves (an <see cref="InvalidOperationException"/> thrown by object code arrives as
/// an <see cref="InvalidOperationException"/>).
/// </summary>
public static class RemoteExceptionExtensions
{
    internal const string RemoteKey = "SourceGenDO.Remote";
    internal const string IdKey = "SourceGenDO.DurableObjectId";

    /// <summary>True when object code on the server threw this exception.</summary>
    public static bool IsRemote(this Exception exception) =>
        exception is DurableObjectException durable
            ? durable.Remote
            : exception.Data[RemoteKey] is true;

    /// <summary>The id of the object that threw this exception, or null when it did not come from one.</summary>
    public static DurableObjectId? GetDurableObjectId(this Exception exception) =>
        exception is DurableObjectException durable
            ? durable.DurableObjectId
            : exception.Data[IdKey] as DurableObjectId;
}
