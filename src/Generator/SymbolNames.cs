using System.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace SourceGenDO.Generator;

/// <summary>How symbols are named in generated code, in file names and in diagnostics.</summary>
internal static class SymbolNames
{
    /// <summary>A type as written in a signature: global::-qualified, keywords for special types, nullable annotations kept.</summary>
    public static readonly SymbolDisplayFormat AnnotatedType = SymbolDisplayFormat.FullyQualifiedFormat.WithMiscellaneousOptions(
        SymbolDisplayMiscellaneousOptions.EscapeKeywordIdentifiers
        | SymbolDisplayMiscellaneousOptions.UseSpecialTypes
        | SymbolDisplayMiscellaneousOptions.IncludeNullableReferenceTypeModifier);

    /// <summary>A type without nullable reference annotations (<c>T?</c> of value types stays): identifies serializable types.</summary>
    public static readonly SymbolDisplayFormat ObliviousType = SymbolDisplayFormat.FullyQualifiedFormat;

    /// <summary>A type or member as diagnostics name it.</summary>
    public static readonly SymbolDisplayFormat Message = SymbolDisplayFormat.CSharpShortErrorMessageFormat;

    /// <summary>The name as a C# identifier: '@' before keywords.</summary>
    public static string Escape(string name) =>
        SyntaxFacts.GetKeywordKind(name) != SyntaxKind.None ? "@" + name : name;

    /// <summary>The full metadata name, as <c>Type.FullName</c> gives it for a non-generic type ("Shop.Outer+Inner").</summary>
    public static string MetadataName(INamedTypeSymbol type)
    {
        var builder = new StringBuilder(type.MetadataName);
        for (var containing = type.ContainingType; containing is not null; containing = containing.ContainingType)
        {
            builder.Insert(0, containing.MetadataName + "+");
        }
        var ns = Namespace(type);
        if (ns is not null)
        {
            builder.Insert(0, ns + ".");
        }
        return builder.ToString();
    }

    /// <summary>The namespace without "global::", or null for the global namespace.</summary>
    public static string? Namespace(INamedTypeSymbol type) =>
        type.ContainingNamespace is { IsGlobalNamespace: false } ns ? ns.ToDisplayString() : null;

    /// <summary>The containing type names and the type's name joined by '_' ("Outer_Inner").</summary>
    public static string NestedName(INamedTypeSymbol type)
    {
        var builder = new StringBuilder(type.Name);
        for (var containing = type.ContainingType; containing is not null; containing = containing.ContainingType)
        {
            builder.Insert(0, containing.Name + "_");
        }
        return builder.ToString();
    }

    /// <summary>
    /// The namespace of the assembly-level generated code ("SourceGenDO.Generated.Shop_App"). It names the
    /// assembly, so that two assemblies whose internals are visible to each other never declare the same
    /// internal type (CS0436).
    /// </summary>
    public static string GeneratedNamespace(string? assemblyName)
    {
        var builder = new StringBuilder("SourceGenDO.Generated.");
        if (string.IsNullOrEmpty(assemblyName) || !SyntaxFacts.IsIdentifierStartCharacter(assemblyName![0]))
        {
            builder.Append('_');
        }
        foreach (var c in assemblyName ?? "")
        {
            builder.Append(SyntaxFacts.IsIdentifierPartCharacter(c) ? c : '_');
        }
        return builder.ToString();
    }

    /// <summary>
    /// The name fragment of a serialized type's helpers, the same wherever the type is used, so that a
    /// class's file can name the assembly's helpers without knowing the other types. A scalar is named
    /// by its CLR name alone ("Int64"); every other type by a readable part and a hash of
    /// <paramref name="typeName"/> ("ListOfOrder_" and 16 hex digits), since readable parts alone
    /// collide (Shop.Order and Billing.Order, List&lt;int[]&gt; and List&lt;int&gt;[]). Scalar names
    /// contain no '_', so they never meet a hashed one.
    /// </summary>
    /// <param name="typeName">The type's global::-qualified name without nullable reference annotations.</param>
    public static string HelperId(ITypeSymbol type, string typeName, bool isScalar) =>
        isScalar ? IdentifierFor(type) : IdentifierFor(type) + "_" + StableHash.Hex(typeName);

    /// <summary>A readable identifier fragment for a type ("ListOfOrder", "Int32Array", "NullableInt32").</summary>
    public static string IdentifierFor(ITypeSymbol type)
    {
        switch (type)
        {
            case IArrayTypeSymbol array:
                return IdentifierFor(array.ElementType) + "Array";
            case INamedTypeSymbol { OriginalDefinition.SpecialType: SpecialType.System_Nullable_T } nullable:
                return "Nullable" + IdentifierFor(nullable.TypeArguments[0]);
            case INamedTypeSymbol named:
                var builder = new StringBuilder(NestedName(named));
                for (var i = 0; i < named.TypeArguments.Length; i++)
                {
                    builder.Append(i == 0 ? "Of" : "And").Append(IdentifierFor(named.TypeArguments[i]));
                }
                return builder.ToString();
            default:
                return type.Name;
        }
    }
}
