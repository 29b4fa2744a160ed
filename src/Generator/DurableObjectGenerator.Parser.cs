using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using SourceGenDO.Generator.Model;

namespace SourceGenDO.Generator;

public sealed partial class DurableObjectGenerator
{
    /// <summary>
    /// Turns one durable object class into an <see cref="ObjectSpec"/> and its diagnostics. Symbols are
    /// used only here; nothing symbolic leaves the parser.
    /// </summary>
    internal sealed partial class Parser
    {
        private readonly SemanticModel _semanticModel;
        private readonly INamedTypeSymbol _type;
        private readonly ClassDeclarationSyntax _declaration;
        private readonly CancellationToken _cancellationToken;
        private readonly ImmutableArray<Diagnostic>.Builder _diagnostics = ImmutableArray.CreateBuilder<Diagnostic>();
        private readonly TypeModelBuilder _types;

        private Parser(SemanticModel semanticModel, INamedTypeSymbol type, ClassDeclarationSyntax declaration, CancellationToken cancellationToken)
        {
            _semanticModel = semanticModel;
            _type = type;
            _declaration = declaration;
            _cancellationToken = cancellationToken;
            _types = new TypeModelBuilder(semanticModel.Compilation, "when the stub is generated", cancellationToken);
        }

        /// <summary>The parse result for the class <paramref name="context"/> declares, or null when it is not a durable object class.</summary>
        public static ParseResult<ParsedObject>? Parse(GeneratorSyntaxContext context, CancellationToken cancellationToken)
        {
            var declaration = (ClassDeclarationSyntax)context.Node;
            if (context.SemanticModel.GetDeclaredSymbol(declaration, cancellationToken) is not { } type
                || !DerivesFromDurableObject(type)
                || type.IsAbstract
                || !IsFirstDeclarationWithBaseList(type, declaration, cancellationToken))
            {
                return null;
            }
            return new Parser(context.SemanticModel, type, declaration, cancellationToken).ParseObject();
        }

        /// <summary>Whether the base chain reaches <c>SourceGenDO.DurableObject</c> (compared by name: no compilation lookup).</summary>
        internal static bool DerivesFromDurableObject(INamedTypeSymbol type)
        {
            for (var current = type.BaseType; current is not null; current = current.BaseType)
            {
                if (IsDurableObjectBase(current))
                {
                    return true;
                }
            }
            return false;
        }

        private static bool IsDurableObjectBase(INamedTypeSymbol type) =>
            type is { Name: "DurableObject", Arity: 0, ContainingType: null, ContainingNamespace: { Name: "SourceGenDO", ContainingNamespace.IsGlobalNamespace: true } };

        // A partial class can have several declarations with a base list; only one may produce the file.
        private static bool IsFirstDeclarationWithBaseList(INamedTypeSymbol type, ClassDeclarationSyntax declaration, CancellationToken cancellationToken)
        {
            foreach (var reference in type.DeclaringSyntaxReferences)
            {
                if (reference.GetSyntax(cancellationToken) is ClassDeclarationSyntax { BaseList: not null } candidate)
                {
                    return candidate.SyntaxTree == declaration.SyntaxTree && candidate.Span == declaration.Span;
                }
            }
            return false;
        }

        private ParseResult<ParsedObject> ParseObject()
        {
            var location = _declaration.Identifier.GetLocation();
            var displayName = _type.ToDisplayString(SymbolNames.Message);
            var valid = true;

            if (IsGenericOrInGeneric(_type))
            {
                Report(DiagnosticDescriptors.GenericClass, location, displayName);
                valid = false;
            }
            var isAccessible = TryGetStubAccessibility(_type, out var isPublic);
            if (!isAccessible)
            {
                Report(DiagnosticDescriptors.InaccessibleClass, location, displayName);
                valid = false;
            }
            var constructor = ChooseObjectConstructor();
            if (constructor is null)
            {
                Report(DiagnosticDescriptors.NoPublicConstructor, location, displayName);
                valid = false;
            }
            if (!valid || constructor is null)
            {
                return new ParseResult<ParsedObject>(null, _diagnostics.ToImmutable());
            }

            var constructorArguments = constructor.Parameters.Select(ParseConstructorArgument).ToImmutableEquatableArray();
            var prefix = SymbolNames.NestedName(_type);
            var methods = ParseMethods(prefix + "Stub");
            var types = _types.Collect(methods);
            var model = new ObjectSpec(
                HintName: SymbolNames.MetadataName(_type) + ".g.cs",
                Namespace: SymbolNames.Namespace(_type),
                ClassName: SymbolNames.MetadataName(_type),
                FullyQualifiedName: _type.ToDisplayString(SymbolNames.ObliviousType),
                TypeNamePrefix: prefix,
                IsPublic: isPublic,
                ConstructorArguments: constructorArguments,
                Methods: methods,
                Types: TopLevelTypes(methods, types));
            var serialization = new ObjectSerializationSpec(types, Results(methods, types));
            return new ParseResult<ParsedObject>(new ParsedObject(model, serialization), _diagnostics.ToImmutable());
        }

        // The types of the parameters and results themselves, stripped of what only the helpers need.
        private static ImmutableEquatableArray<TypeSpec> TopLevelTypes(ImmutableEquatableArray<MethodSpec> methods, ImmutableEquatableArray<TypeSpec> types)
        {
            var used = new HashSet<string>(methods
                .SelectMany(static m => m.Parameters.Select(static p => p.Value).Append(m.Result))
                .Where(static v => v is not null)
                .Select(static v => v!.TypeName));
            return types
                .Where(t => used.Contains(t.TypeName))
                .Select(static t => t with { Element = null, Key = null, Properties = ImmutableEquatableArray<PropertySpec>.Empty })
                .ToImmutableEquatableArray();
        }

        // Each result type once, with the readers its methods' stubs call.
        private static ImmutableEquatableArray<ResultSpec> Results(ImmutableEquatableArray<MethodSpec> methods, ImmutableEquatableArray<TypeSpec> types)
        {
            var byName = types.ToDictionary(static t => t.TypeName, System.StringComparer.Ordinal);
            var results = new List<ResultSpec>();
            foreach (var method in methods)
            {
                if (method.Result is { } result)
                {
                    var nonNull = Emitter.ReadsAbsentAsEmpty(result, byName[result.TypeName], method.ResultAllowsNull);
                    results.Add(new ResultSpec(result, Encoder: true, Reader: !nonNull, NonNullReader: nonNull));
                }
            }
            return Collector.MergeResults(results).ToImmutableEquatableArray();
        }

        private static bool IsGenericOrInGeneric(INamedTypeSymbol type)
        {
            for (INamedTypeSymbol? current = type; current is not null; current = current.ContainingType)
            {
                if (current.Arity > 0)
                {
                    return true;
                }
            }
            return false;
        }

        // The stub lives at namespace level, so the class must be reachable from there: public or internal
        // all the way out ('protected internal' counts as internal). The stub is public only if every level is.
        private static bool TryGetStubAccessibility(INamedTypeSymbol type, out bool isPublic)
        {
            isPublic = true;
            for (INamedTypeSymbol? current = type; current is not null; current = current.ContainingType)
            {
                if (current.IsFileLocal)
                {
                    return false;
                }
                switch (current.DeclaredAccessibility)
                {
                    case Accessibility.Public:
                        break;
                    case Accessibility.Internal:
                    case Accessibility.ProtectedOrInternal:
                        isPublic = false;
                        break;
                    default:
                        return false;
                }
            }
            return true;
        }

        // The public constructor with the most parameters; the first declared wins a tie.
        private IMethodSymbol? ChooseObjectConstructor()
        {
            IMethodSymbol? best = null;
            foreach (var constructor in _type.InstanceConstructors)
            {
                if (constructor.DeclaredAccessibility == Accessibility.Public
                    && constructor.Parameters.All(static p => p.RefKind == RefKind.None)
                    && (best is null || constructor.Parameters.Length > best.Parameters.Length))
                {
                    best = constructor;
                }
            }
            return best;
        }

        private ConstructorArgumentSpec ParseConstructorArgument(IParameterSymbol parameter)
        {
            var type = parameter.Type;
            if (type is INamedTypeSymbol { Name: "DurableObjectState", Arity: 0, ContainingNamespace: { Name: "SourceGenDO", ContainingNamespace.IsGlobalNamespace: true } })
            {
                return new ConstructorArgumentSpec(ConstructorArgumentKind.State, null);
            }
            if (type is INamedTypeSymbol { Name: "IServiceProvider", Arity: 0, ContainingNamespace: { Name: "System", ContainingNamespace.IsGlobalNamespace: true } })
            {
                return new ConstructorArgumentSpec(ConstructorArgumentKind.Services, null);
            }
            if (IsDurableObjectNamespace(type, out var stubType))
            {
                return new ConstructorArgumentSpec(ConstructorArgumentKind.Namespace, ResolveStubType(parameter, stubType));
            }
            // GetRequired<T> has a notnull constraint: ask for the non-nullable form.
            var serviceType = type is INamedTypeSymbol { OriginalDefinition.SpecialType: SpecialType.System_Nullable_T } nullable
                ? nullable.TypeArguments[0]
                : type.WithNullableAnnotation(NullableAnnotation.NotAnnotated);
            return new ConstructorArgumentSpec(ConstructorArgumentKind.Service, serviceType.ToDisplayString(SymbolNames.AnnotatedType));
        }

        // DurableObjectNamespace<TStub>: TStub is usually generated in this very compilation, so the
        // generator sees it as an error type; match by name and resolve the argument from the syntax.
        private static bool IsDurableObjectNamespace(ITypeSymbol type, out ITypeSymbol stubType)
        {
            stubType = null!;
            if (type is INamedTypeSymbol { Name: "DurableObjectNamespace", Arity: 1 } named
                && (named.TypeKind == TypeKind.Error
                    || named.ContainingNamespace is { Name: "SourceGenDO", ContainingNamespace.IsGlobalNamespace: true }))
            {
                stubType = named.TypeArguments[0];
                return true;
            }
            return false;
        }

        private void Report(DiagnosticDescriptor descriptor, Location location, params object[] arguments) =>
            _diagnostics.Add(Diagnostic.Create(descriptor, location, arguments));

        private Location LocationOf(ISymbol symbol)
        {
            foreach (var location in symbol.Locations)
            {
                if (location.IsInSource && _semanticModel.Compilation.ContainsSyntaxTree(location.SourceTree!))
                {
                    return location;
                }
            }
            // A method inherited from a class in another assembly: point at the class being generated.
            return _declaration.Identifier.GetLocation();
        }
    }
}
