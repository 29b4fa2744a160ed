namespace SourceGenDO.Generator.Model;

/// <summary>
/// The two models of one durable object class: its own file's, and its share of the assembly's
/// serialization helpers. The pipeline caches each on its own, so that an edit inside a record changes
/// only the second.
/// </summary>
/// <remarks>Equality contract: value equality over both members.</remarks>
internal sealed record ParsedObject(ObjectSpec File, ObjectSerializationSpec Serialization);
