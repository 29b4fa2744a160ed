namespace SourceGenDO.Generator.Model;

/// <summary>A use of a serializable type: the type, and whether it is wrapped in <c>Nullable&lt;T&gt;</c>.</summary>
/// <remarks>Equality contract: value equality over both members.</remarks>
/// <param name="TypeName">The <see cref="TypeSpec.TypeName"/> of the (underlying) type.</param>
/// <param name="IsNullableValueType">Whether the use is <c>T?</c> of a value type T.</param>
internal sealed record ValueSpec(string TypeName, bool IsNullableValueType);
