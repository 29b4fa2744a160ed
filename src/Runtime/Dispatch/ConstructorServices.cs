using System.ComponentModel;

namespace SourceGenDO.Dispatch;

/// <summary>Resolves the constructor parameters of durable objects; generated dispatchers call it.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class ConstructorServices
{
    /// <summary>The service <typeparamref name="T"/> from the host, or a clear error naming the class that needs it.</summary>
    public static T GetRequired<T>(DurableObjectState state, string className) where T : notnull =>
        state.Services.GetService(typeof(T)) is T service
            ? service
            : throw new InvalidOperationException(
                $"The constructor of '{className}' needs a '{typeof(T).FullName}', but the host has no such service registered.");

    /// <summary>The namespace hosting the class that <typeparamref name="TStub"/> calls.</summary>
    public static DurableObjectNamespace<TStub> GetNamespace<TStub>(DurableObjectState state, string className)
        where TStub : DurableObjectStub, IDurableObjectStub<TStub> =>
        GetRequired<IDurableObjectNamespaceProvider>(state, className).GetNamespace<TStub>();
}
