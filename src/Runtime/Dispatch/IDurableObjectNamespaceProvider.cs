namespace SourceGenDO.Dispatch;

/// <summary>
/// Gives durable objects the namespaces of other classes, so that an object's constructor can take a
/// <see cref="DurableObjectNamespace{TStub}"/> parameter. The server registers one.
/// </summary>
public interface IDurableObjectNamespaceProvider
{
    /// <summary>The one namespace hosting the class <typeparamref name="TStub"/> calls.</summary>
    /// <exception cref="InvalidOperationException">No namespace, or more than one, hosts that class.</exception>
    DurableObjectNamespace<TStub> GetNamespace<TStub>() where TStub : DurableObjectStub, IDurableObjectStub<TStub>;
}
