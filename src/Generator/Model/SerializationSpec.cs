namespace SourceGenDO.Generator.Model;

/// <summary>
/// The assembly's serialization helpers, emitted once into one file and called by every class's stub
/// and dispatcher and by the storage codecs.
/// </summary>
/// <remarks>
/// Equality contract: value equality over all members. Both arrays are sorted by the helper names they
/// give, not by where the types were found, so the spec (and the file) changes only when the set of
/// types or results does.
/// </remarks>
/// <param name="Namespace">The assembly's generated namespace (<c>SymbolNames.GeneratedNamespace</c>).</param>
/// <param name="Types">Every type a durable object method or a storage call serializes, each once, by <see cref="TypeSpec.Id"/>.</param>
/// <param name="Results">Every value written or read as a message of its own (a method's result, a stored value), each once.</param>
internal sealed record SerializationSpec(
    string Namespace,
    ImmutableEquatableArray<TypeSpec> Types,
    ImmutableEquatableArray<ResultSpec> Results)
{
    /// <summary>Whether there is nothing to emit.</summary>
    public bool IsEmpty => Types.Count == 0 && Results.Count == 0;
}

/// <summary>The helpers of one value that is a message of its own, with the value as field 1.</summary>
/// <remarks>Equality contract: value equality over all members.</remarks>
/// <param name="Value">The value's type.</param>
/// <param name="Encoder">Whether a method returns it, so the dispatcher needs its result encoder.</param>
/// <param name="Reader">Whether something reads it taking an absent value as null or the default: a storage codec, or a stub whose result is not read as below.</param>
/// <param name="NonNullReader">Whether a stub reads it taking an absent value as empty: a string, array or collection result that admits no null.</param>
internal sealed record ResultSpec(ValueSpec Value, bool Encoder, bool Reader, bool NonNullReader);
