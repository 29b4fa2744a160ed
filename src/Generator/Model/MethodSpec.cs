namespace SourceGenDO.Generator.Model;

/// <summary>One exposed method of a durable object: what the stub declares and the dispatcher calls.</summary>
/// <remarks>Equality contract: value equality over all members.</remarks>
/// <param name="Name">The method's name, as sent on the wire.</param>
/// <param name="Identifier">The name as a C# identifier (escaped with '@' when it is a keyword).</param>
/// <param name="ReturnKind">Which task type the method returns.</param>
/// <param name="ReturnType">The return type as written, global::-qualified, nullable annotations kept.</param>
/// <param name="ResultType">For <c>Task&lt;T&gt;</c> and <c>ValueTask&lt;T&gt;</c>, T as written; otherwise null.</param>
/// <param name="Result">How T is serialized; null when there is no T.</param>
/// <param name="ResultAllowsNull">Whether T admits null: annotated with '?', or declared where nullable annotations are disabled.</param>
/// <param name="Parameters">The parameters in declaration order, a trailing CancellationToken included.</param>
/// <param name="DocumentationCref">A cref to the object method, for the stub method's inheritdoc.</param>
internal sealed record MethodSpec(
    string Name,
    string Identifier,
    ReturnKind ReturnKind,
    string ReturnType,
    string? ResultType,
    ValueSpec? Result,
    bool ResultAllowsNull,
    ImmutableEquatableArray<ParameterSpec> Parameters,
    string DocumentationCref);

/// <summary>The task types an exposed method can return.</summary>
internal enum ReturnKind
{
    Task,
    TaskOfT,
    ValueTask,
    ValueTaskOfT,
}
