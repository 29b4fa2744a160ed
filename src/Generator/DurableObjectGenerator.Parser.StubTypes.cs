using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace SourceGenDO.Generator;

public sealed partial class DurableObjectGenerator
{
    internal sealed partial class Parser
    {
        private const string StubSuffix = "Stub";

        /// <summary>
        /// The stub type argument of a <c>DurableObjectNamespace&lt;TStub&gt;</c> constructor parameter as a
        /// global::-qualified name. A stub generated in this compilation is an error type here; it is found
        /// through the durable object class it is named after, looked up from where the parameter is written
        /// (so the user's usings apply), and otherwise emitted as written.
        /// </summary>
        private string ResolveStubType(IParameterSymbol parameter, ITypeSymbol stubType)
        {
            if (stubType.TypeKind != TypeKind.Error)
            {
                return stubType.WithNullableAnnotation(NullableAnnotation.NotAnnotated).ToDisplayString(SymbolNames.AnnotatedType);
            }
            var argument = FindStubTypeArgument(parameter);
            if (argument is null)
            {
                return stubType.ToDisplayString(SymbolNames.AnnotatedType);
            }
            var model = argument.SyntaxTree == _semanticModel.SyntaxTree
                ? _semanticModel
                : _semanticModel.Compilation.GetSemanticModel(argument.SyntaxTree);
            switch (argument)
            {
                case IdentifierNameSyntax identifier
                    when TryFindStub(model, identifier.SpanStart, identifier.Identifier.ValueText, out var resolved):
                    return resolved;
                case QualifiedNameSyntax { Right: IdentifierNameSyntax right } qualified
                    when model.GetSymbolInfo(qualified.Left, _cancellationToken).Symbol is INamespaceSymbol ns:
                    return ns.IsGlobalNamespace
                        ? "global::" + right.Identifier.ValueText
                        : "global::" + ns.ToDisplayString() + "." + right.Identifier.ValueText;
                default:
                    return argument.WithoutTrivia().ToString();
            }
        }

        private TypeSyntax? FindStubTypeArgument(IParameterSymbol parameter)
        {
            var reference = parameter.DeclaringSyntaxReferences.FirstOrDefault();
            if (reference?.GetSyntax(_cancellationToken) is not ParameterSyntax { Type: { } type })
            {
                return null;
            }
            var generic = type.DescendantNodesAndSelf()
                .OfType<GenericNameSyntax>()
                .FirstOrDefault(static g => g.Identifier.ValueText == "DurableObjectNamespace" && g.TypeArgumentList.Arguments.Count == 1);
            var argument = generic?.TypeArgumentList.Arguments[0];
            return argument is NullableTypeSyntax nullable ? nullable.ElementType : argument;
        }

        // "Outer_InnerStub" may name the stub of Outer.Inner or of a class called Outer_Inner: try every
        // split of the name at '_' into a type and its nested types.
        private bool TryFindStub(SemanticModel model, int position, string stubName, out string resolved)
        {
            resolved = null!;
            if (!stubName.EndsWith(StubSuffix, System.StringComparison.Ordinal) || stubName.Length == StubSuffix.Length)
            {
                return false;
            }
            var parts = stubName.Substring(0, stubName.Length - StubSuffix.Length).Split('_');
            if (parts.Length > 8)
            {
                return false;
            }
            foreach (var path in Splits(parts, 0))
            {
                foreach (var candidate in model.LookupNamespacesAndTypes(position, container: null, name: path[0]).OfType<INamedTypeSymbol>())
                {
                    var type = candidate;
                    for (var i = 1; type is not null && i < path.Count; i++)
                    {
                        type = type.GetTypeMembers(path[i]).FirstOrDefault(static t => t.Arity == 0);
                    }
                    if (type is not null && type.Arity == 0 && DerivesFromDurableObject(type))
                    {
                        var ns = SymbolNames.Namespace(type);
                        resolved = ns is null ? "global::" + stubName : "global::" + ns + "." + stubName;
                        return true;
                    }
                }
            }
            return false;
        }

        private static IEnumerable<List<string>> Splits(string[] parts, int start)
        {
            for (var end = parts.Length; end > start; end--)
            {
                var head = string.Join("_", parts, start, end - start);
                if (end == parts.Length)
                {
                    yield return new List<string> { head };
                    continue;
                }
                foreach (var rest in Splits(parts, end))
                {
                    rest.Insert(0, head);
                    yield return rest;
                }
            }
        }
    }
}
