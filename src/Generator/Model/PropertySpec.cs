namespace SourceGenDO.Generator.Model;

/// <summary>One serialized property of a record, class or struct.</summary>
/// <remarks>Equality contract: value equality over all members.</remarks>
/// <param name="Identifier">The property's name as a C# identifier.</param>
/// <param name="Field">The field number in the type's message (1-based).</param>
/// <param name="Value">How the property's value is serialized.</param>
/// <param name="ConstructorPosition">The position of the constructor parameter that sets it when read; -1 for none.</param>
/// <param name="InInitializer">Whether reading sets it in the object initializer (settable, or required and not set by the constructor).</param>
/// <param name="AllowsNull">Whether the property's type admits null: annotated with '?', or declared where nullable annotations are disabled.</param>
internal sealed record PropertySpec(
    string Identifier,
    int Field,
    ValueSpec Value,
    int ConstructorPosition,
    bool InInitializer,
    bool AllowsNull);
