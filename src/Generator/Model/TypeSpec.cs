namespace SourceGenDO.Generator.Model;

/// <summary>One serializable type and how it is encoded.</summary>
/// <remarks>
/// Equality contract: value equality over all members. Types refer to each other by
/// <see cref="TypeName"/> (through <see cref="ValueSpec"/>), never by reference, so recursive types
/// are plain data.
/// </remarks>
/// <param name="TypeName">The type as a global::-qualified C# reference without nullable reference annotations; unique per type.</param>
/// <param name="Id">
/// Names the type's helper methods: unique in the assembly and derived from the type alone, so that
/// every file that uses the type names the same helpers ("Int64", "ListOfOrder_" and a hash; see
/// <c>SymbolNames.HelperId</c>).
/// </param>
/// <param name="Kind">How the type is encoded.</param>
/// <param name="IsValueType">Whether the type is a value type (never null).</param>
/// <param name="Element">For arrays and lists, the element; for dictionaries, the value; otherwise null.</param>
/// <param name="Key">For dictionaries, the key; otherwise null.</param>
/// <param name="Properties">For objects, the serialized properties in field order; otherwise empty.</param>
internal sealed record TypeSpec(
    string TypeName,
    string Id,
    WireKind Kind,
    bool IsValueType,
    ValueSpec? Element,
    ValueSpec? Key,
    ImmutableEquatableArray<PropertySpec> Properties);

/// <summary>How a type is encoded on the wire.</summary>
internal enum WireKind
{
    Bool,
    SByte,
    Int16,
    Int32,
    Int64,
    Byte,
    UInt16,
    UInt32,
    UInt64,
    Char,
    Single,
    Double,
    Decimal,
    String,
    Bytes,
    Guid,
    DateTime,
    DateTimeOffset,
    TimeSpan,

    /// <summary>An enum written as its value widened to long.</summary>
    Enum,

    /// <summary>An enum based on ulong, written as its value as ulong.</summary>
    UnsignedEnum,

    /// <summary>A Google.Protobuf message, written as a nested message.</summary>
    Protobuf,

    /// <summary>A single-dimensional array: a nested message with one field 1 per element.</summary>
    Array,

    /// <summary>A <c>List&lt;T&gt;</c>, encoded like an array.</summary>
    List,

    /// <summary>A <c>Dictionary&lt;K,V&gt;</c>: a nested message with one entry {1: key, 2: value} per pair.</summary>
    Dictionary,

    /// <summary>A record, class or struct: a nested message with one field per serialized property.</summary>
    Object,
}
