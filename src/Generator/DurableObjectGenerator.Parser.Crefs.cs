using System.Text;
using Microsoft.CodeAnalysis;

namespace SourceGenDO.Generator;

public sealed partial class DurableObjectGenerator
{
    internal sealed partial class Parser
    {
        /// <summary>
        /// A cref to the method as the object declares it, with its parameter types, so that the stub
        /// method's inheritdoc resolves even when the object has non-public overloads.
        /// </summary>
        private static string FormatCref(IMethodSymbol method)
        {
            var definition = method.OriginalDefinition;
            var builder = new StringBuilder();
            AppendCrefType(builder, definition.ContainingType);
            builder.Append('.').Append(SymbolNames.Escape(definition.Name)).Append('(');
            for (var i = 0; i < definition.Parameters.Length; i++)
            {
                if (i > 0)
                {
                    builder.Append(", ");
                }
                AppendCrefType(builder, definition.Parameters[i].Type);
            }
            return builder.Append(')').ToString();
        }

        // Cref syntax writes type arguments in braces (List{int}); special types keep their keywords.
        private static void AppendCrefType(StringBuilder builder, ITypeSymbol type)
        {
            switch (type)
            {
                case IArrayTypeSymbol array:
                    AppendCrefType(builder, array.ElementType);
                    builder.Append('[').Append(',', array.Rank - 1).Append(']');
                    return;
                case ITypeParameterSymbol typeParameter:
                    builder.Append(typeParameter.Name);
                    return;
                case INamedTypeSymbol named when named.SpecialType != SpecialType.None && named.SpecialType != SpecialType.System_Nullable_T && named.Arity == 0:
                    builder.Append(named.ToDisplayString(SymbolNames.ObliviousType));
                    return;
                case INamedTypeSymbol named:
                    if (named.ContainingType is { } containing)
                    {
                        AppendCrefType(builder, containing);
                        builder.Append('.');
                    }
                    else
                    {
                        builder.Append("global::");
                        if (!named.ContainingNamespace.IsGlobalNamespace)
                        {
                            builder.Append(named.ContainingNamespace.ToDisplayString()).Append('.');
                        }
                    }
                    builder.Append(SymbolNames.Escape(named.Name));
                    if (named.TypeArguments.Length > 0)
                    {
                        builder.Append('{');
                        var first = true;
                        foreach (var argument in named.TypeArguments)
                        {
                            if (!first)
                            {
                                builder.Append(", ");
                            }
                            first = false;
                            AppendCrefType(builder, argument);
                        }
                        builder.Append('}');
                    }
                    return;
                default:
                    builder.Append(type.ToDisplayString());
                    return;
            }
        }
    }
}
