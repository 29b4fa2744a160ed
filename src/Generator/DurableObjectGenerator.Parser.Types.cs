using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using SourceGenDO.Generator.Model;

namespace SourceGenDO.Generator;

public sealed partial class DurableObjectGenerator
{
    internal sealed partial class Parser
    {
        /// <summary>
        /// Decides how each type a method uses is serialized, building one <see cref="TypeSpec"/> per
        /// distinct type (memoized by its global::-qualified name, so recursive types terminate). Used
        /// for the methods of a durable object class and for the value type of a storage call.
        /// </summary>
        internal sealed class TypeModelBuilder
        {
            private readonly Compilation _compilation;
            private readonly string _knownWhen;
            private readonly CancellationToken _cancellationToken;
            private readonly Dictionary<string, TypeSpec> _known = new(StringComparer.Ordinal);
            private readonly List<string> _registrationOrder = new();
            private readonly Dictionary<string, string> _failures = new(StringComparer.Ordinal);
            private readonly HashSet<string> _inProgress = new(StringComparer.Ordinal);

            /// <param name="knownWhen">Ends the reasons that ask for a concrete type ("the type must be known ..."): when the stub is generated, where the value is stored.</param>
            public TypeModelBuilder(Compilation compilation, string knownWhen, CancellationToken cancellationToken)
            {
                _compilation = compilation;
                _knownWhen = knownWhen;
                _cancellationToken = cancellationToken;
            }

            /// <summary>
            /// Analyzes the type of a parameter or result. While a type is being analyzed, the types it
            /// refers back to are assumed to succeed; if the whole analysis fails, every type registered on
            /// the way is forgotten again, since it may rest on that assumption. Failures are always real.
            /// </summary>
            public TypeAnalysis AnalyzeRoot(ITypeSymbol type)
            {
                var mark = _registrationOrder.Count;
                var analysis = Analyze(type);
                if (analysis.Value is null)
                {
                    for (var i = _registrationOrder.Count - 1; i >= mark; i--)
                    {
                        _known.Remove(_registrationOrder[i]);
                        _registrationOrder.RemoveAt(i);
                    }
                }
                return analysis;
            }

            /// <summary>The types the exposed methods reach, in the order a depth-first walk from the methods meets them.</summary>
            public ImmutableEquatableArray<TypeSpec> Collect(ImmutableEquatableArray<MethodSpec> methods) =>
                Collect(methods.SelectMany(static m => m.Parameters.Select(static p => p.Value).Append(m.Result)));

            /// <summary>The types <paramref name="roots"/> reach (nulls skipped), in the order a depth-first walk from them meets them.</summary>
            public ImmutableEquatableArray<TypeSpec> Collect(IEnumerable<ValueSpec?> roots)
            {
                var types = new List<TypeSpec>();
                var visited = new HashSet<string>(StringComparer.Ordinal);
                foreach (var root in roots)
                {
                    Visit(root);
                }
                return types.ToImmutableEquatableArray();

                void Visit(ValueSpec? value)
                {
                    if (value is null || !visited.Add(value.TypeName))
                    {
                        return;
                    }
                    var spec = _known[value.TypeName];
                    types.Add(spec);
                    Visit(spec.Key);
                    Visit(spec.Element);
                    foreach (var property in spec.Properties)
                    {
                        Visit(property.Value);
                    }
                }
            }

            private TypeAnalysis Analyze(ITypeSymbol type)
            {
                _cancellationToken.ThrowIfCancellationRequested();
                if (type.TypeKind == TypeKind.Error)
                {
                    return TypeAnalysis.Unresolved;
                }
                if (type is INamedTypeSymbol { OriginalDefinition.SpecialType: SpecialType.System_Nullable_T } nullable)
                {
                    var inner = Analyze(nullable.TypeArguments[0]);
                    return inner.Value is null ? inner : TypeAnalysis.Success(new ValueSpec(inner.Value.TypeName, IsNullableValueType: true));
                }
                var typeName = type.ToDisplayString(SymbolNames.ObliviousType);
                if (_known.ContainsKey(typeName) || _inProgress.Contains(typeName))
                {
                    return TypeAnalysis.Success(new ValueSpec(typeName, IsNullableValueType: false));
                }
                if (_failures.TryGetValue(typeName, out var reason))
                {
                    return TypeAnalysis.Fail(reason);
                }
                var analysis = Classify(type, typeName);
                if (analysis.Failure is not null)
                {
                    _failures[typeName] = analysis.Failure;
                }
                return analysis;
            }

            private TypeAnalysis Classify(ITypeSymbol type, string typeName)
            {
                switch (type)
                {
                    case ITypeParameterSymbol typeParameter:
                        return TypeAnalysis.Fail($"'{typeParameter.Name}' is a type parameter; the type must be known {_knownWhen}");
                    case IArrayTypeSymbol array:
                        return ClassifyArray(array, typeName);
                    case INamedTypeSymbol named:
                        return ClassifyNamed(named, typeName);
                    case IDynamicTypeSymbol:
                        return TypeAnalysis.Fail($"'dynamic' is not supported; the type must be known {_knownWhen}");
                    case IPointerTypeSymbol or IFunctionPointerTypeSymbol:
                        return TypeAnalysis.Fail("pointers are not supported");
                    default:
                        return TypeAnalysis.Fail($"'{Display(type)}' is not supported");
                }
            }

            private TypeAnalysis ClassifyArray(IArrayTypeSymbol array, string typeName)
            {
                if (!array.IsSZArray)
                {
                    return TypeAnalysis.Fail("multi-dimensional arrays are not supported; use a jagged array or a List<T>");
                }
                if (array.ElementType.SpecialType == SpecialType.System_Byte)
                {
                    return Register(array, typeName, WireKind.Bytes);
                }
                var element = Analyze(array.ElementType);
                if (element.Value is null)
                {
                    return element.Within($"element type '{Display(array.ElementType)}'");
                }
                return Register(array, typeName, WireKind.Array, element: element.Value);
            }

            private TypeAnalysis ClassifyNamed(INamedTypeSymbol type, string typeName)
            {
                if (ScalarKind(type) is { } scalar)
                {
                    return Register(type, typeName, scalar);
                }
                if (type.SpecialType == SpecialType.System_Object)
                {
                    return TypeAnalysis.Fail($"'object' is not supported; the type must be known {_knownWhen}");
                }
                if (type.TypeKind == TypeKind.Enum)
                {
                    var unsigned = type.EnumUnderlyingType?.SpecialType == SpecialType.System_UInt64;
                    return Register(type, typeName, unsigned ? WireKind.UnsignedEnum : WireKind.Enum);
                }
                if (IsInNamespace(type, "System.Collections.Generic") && type.ContainingType is null)
                {
                    if (type is { Name: "List", Arity: 1 })
                    {
                        var element = Analyze(type.TypeArguments[0]);
                        return element.Value is null
                            ? element.Within($"element type '{Display(type.TypeArguments[0])}'")
                            : Register(type, typeName, WireKind.List, element: element.Value);
                    }
                    if (type is { Name: "Dictionary", Arity: 2 })
                    {
                        return ClassifyDictionary(type, typeName);
                    }
                }
                if (type.IsTupleType)
                {
                    return TypeAnalysis.Fail("tuples are not supported; use a record");
                }
                if (type.IsAnonymousType)
                {
                    // No generated code can name it, so nothing could construct it when reading.
                    return TypeAnalysis.Fail("anonymous types are not supported; declare a record with the same properties");
                }
                if (IsProtobufMessage(type))
                {
                    return Register(type, typeName, WireKind.Protobuf);
                }
                switch (type.TypeKind)
                {
                    case TypeKind.Interface:
                        return TypeAnalysis.Fail("interfaces are not supported; use a concrete type (an array, List<T> or Dictionary<K,V> for a collection)");
                    case TypeKind.Delegate:
                        return TypeAnalysis.Fail("delegates are not supported");
                    case TypeKind.Class or TypeKind.Struct:
                        break;
                    default:
                        return TypeAnalysis.Fail($"'{Display(type)}' is not supported");
                }
                if (type.IsRefLikeType)
                {
                    return TypeAnalysis.Fail("ref structs such as Span<T> are not supported; use an array");
                }
                if (IsFrameworkType(type))
                {
                    // Framework types are not property bags; only the ones listed as supported are encoded.
                    return TypeAnalysis.Fail($"'{Display(type)}' is not a supported framework type");
                }
                if (type.IsAbstract || type.IsStatic)
                {
                    return TypeAnalysis.Fail($"abstract classes are not supported; the concrete type must be known {_knownWhen}");
                }
                if (!IsAccessible(type))
                {
                    return TypeAnalysis.Fail($"'{Display(type)}' is not accessible from generated code in this assembly");
                }
                // Encoded by properties, a collection would lose its items and a framework base its state.
                if (type.AllInterfaces.Any(static i => i is { Name: "IEnumerable", Arity: 0 } && IsInNamespace(i, "System.Collections")))
                {
                    return TypeAnalysis.Fail("collection types other than arrays, List<T> and Dictionary<K,V> are not supported");
                }
                for (var baseType = type.BaseType; baseType is not null && baseType.SpecialType is not (SpecialType.System_Object or SpecialType.System_ValueType); baseType = baseType.BaseType)
                {
                    if (IsFrameworkType(baseType))
                    {
                        return TypeAnalysis.Fail($"'{Display(type)}' derives from the framework type '{Display(baseType)}'");
                    }
                }
                _inProgress.Add(typeName);
                try
                {
                    return ClassifyObject(type, typeName);
                }
                finally
                {
                    _inProgress.Remove(typeName);
                }
            }

            private TypeAnalysis ClassifyDictionary(INamedTypeSymbol type, string typeName)
            {
                var keyType = type.TypeArguments[0];
                var key = Analyze(keyType);
                if (key.Value is null)
                {
                    return key.Within($"key type '{Display(keyType)}'");
                }
                if (key.Value.IsNullableValueType || !IsKeyKind(_known[key.Value.TypeName].Kind))
                {
                    return TypeAnalysis.Fail($"key type '{Display(keyType)}' is not supported; keys must be primitives, strings, enums, Guid, decimal or date and time types");
                }
                var valueType = type.TypeArguments[1];
                var value = Analyze(valueType);
                if (value.Value is null)
                {
                    return value.Within($"value type '{Display(valueType)}'");
                }
                return Register(type, typeName, WireKind.Dictionary, element: value.Value, key: key.Value);
            }

            /// <summary>Whether <paramref name="kind"/> is one of the framework's scalars (string and byte[] included), which the runtime's storage codecs cover.</summary>
            internal static bool IsScalarKind(WireKind kind) =>
                kind is not (WireKind.Enum or WireKind.UnsignedEnum or WireKind.Protobuf or WireKind.Array or WireKind.List or WireKind.Dictionary or WireKind.Object);

            private static bool IsKeyKind(WireKind kind) => kind is not (WireKind.Bytes or WireKind.Protobuf or WireKind.Array or WireKind.List or WireKind.Dictionary or WireKind.Object);

            /// <summary>
            /// A record, class or struct: its public properties that can be read back (settable, or set
            /// by a public constructor), numbered base class first, read back through the public
            /// constructor whose parameters all match properties (most parameters, then the primary one)
            /// plus an object initializer.
            /// </summary>
            private TypeAnalysis ClassifyObject(INamedTypeSymbol type, string typeName)
            {
                var chain = new List<INamedTypeSymbol>();
                for (var current = type; current is not null && current.SpecialType is not (SpecialType.System_Object or SpecialType.System_ValueType); current = current.BaseType)
                {
                    chain.Add(current);
                }
                chain.Reverse();

                var properties = new List<IPropertySymbol>();
                foreach (var declaring in chain)
                {
                    foreach (var member in declaring.GetMembers())
                    {
                        switch (member)
                        {
                            case IFieldSymbol { IsStatic: false, IsConst: false, DeclaredAccessibility: Accessibility.Public, IsImplicitlyDeclared: false } field:
                                return TypeAnalysis.Fail($"public field '{Display(type)}.{field.Name}' would not be serialized; make it a property");
                            case IPropertySymbol { IsStatic: false, IsIndexer: false, DeclaredAccessibility: Accessibility.Public, ReturnsByRef: false, ReturnsByRefReadonly: false, GetMethod.DeclaredAccessibility: Accessibility.Public } property:
                                var index = properties.FindIndex(p => p.Name == property.Name);
                                if (index >= 0)
                                {
                                    properties[index] = property;
                                }
                                else
                                {
                                    properties.Add(property);
                                }
                                break;
                        }
                    }
                }

                var constructors = type.InstanceConstructors
                    .Where(static c => c.DeclaredAccessibility == Accessibility.Public && c.Parameters.All(static p => p.RefKind == RefKind.None))
                    .ToList();
                var serialized = properties
                    .Where(p => IsSettable(p) || constructors.Any(c => c.Parameters.Any(parameter => Matches(parameter, p))))
                    .ToList();

                IMethodSymbol? chosen = null;
                var chosenScore = (ReadOnly: -1, Parameters: -1, Primary: -1);
                foreach (var constructor in constructors)
                {
                    if (!constructor.Parameters.All(parameter => serialized.Any(p => Matches(parameter, p))))
                    {
                        continue;
                    }
                    var score = (
                        ReadOnly: serialized.Count(p => !IsSettable(p) && constructor.Parameters.Any(parameter => Matches(parameter, p))),
                        Parameters: constructor.Parameters.Length,
                        Primary: IsPrimaryConstructor(constructor) ? 1 : 0);
                    if (score.CompareTo(chosenScore) > 0)
                    {
                        chosen = constructor;
                        chosenScore = score;
                    }
                }
                if (chosen is null)
                {
                    return TypeAnalysis.Fail($"'{Display(type)}' has no public constructor whose parameters all match its public properties");
                }
                var setsRequiredMembers = chosen.GetAttributes().Any(static a => a.AttributeClass is { Name: "SetsRequiredMembersAttribute" });

                var specs = new List<PropertySpec>(serialized.Count);
                for (var i = 0; i < serialized.Count; i++)
                {
                    var property = serialized[i];
                    var position = -1;
                    for (var p = 0; p < chosen.Parameters.Length; p++)
                    {
                        if (Matches(chosen.Parameters[p], property))
                        {
                            position = p;
                            break;
                        }
                    }
                    if (position < 0 && !IsSettable(property))
                    {
                        return TypeAnalysis.Fail($"property '{Display(type)}.{property.Name}' has no public setter and no public constructor sets it together with the other properties");
                    }
                    var value = Analyze(property.Type);
                    if (value.Value is null)
                    {
                        return value.Within($"property '{Display(type)}.{property.Name}' of type '{Display(property.Type)}'");
                    }
                    var inInitializer = position < 0 || (property.IsRequired && !setsRequiredMembers);
                    specs.Add(new PropertySpec(SymbolNames.Escape(property.Name), i + 1, value.Value, position, inInitializer, AllowsNull(property.Type)));
                }
                return Register(type, typeName, WireKind.Object, properties: specs.ToImmutableEquatableArray());
            }

            private static bool IsSettable(IPropertySymbol property) =>
                property.SetMethod is { DeclaredAccessibility: Accessibility.Public };

            private static bool Matches(IParameterSymbol parameter, IPropertySymbol property) =>
                string.Equals(parameter.Name, property.Name, StringComparison.OrdinalIgnoreCase)
                && SymbolEqualityComparer.Default.Equals(parameter.Type, property.Type);

            private static bool IsPrimaryConstructor(IMethodSymbol constructor) =>
                constructor.DeclaringSyntaxReferences.Any(static r => r.GetSyntax() is TypeDeclarationSyntax);

            private bool IsAccessible(INamedTypeSymbol type)
            {
                for (INamedTypeSymbol? current = type; current is not null; current = current.ContainingType)
                {
                    if (current.IsFileLocal)
                    {
                        return false;
                    }
                }
                return _compilation.IsSymbolAccessibleWithin(type, _compilation.Assembly);
            }

            private static bool IsProtobufMessage(INamedTypeSymbol type) =>
                type is { TypeKind: TypeKind.Class, IsAbstract: false }
                && type.AllInterfaces.Any(i => i is { Name: "IMessage", Arity: 1 }
                    && IsInNamespace(i, "Google.Protobuf")
                    && SymbolEqualityComparer.Default.Equals(i.TypeArguments[0], type))
                && type.InstanceConstructors.Any(static c => c.DeclaredAccessibility == Accessibility.Public && c.Parameters.Length == 0);

            private static WireKind? ScalarKind(INamedTypeSymbol type)
            {
                switch (type.SpecialType)
                {
                    case SpecialType.System_Boolean: return WireKind.Bool;
                    case SpecialType.System_SByte: return WireKind.SByte;
                    case SpecialType.System_Int16: return WireKind.Int16;
                    case SpecialType.System_Int32: return WireKind.Int32;
                    case SpecialType.System_Int64: return WireKind.Int64;
                    case SpecialType.System_Byte: return WireKind.Byte;
                    case SpecialType.System_UInt16: return WireKind.UInt16;
                    case SpecialType.System_UInt32: return WireKind.UInt32;
                    case SpecialType.System_UInt64: return WireKind.UInt64;
                    case SpecialType.System_Char: return WireKind.Char;
                    case SpecialType.System_Single: return WireKind.Single;
                    case SpecialType.System_Double: return WireKind.Double;
                    case SpecialType.System_Decimal: return WireKind.Decimal;
                    case SpecialType.System_String: return WireKind.String;
                    case SpecialType.System_DateTime: return WireKind.DateTime;
                }
                if (type.ContainingType is null && type.Arity == 0 && IsInNamespace(type, "System"))
                {
                    switch (type.Name)
                    {
                        case "Guid": return WireKind.Guid;
                        case "DateTimeOffset": return WireKind.DateTimeOffset;
                        case "TimeSpan": return WireKind.TimeSpan;
                    }
                }
                return null;
            }

            private static bool IsFrameworkType(INamedTypeSymbol type) =>
                type.ContainingNamespace?.ToDisplayString() is { } ns && (ns == "System" || ns.StartsWith("System.", StringComparison.Ordinal));

            private static bool IsInNamespace(INamedTypeSymbol type, string ns) =>
                type.ContainingNamespace is { } containing && containing.ToDisplayString() == ns;

            private TypeAnalysis Register(
                ITypeSymbol type,
                string typeName,
                WireKind kind,
                ValueSpec? element = null,
                ValueSpec? key = null,
                ImmutableEquatableArray<PropertySpec>? properties = null)
            {
                var id = SymbolNames.HelperId(type, typeName, isScalar: IsScalarKind(kind));
                _known[typeName] = new TypeSpec(typeName, id, kind, type.IsValueType, element, key, properties ?? ImmutableEquatableArray<PropertySpec>.Empty);
                _registrationOrder.Add(typeName);
                return TypeAnalysis.Success(new ValueSpec(typeName, IsNullableValueType: false));
            }

            private static string Display(ITypeSymbol type) => type.ToDisplayString(SymbolNames.Message);
        }

        /// <summary>The outcome of analyzing one type: a value spec, or why the type cannot be serialized.</summary>
        internal readonly struct TypeAnalysis
        {
            private TypeAnalysis(ValueSpec? value, string? failure)
            {
                Value = value;
                Failure = failure;
            }

            /// <summary>How to serialize the type; null when it cannot be.</summary>
            public ValueSpec? Value { get; }

            /// <summary>Why the type cannot be serialized; null on success and for unresolved types (the compiler reports those).</summary>
            public string? Failure { get; }

            public static TypeAnalysis Unresolved => default;

            public static TypeAnalysis Success(ValueSpec value) => new(value, null);

            public static TypeAnalysis Fail(string reason) => new(null, reason);

            /// <summary>This failure, explained as part of a larger type ("property 'Order.Items' of type 'object': ...").</summary>
            public TypeAnalysis Within(string context) => Failure is null ? this : Fail(context + ": " + Failure);
        }
    }
}
