namespace SourceGenDO.Generator.Model;

/// <summary>The assembly's storage codecs: one <c>ValueCodec&lt;T&gt;</c> per distinct stored value type, and their registration.</summary>
/// <remarks>Equality contract: value equality over all members; <see cref="Values"/> is sorted by helper name.</remarks>
/// <param name="Namespace">The assembly's generated namespace, where the helpers the codecs call live.</param>
/// <param name="Values">The stored value types, each once.</param>
/// <param name="Types">The type of each of <see cref="Values"/>, each once: a codec writes an enum or a message inline.</param>
internal sealed record StorageCodecsSpec(
    string Namespace,
    ImmutableEquatableArray<ValueSpec> Values,
    ImmutableEquatableArray<TypeSpec> Types);
