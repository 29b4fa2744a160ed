using System;
using System.Globalization;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace SourceGenDO.Generator;

public sealed partial class DurableObjectGenerator
{
    internal sealed partial class Parser
    {
        /// <summary>
        /// The parameter's default value as a C# expression of the parameter's type, formatted invariantly;
        /// null when the parameter has none.
        /// </summary>
        private static string? FormatDefaultValue(IParameterSymbol parameter)
        {
            if (!parameter.HasExplicitDefaultValue)
            {
                return null;
            }
            var type = parameter.Type;
            var underlying = type is INamedTypeSymbol { OriginalDefinition.SpecialType: SpecialType.System_Nullable_T } nullable
                ? nullable.TypeArguments[0]
                : type;
            var value = parameter.ExplicitDefaultValue;
            if (value is null)
            {
                return ReferenceEquals(underlying, type) && type.IsValueType ? "default" : "null";
            }
            if (underlying.TypeKind == TypeKind.Enum)
            {
                var number = FormatLiteral(value);
                return "(" + underlying.ToDisplayString(SymbolNames.ObliviousType) + ")" + (number.StartsWith("-", StringComparison.Ordinal) ? "(" + number + ")" : number);
            }
            return FormatLiteral(value);
        }

        private static string FormatLiteral(object value) => value switch
        {
            bool b => b ? "true" : "false",
            string s => SymbolDisplay.FormatLiteral(s, quote: true),
            char c => SymbolDisplay.FormatLiteral(c, quote: true),
            int i => i.ToString(CultureInfo.InvariantCulture),
            uint u => u.ToString(CultureInfo.InvariantCulture) + "U",
            long l => l.ToString(CultureInfo.InvariantCulture) + "L",
            ulong ul => ul.ToString(CultureInfo.InvariantCulture) + "UL",
            short s => s.ToString(CultureInfo.InvariantCulture),
            ushort us => us.ToString(CultureInfo.InvariantCulture),
            byte b => b.ToString(CultureInfo.InvariantCulture),
            sbyte sb => sb.ToString(CultureInfo.InvariantCulture),
            float f => FormatSingle(f),
            double d => FormatDouble(d),
            decimal m => m.ToString(CultureInfo.InvariantCulture) + "m",
            _ => "default",
        };

        private static string FormatSingle(float value)
        {
            if (float.IsNaN(value))
            {
                return "float.NaN";
            }
            if (float.IsInfinity(value))
            {
                return value > 0 ? "float.PositiveInfinity" : "float.NegativeInfinity";
            }
            return value.ToString("R", CultureInfo.InvariantCulture) + "f";
        }

        private static string FormatDouble(double value)
        {
            if (double.IsNaN(value))
            {
                return "double.NaN";
            }
            if (double.IsInfinity(value))
            {
                return value > 0 ? "double.PositiveInfinity" : "double.NegativeInfinity";
            }
            var text = value.ToString("R", CultureInfo.InvariantCulture);
            // "1" would be an int literal; keep it a double (and keep the sign of -0).
            return text.IndexOfAny(new[] { '.', 'E', 'e' }) >= 0 ? text : text + ".0";
        }
    }
}
