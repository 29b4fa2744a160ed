namespace SourceGenDO.Generator.Model;

/// <summary>
/// Everything needed to emit the file of one durable object class: its stub, dispatcher and
/// registration. The serialization helpers they call are the assembly's (<see cref="SerializationSpec"/>).
/// </summary>
/// <remarks>
/// Equality contract: two specs are equal when every member is equal by value. The spec and everything
/// it reaches hold only strings, bools, ints, enums, other specs and
/// <see cref="ImmutableEquatableArray{T}"/>, never an ISymbol, SyntaxNode, Location or Compilation, so
/// an edit that does not change what is emitted yields an equal spec and the emission step is skipped.
/// </remarks>
/// <param name="HintName">The generated file's name, derived from the class's metadata name.</param>
/// <param name="Namespace">The class's namespace, without "global::"; null for the global namespace.</param>
/// <param name="ClassName">The class's full metadata name, as <c>typeof(T).FullName</c> gives it ("Shop.Outer+Inner").</param>
/// <param name="FullyQualifiedName">The class as a C# type reference ("global::Shop.Outer.Inner").</param>
/// <param name="TypeNamePrefix">The containing type names and the class name joined by '_' ("Outer_Inner"); generated type names start with it.</param>
/// <param name="IsPublic">Whether the stub is public (the class is public all the way out) rather than internal.</param>
/// <param name="ConstructorArguments">How each parameter of the constructor the dispatcher calls is obtained.</param>
/// <param name="Methods">The exposed methods, base class methods first, in declaration order.</param>
/// <param name="Types">
/// The types of the exposed methods' parameters and results, each once, without their members (no
/// properties, elements or keys): all the stub and dispatcher need to write scalars inline and to name
/// the assembly's helpers. An edit inside a record therefore leaves this spec equal, and only the
/// assembly's helpers are emitted again (<see cref="ObjectSerializationSpec"/>).
/// </param>
internal sealed record ObjectSpec(
    string HintName,
    string? Namespace,
    string ClassName,
    string FullyQualifiedName,
    string TypeNamePrefix,
    bool IsPublic,
    ImmutableEquatableArray<ConstructorArgumentSpec> ConstructorArguments,
    ImmutableEquatableArray<MethodSpec> Methods,
    ImmutableEquatableArray<TypeSpec> Types)
{
    /// <summary>The stub's simple name ("Outer_InnerStub").</summary>
    public string StubName => TypeNamePrefix + "Stub";
}
