using System.ComponentModel;

namespace SourceGenDO;

/// <summary>
/// Implemented by every generated stub, so that a namespace can create stubs of its type without
/// reflection.
/// </summary>
/// <typeparam name="TSelf">The stub type itself.</typeparam>
public interface IDurableObjectStub<TSelf> where TSelf : DurableObjectStub, IDurableObjectStub<TSelf>
{
    /// <summary>The full name of the durable object class the stub calls.</summary>
    static abstract string ObjectClassName { get; }

    /// <summary>Creates a stub over <paramref name="context"/>; namespaces call this.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    static abstract TSelf Create(StubContext context);
}
