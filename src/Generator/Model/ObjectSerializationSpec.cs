namespace SourceGenDO.Generator.Model;

/// <summary>What one durable object class adds to the assembly's serialization helpers (<see cref="SerializationSpec"/>).</summary>
/// <remarks>Equality contract: value equality over both members.</remarks>
/// <param name="Types">Every type the exposed methods serialize, members included, each once, in the order a walk from the methods meets them.</param>
/// <param name="Results">The methods' results, each once, with the helpers the stub and dispatcher call for them.</param>
internal sealed record ObjectSerializationSpec(
    ImmutableEquatableArray<TypeSpec> Types,
    ImmutableEquatableArray<ResultSpec> Results);
