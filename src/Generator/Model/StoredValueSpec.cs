namespace SourceGenDO.Generator.Model;

/// <summary>
/// A value type that one storage call (<c>Ctx.Storage.Put(...)</c>, <c>GetAsync&lt;T&gt;(...)</c>, ...)
/// stores or reads and that needs a generated codec: anything but the scalars the runtime has built in.
/// </summary>
/// <remarks>
/// Equality contract: value equality over both members; many calls with the same type give equal
/// specs, and the assembly gets one codec per distinct <see cref="Value"/>.
/// </remarks>
/// <param name="Value">The type argument T, as serialized.</param>
/// <param name="Types">Every type <see cref="Value"/> reaches, itself first, each once.</param>
internal sealed record StoredValueSpec(ValueSpec Value, ImmutableEquatableArray<TypeSpec> Types);
