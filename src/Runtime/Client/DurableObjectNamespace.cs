using SourceGenDO.Ids;

namespace SourceGenDO;

/// <summary>
/// One durable object class as hosted under a namespace name: it makes ids and typed stubs. Every
/// operation is local; nothing here touches the network.
/// </summary>
/// <typeparam name="TStub">The generated stub type of the class, <c>&lt;ClassName&gt;Stub</c>.</typeparam>
public sealed partial class DurableObjectNamespace<TStub> where TStub : DurableObjectStub, IDurableObjectStub<TStub>
{
    private readonly DurableObjectClient _client;
    private readonly NamespaceIdKey _key;

    internal DurableObjectNamespace(DurableObjectClient client, string name, NamespaceIdKey key)
    {
        _client = client;
        _key = key;
        Name = name;
    }

    /// <summary>The namespace name, for example "COUNTERS".</summary>
    public string Name { get; }

    /// <summary>The id for <paramref name="name"/>: the same name always gives the same id in this namespace, and another id in any other.</summary>
    public DurableObjectId IdFromName(string name) => _key.FromName(name);

    /// <summary>A new random id that has never been used.</summary>
    public DurableObjectId NewUniqueId() => _key.NewUnique();

    /// <summary>Parses an id printed by <see cref="DurableObjectId.ToString"/>.</summary>
    /// <exception cref="ArgumentException">The text is not 64 hex digits, or the id belongs to another namespace.</exception>
    public DurableObjectId IdFromString(string hex) => _key.Parse(hex);

    /// <summary>A stub for the object <paramref name="id"/>; no I/O happens until its first call.</summary>
    /// <exception cref="ArgumentException">The id belongs to another namespace.</exception>
    public TStub Get(DurableObjectId id)
    {
        ArgumentNullException.ThrowIfNull(id);
        if (!_key.Owns(id))
        {
            throw new ArgumentException(NamespaceIdKey.ForeignIdMessage);
        }
        return TStub.Create(new StubContext(new StubChannel(_client, Name, id)));
    }

    /// <summary>A stub for the object named <paramref name="name"/>; the same as <c>Get(IdFromName(name))</c>.</summary>
    public TStub GetByName(string name) => Get(IdFromName(name));
}
