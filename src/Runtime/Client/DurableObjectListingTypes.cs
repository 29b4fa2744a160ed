namespace SourceGenDO;

/// <summary>
/// One namespace of a server, as <see cref="DurableObjectClient.ListNamespacesAsync"/> and the HTTP listing
/// API (<c>GET /api/durable_objects/namespaces</c>) report it.
/// </summary>
/// <param name="Id">
/// The namespace's id: 32 lowercase hex digits derived from its id key, so it stays the same as long as
/// the server's secret does. The HTTP API accepts it (or the name) in <c>/namespaces/{namespace}/objects</c>.
/// </param>
/// <param name="Name">The namespace name, for example "COUNTERS".</param>
/// <param name="ClassName">The full .NET name of the durable object class the namespace hosts.</param>
public sealed record DurableObjectNamespaceInfo(string Id, string Name, string ClassName);

/// <summary>
/// One object of a namespace, as <see cref="DurableObjectNamespace{TStub}.ListObjectsAsync"/> and the HTTP
/// listing API (<c>GET /api/durable_objects/namespaces/{namespace}/objects</c>) report it. The listing holds
/// the objects that have keys or an alarm stored, as committed: anything a call acknowledged is in it.
/// </summary>
/// <param name="Id">The object's id, with <see cref="DurableObjectId.Name"/> set when the server knows the name; pass it to <c>Get</c>.</param>
/// <param name="HasStoredData">True when the object has at least one key stored; false for one that has only an alarm.</param>
public sealed record DurableObjectInfo(DurableObjectId Id, bool HasStoredData)
{
    /// <summary>The name the id was derived from, when the server knows it (the same as <c>Id.Name</c>).</summary>
    public string? Name => Id.Name;
}
