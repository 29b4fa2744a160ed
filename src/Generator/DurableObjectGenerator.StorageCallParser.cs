using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using SourceGenDO.Generator.Model;

namespace SourceGenDO.Generator;

public sealed partial class DurableObjectGenerator
{
    /// <summary>
    /// Finds the value type of one call to a generic method of <c>SourceGenDO.DurableObjectStorageOperations</c>
    /// (through <c>Ctx.Storage</c>, a transaction or the base type), or to a WebSocket's attachment methods
    /// (<c>SourceGenDO.DurableWebSocket.SerializeAttachment</c> / <c>DeserializeAttachment</c>, which encode
    /// as stored values do), and decides how it is stored: nothing
    /// for the scalars the runtime has codecs for, a <see cref="StoredValueSpec"/> for the rest, a
    /// diagnostic at the call for a type that cannot be stored.
    /// </summary>
    internal static class StorageCallParser
    {
        // The generic methods of DurableObjectStorageOperations and DurableWebSocket; each takes or returns values of its T.
        private static readonly HashSet<string> MethodNames = new(StringComparer.Ordinal)
        {
            "GetAsync", "Put", "PutAsync", "ListAsync", "SerializeAttachment", "DeserializeAttachment",
        };

        /// <summary>Syntax only: an invocation whose method is named like a storage method (most are not; the transform tells).</summary>
        public static bool IsCandidate(SyntaxNode node) =>
            node is InvocationExpressionSyntax invocation && MethodName(invocation) is { } name && MethodNames.Contains(name.Identifier.ValueText);

        /// <summary>The result for the call <paramref name="context"/> holds, or null when it is not a storage call or needs nothing.</summary>
        public static ParseResult<StoredValueSpec>? Parse(GeneratorSyntaxContext context, CancellationToken cancellationToken)
        {
            var invocation = (InvocationExpressionSyntax)context.Node;
            // Unresolved or ambiguous calls have no symbol; the compiler reports those.
            if (context.SemanticModel.GetSymbolInfo(invocation, cancellationToken).Symbol is not IMethodSymbol { IsGenericMethod: true, TypeArguments.Length: 1 } method
                || !(IsStorageOperations(method.ContainingType) || IsWebSocket(method.ContainingType)))
            {
                return null;
            }
            var valueType = method.TypeArguments[0];
            if (Parser.ContainsErrorType(valueType))
            {
                return null;
            }
            var location = MethodName(invocation)!.GetLocation();
            var verb = method.Name.StartsWith("Put", StringComparison.Ordinal) || method.Name == "SerializeAttachment" ? "stores" : "reads";
            var display = valueType.ToDisplayString(SymbolNames.Message);
            if (FindTypeParameter(valueType) is { } typeParameter)
            {
                return Failure(Diagnostic.Create(DiagnosticDescriptors.OpenStoredValueType, location, method.Name, verb, display, typeParameter.Name));
            }

            var types = new Parser.TypeModelBuilder(context.SemanticModel.Compilation, "where the value is stored", cancellationToken);
            var analysis = types.AnalyzeRoot(valueType);
            if (analysis.Value is not { } value)
            {
                return analysis.Failure is null
                    ? null
                    : Failure(Diagnostic.Create(DiagnosticDescriptors.UnsupportedStoredValueType, location, method.Name, verb, display, analysis.Failure));
            }
            var reached = types.Collect(new ValueSpec?[] { value });
            // The runtime registers the scalars and their nullable forms itself (ScalarCodecs).
            if (Parser.TypeModelBuilder.IsScalarKind(reached[0].Kind))
            {
                return null;
            }
            return new ParseResult<StoredValueSpec>(new StoredValueSpec(value, reached), ImmutableArray<Diagnostic>.Empty);
        }

        private static ParseResult<StoredValueSpec> Failure(Diagnostic diagnostic) => new(null, ImmutableArray.Create(diagnostic));

        // x.Put(...), x?.Put(...), and a bare Put(...) inside the type itself.
        private static SimpleNameSyntax? MethodName(InvocationExpressionSyntax invocation) => invocation.Expression switch
        {
            MemberAccessExpressionSyntax access => access.Name,
            MemberBindingExpressionSyntax binding => binding.Name,
            SimpleNameSyntax name => name,
            _ => null,
        };

        /// <summary>Whether <paramref name="type"/> is <c>SourceGenDO.DurableObjectStorageOperations</c> (compared by name: no compilation lookup).</summary>
        private static bool IsStorageOperations(INamedTypeSymbol? type) =>
            type is { Name: "DurableObjectStorageOperations", Arity: 0, ContainingType: null, ContainingNamespace: { Name: "SourceGenDO", ContainingNamespace.IsGlobalNamespace: true } };

        /// <summary>Whether <paramref name="type"/> is <c>SourceGenDO.DurableWebSocket</c>, whose attachments are encoded as stored values.</summary>
        private static bool IsWebSocket(INamedTypeSymbol? type) =>
            type is { Name: "DurableWebSocket", Arity: 0, ContainingType: null, ContainingNamespace: { Name: "SourceGenDO", ContainingNamespace.IsGlobalNamespace: true } };

        private static ITypeParameterSymbol? FindTypeParameter(ITypeSymbol type) => type switch
        {
            ITypeParameterSymbol parameter => parameter,
            IArrayTypeSymbol array => FindTypeParameter(array.ElementType),
            INamedTypeSymbol named => named.TypeArguments.Select(FindTypeParameter).FirstOrDefault(static p => p is not null)
                ?? (named.ContainingType is { } containing ? FindTypeParameter(containing) : null),
            _ => null,
        };
    }
}
