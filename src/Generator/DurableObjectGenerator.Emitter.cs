using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis.CSharp;
using SourceGenDO.Generator.Model;

namespace SourceGenDO.Generator;

public sealed partial class DurableObjectGenerator
{
    /// <summary>
    /// What every emitter shares: the writer, the statements and expressions that encode and decode one
    /// value, and the names of the assembly's serialization helpers. Works from models alone.
    /// </summary>
    internal abstract class Emitter
    {
        /// <summary>The class, in the assembly's generated namespace, that holds the serialization helpers.</summary>
        public const string SerializersClass = "Serializers";

        protected const string WireWriter = "global::SourceGenDO.Serialization.WireWriter";
        protected const string WireReader = "global::SourceGenDO.Serialization.WireReader";

        protected static readonly string GeneratedCodeAttribute =
            $"[global::System.CodeDom.Compiler.GeneratedCode(\"SourceGenDO.Generator\", \"{typeof(DurableObjectGenerator).Assembly.GetName().Version}\")]";

        protected readonly SourceWriter _writer = new();
        private readonly Dictionary<string, TypeSpec> _types;
        private readonly string _helperPrefix;

        /// <param name="types">Every type the emitted code encodes or decodes.</param>
        /// <param name="generatedNamespace">The namespace of the helpers class; null when the code is emitted inside it.</param>
        protected Emitter(IEnumerable<TypeSpec> types, string? generatedNamespace)
        {
            _types = types.ToDictionary(static t => t.TypeName, System.StringComparer.Ordinal);
            _helperPrefix = generatedNamespace is null ? "" : $"global::{generatedNamespace}.{SerializersClass}.";
        }

        /// <summary>What an absent value decodes as, by how its type is declared.</summary>
        protected enum AbsentAs
        {
            /// <summary>null, or the default of a value type.</summary>
            Default,

            /// <summary>An empty value shared by all (<c>""</c>, an empty array), so the variable starts with it.</summary>
            SharedEmpty,

            /// <summary>A new empty list or dictionary, made only when the field turned out absent.</summary>
            NewEmpty,

            /// <summary>No value at all: a record or class that admits no null has no empty form.</summary>
            Missing,
        }

        /// <summary>The suffix of the helpers of a value's type, "Nullable_" first for <c>T?</c> of a value type.</summary>
        public static string ValueId(ValueSpec value, TypeSpec type) => (value.IsNullableValueType ? "Nullable_" : "") + type.Id;

        /// <summary>Whether a result declared so reads an absent value as empty, with the non-null result reader.</summary>
        public static bool ReadsAbsentAsEmpty(ValueSpec value, TypeSpec type, bool allowsNull) =>
            Absent(value, type, allowsNull) is AbsentAs.SharedEmpty or AbsentAs.NewEmpty;

        // A proto3 writer omits an empty string, bytes or repeated field, so a type that admits no null
        // reads an absent one as empty, as proto3 does.
        private static AbsentAs Absent(ValueSpec spec, TypeSpec type, bool allowsNull)
        {
            if (allowsNull || spec.IsNullableValueType)
            {
                return AbsentAs.Default;
            }
            return type.Kind switch
            {
                WireKind.String or WireKind.Bytes or WireKind.Array => AbsentAs.SharedEmpty,
                WireKind.List or WireKind.Dictionary => AbsentAs.NewEmpty,
                WireKind.Object or WireKind.Protobuf when !type.IsValueType => AbsentAs.Missing,
                _ => AbsentAs.Default,
            };
        }

        protected AbsentAs Absent(ValueSpec spec, bool allowsNull) => Absent(spec, _types[spec.TypeName], allowsNull);

        protected TypeSpec TypeSpecOf(ValueSpec value) => _types[value.TypeName];

        protected string ValueId(ValueSpec value) => ValueId(value, _types[value.TypeName]);

        protected static string TypeOf(ValueSpec value) => value.IsNullableValueType ? value.TypeName + "?" : value.TypeName;

        /// <summary>How code here names the helper <paramref name="name"/> of the helpers class.</summary>
        protected string Helper(string name) => _helperPrefix + name;

        protected string EncoderName(ValueSpec result) => "EncodeResult_" + ValueId(result);

        protected string ResultReaderName(ValueSpec result, bool nonNull) => (nonNull ? "ReadNonNullResult_" : "ReadResult_") + ValueId(result);

        /// <summary>The shared empty value of a string, bytes or array type.</summary>
        /// <param name="arrayElementType">The element type of an array, as it can be named where the value goes.</param>
        protected string SharedEmpty(ValueSpec spec, string arrayElementType) => _types[spec.TypeName].Kind switch
        {
            WireKind.String => "\"\"",
            WireKind.Bytes => "global::System.Array.Empty<byte>()",
            _ => $"global::System.Array.Empty<{arrayElementType}>()",
        };

        /// <summary>
        /// Writes the statements that encode <paramref name="value"/> at <paramref name="field"/>: nothing
        /// for null, and every non-null value, defaults included.
        /// </summary>
        protected void WriteValue(ValueSpec spec, string writer, string field, string value)
        {
            if (spec.IsNullableValueType)
            {
                _writer.WriteLine($"if ({value}.HasValue)");
                _writer.OpenBlock();
                _writer.WriteLine(WriteStatement(_types[spec.TypeName], writer, field, value + ".GetValueOrDefault()"));
                _writer.CloseBlock();
            }
            else
            {
                _writer.WriteLine(WriteStatement(_types[spec.TypeName], writer, field, value));
            }
        }

        private string WriteStatement(TypeSpec type, string writer, string field, string value) => type.Kind switch
        {
            WireKind.Bool => $"{writer}.WriteBool({field}, {value});",
            WireKind.SByte or WireKind.Int16 or WireKind.Int32 => $"{writer}.WriteInt32({field}, {value});",
            WireKind.Int64 => $"{writer}.WriteInt64({field}, {value});",
            WireKind.Byte or WireKind.UInt16 or WireKind.UInt32 => $"{writer}.WriteUInt32({field}, {value});",
            WireKind.UInt64 => $"{writer}.WriteUInt64({field}, {value});",
            WireKind.Char => $"{writer}.WriteChar({field}, {value});",
            WireKind.Single => $"{writer}.WriteSingle({field}, {value});",
            WireKind.Double => $"{writer}.WriteDouble({field}, {value});",
            WireKind.Decimal => $"{writer}.WriteDecimal({field}, {value});",
            WireKind.String => $"{writer}.WriteString({field}, {value});",
            WireKind.Bytes => $"{writer}.WriteBytes({field}, {value});",
            WireKind.Guid => $"{writer}.WriteGuid({field}, {value});",
            WireKind.DateTime => $"{writer}.WriteDateTime({field}, {value});",
            WireKind.DateTimeOffset => $"{writer}.WriteDateTimeOffset({field}, {value});",
            WireKind.TimeSpan => $"{writer}.WriteTimeSpan({field}, {value});",
            WireKind.Enum => $"{writer}.WriteInt64({field}, unchecked((long){value}));",
            WireKind.UnsignedEnum => $"{writer}.WriteUInt64({field}, unchecked((ulong){value}));",
            WireKind.Protobuf => $"{writer}.WriteProtobuf({field}, {value});",
            _ => $"{Helper("Write_" + type.Id)}({writer}, {field}, {value});",
        };

        /// <summary>An expression that reads the value of the field whose tag <paramref name="reader"/> just read.</summary>
        protected string ReadExpression(ValueSpec spec, string reader)
        {
            var type = _types[spec.TypeName];
            return type.Kind switch
            {
                WireKind.Bool => $"{reader}.ReadBool()",
                WireKind.SByte => $"{reader}.ReadSByte()",
                WireKind.Int16 => $"{reader}.ReadInt16()",
                WireKind.Int32 => $"{reader}.ReadInt32()",
                WireKind.Int64 => $"{reader}.ReadInt64()",
                WireKind.Byte => $"{reader}.ReadByte()",
                WireKind.UInt16 => $"{reader}.ReadUInt16()",
                WireKind.UInt32 => $"{reader}.ReadUInt32()",
                WireKind.UInt64 => $"{reader}.ReadUInt64()",
                WireKind.Char => $"{reader}.ReadChar()",
                WireKind.Single => $"{reader}.ReadSingle()",
                WireKind.Double => $"{reader}.ReadDouble()",
                WireKind.Decimal => $"{reader}.ReadDecimal()",
                WireKind.String => $"{reader}.ReadString()",
                WireKind.Bytes => $"{reader}.ReadBytes()",
                WireKind.Guid => $"{reader}.ReadGuid()",
                WireKind.DateTime => $"{reader}.ReadDateTime()",
                WireKind.DateTimeOffset => $"{reader}.ReadDateTimeOffset()",
                WireKind.TimeSpan => $"{reader}.ReadTimeSpan()",
                WireKind.Enum => $"unchecked(({type.TypeName}){reader}.ReadInt64())",
                WireKind.UnsignedEnum => $"unchecked(({type.TypeName}){reader}.ReadUInt64())",
                WireKind.Protobuf => $"{reader}.ReadProtobuf<{type.TypeName}>()",
                _ => $"{Helper("Read_" + type.Id)}(ref {reader})",
            };
        }

        protected static string Literal(string value) => SymbolDisplay.FormatLiteral(value, quote: true);

        protected static string Number(int value) => value.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }
}
