namespace SourceGenDO.Generator.Model;

/// <summary>One parameter of an exposed method.</summary>
/// <remarks>Equality contract: value equality over all members.</remarks>
/// <param name="Identifier">The parameter's name as a C# identifier.</param>
/// <param name="Type">The type as written, global::-qualified, nullable annotations kept.</param>
/// <param name="DefaultValue">The default value as a C# expression; null when the parameter has none.</param>
/// <param name="IsParams">Whether the parameter is declared with <c>params</c>.</param>
/// <param name="Field">The argument message field (1-based); 0 for the CancellationToken.</param>
/// <param name="Value">How the argument is serialized; null for the CancellationToken.</param>
/// <param name="AllowsNull">Whether the type admits null: annotated with '?', or declared where nullable annotations are disabled.</param>
internal sealed record ParameterSpec(
    string Identifier,
    string Type,
    string? DefaultValue,
    bool IsParams,
    int Field,
    ValueSpec? Value,
    bool AllowsNull)
{
    /// <summary>Whether this is the trailing CancellationToken, which is passed along, not serialized.</summary>
    public bool IsCancellationToken => Value is null;
}
