using System.Security.Cryptography;

namespace SourceGenDO;

/// <summary>
/// Names one durable object instance within its namespace: 32 bytes, printed as 64 lowercase hex digits.
/// </summary>
/// <remarks>
/// Bytes 0-15 are random (<see cref="DurableObjectNamespace{TStub}.NewUniqueId"/>) or a keyed hash of
/// the name (<see cref="DurableObjectNamespace{TStub}.IdFromName"/>); bytes 16-31 are a keyed MAC of
/// bytes 0-15 under the namespace's key, so an id cannot be forged and belongs to one namespace.
/// Equality compares the 32 bytes only and ignores <see cref="Name"/>.
/// </remarks>
public sealed class DurableObjectId : IEquatable<DurableObjectId>
{
    /// <summary>The length of an id in bytes.</summary>
    public const int ByteLength = 32;

    /// <summary>The longest name, in UTF-8 bytes, that an id carries along as <see cref="Name"/>.</summary>
    public const int MaxNameBytes = 1024;

    private readonly byte[] _bytes;
    private string? _hex;

    internal DurableObjectId(byte[] bytes, string? name)
    {
        _bytes = bytes;
        Name = name;
    }

    /// <summary>The name this id was derived from, or null for unique ids and ids parsed from a string.</summary>
    public string? Name { get; }

    internal ReadOnlySpan<byte> Bytes => _bytes;

    /// <summary>
    /// An id for unit tests that construct an object directly (<c>new Counter(new DurableObjectState(id))</c>):
    /// derived from <paramref name="name"/> (or random when null) under a fixed test key, so it is valid in
    /// no namespace of any server.
    /// </summary>
    public static DurableObjectId ForTesting(string? name = null) =>
        name is null ? Ids.NamespaceIdKey.Testing.NewUnique() : Ids.NamespaceIdKey.Testing.FromName(name);

    internal DurableObjectId WithName(string? name) => name == Name ? this : new DurableObjectId(_bytes, name) { _hex = _hex };

    /// <summary>The id as 64 lowercase hex digits; <c>IdFromString</c> turns it back into an id.</summary>
    public override string ToString() => _hex ??= Convert.ToHexStringLower(_bytes);

    /// <inheritdoc />
    public bool Equals(DurableObjectId? other) =>
        other is not null && (ReferenceEquals(this, other) || _bytes.AsSpan().SequenceEqual(other._bytes));

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is DurableObjectId other && Equals(other);

    /// <inheritdoc />
    // The first bytes are random or a keyed hash, so they spread well on their own.
    public override int GetHashCode() => BitConverter.ToInt32(_bytes, 0);

    /// <summary>True when both ids have the same 32 bytes.</summary>
    public static bool operator ==(DurableObjectId? left, DurableObjectId? right) =>
        left is null ? right is null : left.Equals(right);

    /// <summary>True when the ids differ in their 32 bytes.</summary>
    public static bool operator !=(DurableObjectId? left, DurableObjectId? right) => !(left == right);

    internal static bool FixedTimeEquals(ReadOnlySpan<byte> left, ReadOnlySpan<byte> right) =>
        CryptographicOperations.FixedTimeEquals(left, right);
}
