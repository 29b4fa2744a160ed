using Microsoft.CodeAnalysis;

namespace SourceGenDO.Generator;

/// <summary>
/// Every diagnostic the generator reports. Ids are stable: never renumber or reuse one. The title says
/// what is wrong; the message says how to fix it. docs/diagnostics.md lists them for users.
/// </summary>
internal static class DiagnosticDescriptors
{
    private const string Category = "SourceGenDO";

    private const string SupportedTypes =
        "primitives, string, byte[], Guid, DateTime, DateTimeOffset, TimeSpan, decimal, enums, nullable forms of these, arrays, List<T>, Dictionary<K,V>, records or classes of supported public properties, or Google.Protobuf messages";

    public static readonly DiagnosticDescriptor SynchronousMethod = new(
        id: "SGDO0001",
        title: "Public durable object method is synchronous",
        messageFormat: "Method '{0}' returns '{1}', so the stub cannot call it; make it return Task, Task<T>, ValueTask or ValueTask<T>, or make it non-public",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Warning,
        isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor ByReferenceParameter = new(
        id: "SGDO0002",
        title: "Public durable object method has a ref, out or in parameter",
        messageFormat: "Parameter '{1}' of method '{0}' is passed by reference ('{2}'), which a remote call cannot do; pass it by value and return results through the task, or make the method non-public",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Warning,
        isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor GenericMethod = new(
        id: "SGDO0003",
        title: "Public durable object method is generic",
        messageFormat: "Method '{0}' has type parameters, which the stub cannot serialize; use concrete types, or make the method non-public",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Warning,
        isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor OverloadedMethod = new(
        id: "SGDO0004",
        title: "Public durable object method is overloaded",
        messageFormat: "Method '{0}' has {1} public overloads, but calls are routed by name, so none of them is exposed; give each overload its own name, or make all but one non-public",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Warning,
        isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor UnsupportedParameterType = new(
        id: "SGDO0005",
        title: "Parameter type of a public durable object method cannot be serialized",
        messageFormat: "Parameter '{1}' of method '{0}' has type '{2}', which cannot be serialized ({3}); use " + SupportedTypes + ", or make the method non-public",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Warning,
        isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor UnsupportedReturnType = new(
        id: "SGDO0006",
        title: "Return type of a public durable object method cannot be serialized",
        messageFormat: "Method '{0}' returns a '{1}', which cannot be serialized ({2}); return " + SupportedTypes + ", or make the method non-public",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Warning,
        isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor StubMemberNameClash = new(
        id: "SGDO0007",
        title: "Public durable object method has the name of a stub member",
        messageFormat: "Method '{0}' has the same name as a member of the generated stub '{1}', so the stub cannot expose it; rename the method, or make it non-public",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Warning,
        isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor MisplacedCancellationToken = new(
        id: "SGDO0008",
        title: "CancellationToken parameter is not the last parameter",
        messageFormat: "Method '{0}' takes a CancellationToken that is not its last parameter, or takes more than one; take at most one CancellationToken, as the last parameter",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Warning,
        isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor InaccessibleClass = new(
        id: "SGDO0009",
        title: "Durable object class is not accessible from its namespace",
        messageFormat: "Class '{0}' is not accessible from its namespace, so no stub is generated for it; make it and every type that contains it public or internal (not private, protected or file)",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor GenericClass = new(
        id: "SGDO0010",
        title: "Durable object class is generic",
        messageFormat: "Class '{0}' is generic or nested in a generic type, so no stub is generated for it; derive a non-generic class from it (a generic abstract base class is fine)",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor NoPublicConstructor = new(
        id: "SGDO0011",
        title: "Durable object class has no public constructor",
        messageFormat: "Class '{0}' has no public constructor, so the runtime cannot create it and no stub is generated; add a public constructor, such as one taking a DurableObjectState",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor UnsupportedStoredValueType = new(
        id: "SGDO0012",
        title: "Stored value type cannot be serialized",
        messageFormat: "Storage call '{0}' {1} values of type '{2}', which cannot be serialized ({3}), so the call would fail at run time; store " + SupportedTypes,
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    // A warning, not an error: the call works at run time if the concrete types it is used with get
    // codecs from other calls, so a generic helper that is only used that way can suppress it.
    public static readonly DiagnosticDescriptor OpenStoredValueType = new(
        id: "SGDO0013",
        title: "Stored value type is a type parameter",
        messageFormat: "Storage call '{0}' {1} values of type '{2}', which is or contains the type parameter '{3}', so no codec is generated for it and the call fails at run time unless another call in the assembly uses the concrete type; call it with a concrete type, for example from the non-generic code that knows the type",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Warning,
        isEnabledByDefault: true);
}
