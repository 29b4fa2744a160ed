using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;
using SourceGenDO.Generator.Model;

namespace SourceGenDO.Generator;

public sealed partial class DurableObjectGenerator
{
    internal sealed partial class Parser
    {
        // Reserved for handlers the runtime calls itself: never exposed, no diagnostic.
        private static readonly HashSet<string> HandlerNames = new(StringComparer.Ordinal)
        {
            "Fetch", "Alarm", "WebSocketMessage", "WebSocketClose", "WebSocketError",
        };

        // Members a stub already has (DurableObjectStub and object). Finalize is here because a stub
        // method of that name would trip the compiler's destructor warning.
        private static readonly HashSet<string> StubMemberNames = new(StringComparer.Ordinal)
        {
            "Id", "Name", "Dispose", "DisposeAsync", "InvokeAsync", "InvokeValueAsync", "FetchAsync",
            "Equals", "GetHashCode", "ToString", "GetType", "MemberwiseClone", "Finalize",
        };

        private ImmutableEquatableArray<MethodSpec> ParseMethods(string stubName)
        {
            var candidates = CollectCandidateMethods();
            var overloads = new Dictionary<string, int>(StringComparer.Ordinal);
            foreach (var method in candidates)
            {
                overloads[method.Name] = overloads.TryGetValue(method.Name, out var count) ? count + 1 : 1;
            }
            var methods = new List<MethodSpec>();
            foreach (var method in candidates)
            {
                _cancellationToken.ThrowIfCancellationRequested();
                if (ParseMethod(method, overloads[method.Name], stubName) is { } spec)
                {
                    methods.Add(spec);
                }
            }
            return methods.ToImmutableEquatableArray();
        }

        // Public instance methods of the class and its bases below DurableObject, base class methods first,
        // each in declaration order; an override takes the place of the method it overrides.
        private List<IMethodSymbol> CollectCandidateMethods()
        {
            var chain = new List<INamedTypeSymbol>();
            for (var type = _type; type is not null && !IsDurableObjectBase(type); type = type.BaseType)
            {
                chain.Add(type);
            }
            chain.Reverse();

            var methods = new List<IMethodSymbol>();
            foreach (var type in chain)
            {
                foreach (var member in type.GetMembers())
                {
                    if (member is not IMethodSymbol { MethodKind: MethodKind.Ordinary, IsStatic: false, DeclaredAccessibility: Accessibility.Public } method
                        || HandlerNames.Contains(method.Name))
                    {
                        continue;
                    }
                    if (!method.IsOverride)
                    {
                        methods.Add(method);
                        continue;
                    }
                    var index = IndexOfOverridden(methods, method);
                    if (index >= 0)
                    {
                        methods[index] = method;
                    }
                    else if (!OverridesMemberOutsideChain(method, chain))
                    {
                        methods.Add(method);
                    }
                }
            }
            return methods;
        }

        private static int IndexOfOverridden(List<IMethodSymbol> methods, IMethodSymbol method)
        {
            for (var overridden = method.OverriddenMethod; overridden is not null; overridden = overridden.OverriddenMethod)
            {
                var index = methods.FindIndex(m => SymbolEqualityComparer.Default.Equals(m.OriginalDefinition, overridden.OriginalDefinition));
                if (index >= 0)
                {
                    return index;
                }
            }
            return -1;
        }

        // Overrides of object's members (ToString, Equals, GetHashCode) and of DurableObject's own members
        // are not the class's methods to expose.
        private static bool OverridesMemberOutsideChain(IMethodSymbol method, List<INamedTypeSymbol> chain)
        {
            var root = method;
            while (root.OverriddenMethod is { } overridden)
            {
                root = overridden;
            }
            return !chain.Any(type => SymbolEqualityComparer.Default.Equals(type.OriginalDefinition, root.ContainingType.OriginalDefinition));
        }

        private MethodSpec? ParseMethod(IMethodSymbol method, int overloadCount, string stubName)
        {
            var location = LocationOf(method);
            var name = method.Name;
            if (overloadCount > 1)
            {
                Report(DiagnosticDescriptors.OverloadedMethod, location, name, overloadCount);
                return null;
            }
            if (StubMemberNames.Contains(name) || name == stubName)
            {
                Report(DiagnosticDescriptors.StubMemberNameClash, location, name, stubName);
                return null;
            }
            if (method.IsGenericMethod)
            {
                Report(DiagnosticDescriptors.GenericMethod, location, name);
                return null;
            }
            if (ContainsErrorType(method.ReturnType))
            {
                // The compiler already reports the unknown type; a second diagnostic would only add noise.
                return null;
            }
            var returnKind = ClassifyReturnType(method.ReturnType, out var resultType);
            if (returnKind is null)
            {
                Report(DiagnosticDescriptors.SynchronousMethod, location, name, method.ReturnType.ToDisplayString(SymbolNames.Message));
                return null;
            }

            var valid = true;
            var cancellationTokens = method.Parameters.Where(static p => IsCancellationToken(p.Type)).ToList();
            if (cancellationTokens.Count > 1
                || (cancellationTokens.Count == 1 && cancellationTokens[0].Ordinal != method.Parameters.Length - 1))
            {
                Report(DiagnosticDescriptors.MisplacedCancellationToken, location, name);
                valid = false;
            }

            var parameters = new List<ParameterSpec>();
            var field = 0;
            foreach (var parameter in method.Parameters)
            {
                if (parameter.RefKind != RefKind.None)
                {
                    Report(DiagnosticDescriptors.ByReferenceParameter, location, name, parameter.Name, RefKindText(parameter.RefKind));
                    valid = false;
                    continue;
                }
                var type = parameter.Type.ToDisplayString(SymbolNames.AnnotatedType);
                if (IsCancellationToken(parameter.Type))
                {
                    parameters.Add(new ParameterSpec(SymbolNames.Escape(parameter.Name), type, FormatDefaultValue(parameter), false, 0, null, AllowsNull: false));
                    continue;
                }
                field++;
                var analysis = _types.AnalyzeRoot(parameter.Type);
                if (analysis.Value is null)
                {
                    if (analysis.Failure is not null)
                    {
                        Report(DiagnosticDescriptors.UnsupportedParameterType, location, name, parameter.Name, parameter.Type.ToDisplayString(SymbolNames.Message), analysis.Failure);
                    }
                    valid = false;
                    continue;
                }
                parameters.Add(new ParameterSpec(SymbolNames.Escape(parameter.Name), type, FormatDefaultValue(parameter), parameter.IsParams, field, analysis.Value, AllowsNull(parameter.Type)));
            }

            ValueSpec? result = null;
            if (resultType is not null)
            {
                var analysis = _types.AnalyzeRoot(resultType);
                if (analysis.Value is null && analysis.Failure is not null)
                {
                    Report(DiagnosticDescriptors.UnsupportedReturnType, location, name, resultType.ToDisplayString(SymbolNames.Message), analysis.Failure);
                }
                valid &= analysis.Value is not null;
                result = analysis.Value;
            }
            if (!valid)
            {
                return null;
            }

            return new MethodSpec(
                Name: name,
                Identifier: SymbolNames.Escape(name),
                ReturnKind: returnKind.Value,
                ReturnType: method.ReturnType.ToDisplayString(SymbolNames.AnnotatedType),
                ResultType: resultType?.ToDisplayString(SymbolNames.AnnotatedType),
                Result: result,
                ResultAllowsNull: resultType is not null && AllowsNull(resultType),
                Parameters: parameters.ToImmutableEquatableArray(),
                DocumentationCref: FormatCref(method));
        }

        private static ReturnKind? ClassifyReturnType(ITypeSymbol type, out ITypeSymbol? resultType)
        {
            resultType = null;
            if (type is not INamedTypeSymbol { ContainingType: null } named
                || named.ContainingNamespace.ToDisplayString() != "System.Threading.Tasks")
            {
                return null;
            }
            switch (named.Name, named.Arity)
            {
                case ("Task", 0):
                    return ReturnKind.Task;
                case ("ValueTask", 0):
                    return ReturnKind.ValueTask;
                case ("Task", 1):
                    resultType = named.TypeArguments[0];
                    return ReturnKind.TaskOfT;
                case ("ValueTask", 1):
                    resultType = named.TypeArguments[0];
                    return ReturnKind.ValueTaskOfT;
                default:
                    return null;
            }
        }

        // Oblivious code (nullable annotations disabled) may pass null on purpose, so only a type that
        // says "not null" gets an empty value or an error in place of an absent one.
        internal static bool AllowsNull(ITypeSymbol type) =>
            type.IsValueType
                ? type is INamedTypeSymbol { OriginalDefinition.SpecialType: SpecialType.System_Nullable_T }
                : type.NullableAnnotation != NullableAnnotation.NotAnnotated;

        private static bool IsCancellationToken(ITypeSymbol type) =>
            type is INamedTypeSymbol { Name: "CancellationToken", Arity: 0, ContainingType: null } named
            && named.ContainingNamespace.ToDisplayString() == "System.Threading";

        internal static bool ContainsErrorType(ITypeSymbol type) => type switch
        {
            { TypeKind: TypeKind.Error } => true,
            IArrayTypeSymbol array => ContainsErrorType(array.ElementType),
            INamedTypeSymbol named => named.TypeArguments.Any(ContainsErrorType),
            _ => false,
        };

        private static string RefKindText(RefKind refKind) => refKind switch
        {
            RefKind.Ref => "ref",
            RefKind.Out => "out",
            RefKind.In => "in",
            _ => "ref readonly",
        };
    }
}
