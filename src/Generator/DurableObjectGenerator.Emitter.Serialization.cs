using System.Collections.Generic;
using System.Linq;
using SourceGenDO.Generator.Model;

namespace SourceGenDO.Generator;

public sealed partial class DurableObjectGenerator
{
    internal sealed partial class Emitter
    {
        /// <summary>
        /// The helpers class: a Write_/Read_ pair per collection and object type, boxes for nullable
        /// collection elements, and an encoder/decoder pair per method result type. Scalars, enums and
        /// Protobuf messages are written inline.
        /// </summary>
        private void EmitSerializer()
        {
            var complexTypes = _model.Types.Where(static t => t.Kind is WireKind.Array or WireKind.List or WireKind.Dictionary or WireKind.Object).ToList();
            var boxes = Distinct(complexTypes
                .Where(static t => t.Kind is WireKind.Array or WireKind.List)
                .Select(static t => t.Element!)
                .Where(IsBoxed));
            var results = Distinct(_model.Methods.Where(static m => m.Result is not null).Select(static m => m.Result!));
            // A result type read where it admits null and where it does not needs two readers.
            var readers = new HashSet<string>(_model.Methods.Where(static m => m.Result is not null).Select(ResultReaderName));
            if (complexTypes.Count == 0 && results.Count == 0)
            {
                return;
            }

            _writer.WriteLine();
            // One helper serves T and T? alike (and List<string> and List<string?>): nullable annotations
            // do not change the encoding, so the helpers are nullable-oblivious.
            _writer.WriteLine("#nullable disable");
            _writer.WriteLine();
            _writer.WriteLine($"/// <summary>Encodes and decodes the arguments and results of <see cref=\"{_model.FullyQualifiedName}\"/>.</summary>");
            _writer.WriteLine(GeneratedCodeAttribute);
            _writer.WriteLine($"file static class {_model.TypeNamePrefix}Serializer");
            _writer.OpenBlock();
            var first = true;
            foreach (var result in results)
            {
                Separate(ref first);
                EmitResultHelpers(result, readers);
            }
            foreach (var type in complexTypes)
            {
                Separate(ref first);
                switch (type.Kind)
                {
                    case WireKind.Array or WireKind.List:
                        EmitCollectionHelpers(type);
                        break;
                    case WireKind.Dictionary:
                        EmitDictionaryHelpers(type);
                        break;
                    default:
                        EmitObjectHelpers(type);
                        break;
                }
            }
            foreach (var box in boxes)
            {
                Separate(ref first);
                EmitBoxHelpers(box);
            }
            _writer.CloseBlock();
        }

        private void Separate(ref bool first)
        {
            if (!first)
            {
                _writer.WriteLine();
            }
            first = false;
        }

        private static List<ValueSpec> Distinct(IEnumerable<ValueSpec> values)
        {
            var seen = new HashSet<ValueSpec>();
            return values.Where(seen.Add).ToList();
        }

        // Nullable elements are wrapped in a one-field message, so that a null element is an empty box.
        private bool IsBoxed(ValueSpec element) => element.IsNullableValueType || !_types[element.TypeName].IsValueType;

        private string TypeOf(ValueSpec value) => value.IsNullableValueType ? value.TypeName + "?" : value.TypeName;

        private string ValueId(ValueSpec value) => (value.IsNullableValueType ? "Nullable_" : "") + _types[value.TypeName].Id;

        /// <summary>The name of the helper that reads a method's result.</summary>
        private string ResultReaderName(MethodSpec method) =>
            (Absent(method.Result!, method.ResultAllowsNull) is AbsentAs.SharedEmpty or AbsentAs.NewEmpty ? "ReadNonNullResult_" : "ReadResult_") + ValueId(method.Result!);

        /// <summary>The encoder of a result type, and the readers of it that <paramref name="readers"/> names.</summary>
        private void EmitResultHelpers(ValueSpec result, HashSet<string> readers)
        {
            var type = TypeOf(result);
            var id = ValueId(result);
            _writer.WriteLine($$"""
                internal static global::System.ReadOnlyMemory<byte> EncodeResult_{{id}}({{type}} value)
                {
                    var writer = {{WireWriter}}.Rent();
                """);
            _writer.Indentation++;
            WriteValue(result, "writer", "1", "value", "");
            _writer.Indentation--;
            _writer.WriteLine("""
                    return writer.TakeBytes();
                }
                """);
            foreach (var nonNull in new[] { false, true })
            {
                var name = (nonNull ? "ReadNonNullResult_" : "ReadResult_") + id;
                if (readers.Contains(name))
                {
                    _writer.WriteLine();
                    EmitResultReader(result, name, nonNull ? Absent(result, allowsNull: false) : AbsentAs.Default);
                }
            }
        }

        private void EmitResultReader(ValueSpec result, string name, AbsentAs absent)
        {
            var type = TypeOf(result);
            _writer.WriteLine($$"""
                internal static {{type}} {{name}}(ref {{WireReader}} reader)
                {
                    {{type}} value = {{(absent == AbsentAs.SharedEmpty ? SharedEmpty(result, TypeOf(_types[result.TypeName].Element ?? result)) : "default")}};
                    while (reader.ReadTag(out var field))
                    {
                        if (field == 1)
                        {
                            value = {{ReadExpression(result, "reader", "")}};
                        }
                        else
                        {
                            reader.Skip();
                        }
                    }
                    {{(absent == AbsentAs.NewEmpty ? "return value ?? new();" : "return value;")}}
                }
                """);
        }

        private void EmitBoxHelpers(ValueSpec element)
        {
            var type = TypeOf(element);
            var id = ValueId(element);
            _writer.WriteLine($$"""
                internal static void WriteBoxed_{{id}}({{WireWriter}} writer, int field, {{type}} value)
                {
                    var box = writer.BeginMessage(field);
                """);
            _writer.Indentation++;
            WriteValue(element, "writer", "1", "value", "");
            _writer.Indentation--;
            _writer.WriteLine($$"""
                    writer.EndMessage(box);
                }

                internal static {{type}} ReadBoxed_{{id}}(ref {{WireReader}} reader)
                {
                    var box = reader.ReadMessage();
                    {{type}} value = default;
                    while (box.ReadTag(out var field))
                    {
                        if (field == 1)
                        {
                            value = {{ReadExpression(element, "box", "")}};
                        }
                        else
                        {
                            box.Skip();
                        }
                    }
                    return value;
                }
                """);
        }

        private void EmitCollectionHelpers(TypeSpec type)
        {
            var element = type.Element!;
            var elementType = TypeOf(element);
            var boxed = IsBoxed(element);
            _writer.WriteLine($$"""
                internal static void Write_{{type.Id}}({{WireWriter}} writer, int field, {{type.TypeName}} value)
                {
                    if (value is null)
                    {
                        return;
                    }
                    var start = writer.BeginMessage(field);
                    foreach (var item in value)
                    {
                """);
            _writer.Indentation += 2;
            if (boxed)
            {
                _writer.WriteLine($"WriteBoxed_{ValueId(element)}(writer, 1, item);");
            }
            else
            {
                WriteValue(element, "writer", "1", "item", "");
            }
            _writer.Indentation -= 2;
            var readElement = boxed ? $"ReadBoxed_{ValueId(element)}(ref message)" : ReadExpression(element, "message", "");
            var list = $"global::System.Collections.Generic.List<{elementType}>";
            _writer.WriteLine($$"""
                    }
                    writer.EndMessage(start);
                }

                internal static {{type.TypeName}} Read_{{type.Id}}(ref {{WireReader}} reader)
                {
                    var message = reader.ReadMessage();
                    var result = new {{list}}();
                    while (message.ReadTag(out var field))
                    {
                        if (field == 1)
                        {
                """);
            _writer.Indentation += 3;
            if (!boxed && PackedWireType(element) is { } packedWireType)
            {
                // We write one key per element; proto3 writers pack repeated scalars. Parsers must take both.
                _writer.WriteLine($$"""
                    if (message.WireType == global::SourceGenDO.Serialization.WireType.LengthDelimited)
                    {
                        var packed = message.ReadPacked(global::SourceGenDO.Serialization.WireType.{{packedWireType}});
                        while (!packed.IsAtEnd)
                        {
                            result.Add({{ReadExpression(element, "packed", "")}});
                        }
                    }
                    else
                    {
                        result.Add({{readElement}});
                    }
                    """);
            }
            else
            {
                _writer.WriteLine($"result.Add({readElement});");
            }
            _writer.Indentation -= 3;
            _writer.WriteLine($$"""
                        }
                        else
                        {
                            message.Skip();
                        }
                    }
                    return result{{(type.Kind == WireKind.Array ? ".ToArray()" : "")}};
                }
                """);
        }

        /// <summary>The wire type of the elements of a packed repeated field of this element type; null when it cannot be packed.</summary>
        private string? PackedWireType(ValueSpec element) => element.IsNullableValueType ? null : _types[element.TypeName].Kind switch
        {
            WireKind.Single => "Fixed32",
            WireKind.Double => "Fixed64",
            WireKind.Bool or WireKind.SByte or WireKind.Int16 or WireKind.Int32 or WireKind.Int64 or WireKind.Byte or WireKind.UInt16
                or WireKind.UInt32 or WireKind.UInt64 or WireKind.Char or WireKind.DateTime or WireKind.TimeSpan
                or WireKind.Enum or WireKind.UnsignedEnum => "Varint",
            _ => null,
        };

        /// <summary>What an absent value decodes as, by how its type is declared.</summary>
        private enum AbsentAs
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

        // A proto3 writer omits an empty string, bytes or repeated field, so a type that admits no null
        // reads an absent one as empty, as proto3 does.
        private AbsentAs Absent(ValueSpec spec, bool allowsNull)
        {
            if (allowsNull || spec.IsNullableValueType)
            {
                return AbsentAs.Default;
            }
            var type = _types[spec.TypeName];
            return type.Kind switch
            {
                WireKind.String or WireKind.Bytes or WireKind.Array => AbsentAs.SharedEmpty,
                WireKind.List or WireKind.Dictionary => AbsentAs.NewEmpty,
                WireKind.Object or WireKind.Protobuf when !type.IsValueType => AbsentAs.Missing,
                _ => AbsentAs.Default,
            };
        }

        /// <summary>The shared empty value of a string, bytes or array type.</summary>
        /// <param name="arrayElementType">The element type of an array, as it can be named where the value goes.</param>
        private string SharedEmpty(ValueSpec spec, string arrayElementType) => _types[spec.TypeName].Kind switch
        {
            WireKind.String => "\"\"",
            WireKind.Bytes => "global::System.Array.Empty<byte>()",
            _ => $"global::System.Array.Empty<{arrayElementType}>()",
        };

        private void EmitDictionaryHelpers(TypeSpec type)
        {
            var key = type.Key!;
            var value = type.Element!;
            _writer.WriteLine($$"""
                internal static void Write_{{type.Id}}({{WireWriter}} writer, int field, {{type.TypeName}} value)
                {
                    if (value is null)
                    {
                        return;
                    }
                    var start = writer.BeginMessage(field);
                    foreach (var entry in value)
                    {
                        var entryStart = writer.BeginMessage(1);
                """);
            _writer.Indentation += 2;
            WriteValue(key, "writer", "1", "entry.Key", "");
            WriteValue(value, "writer", "2", "entry.Value", "");
            _writer.Indentation -= 2;
            _writer.WriteLine($$"""
                        writer.EndMessage(entryStart);
                    }
                    writer.EndMessage(start);
                }

                internal static {{type.TypeName}} Read_{{type.Id}}(ref {{WireReader}} reader)
                {
                    var message = reader.ReadMessage();
                    var result = new {{type.TypeName}}();
                    while (message.ReadTag(out var field))
                    {
                        if (field != 1)
                        {
                            message.Skip();
                            continue;
                        }
                        var entry = message.ReadMessage();
                        var hasKey = false;
                        {{TypeOf(key)}} key = default;
                        {{TypeOf(value)}} entryValue = default;
                        while (entry.ReadTag(out var entryField))
                        {
                            switch (entryField)
                            {
                                case 1:
                                    key = {{ReadExpression(key, "entry", "")}};
                                    hasKey = true;
                                    break;
                                case 2:
                                    entryValue = {{ReadExpression(value, "entry", "")}};
                                    break;
                                default:
                                    entry.Skip();
                                    break;
                            }
                        }
                        if (!hasKey)
                        {
                            throw new global::SourceGenDO.Serialization.WireFormatException("Malformed payload: a dictionary entry has no key.");
                        }
                        result[key] = entryValue;
                    }
                    return result;
                }
                """);
        }

        private void EmitObjectHelpers(TypeSpec type)
        {
            _writer.WriteLine($"internal static void Write_{type.Id}({WireWriter} writer, int field, {type.TypeName} value)");
            _writer.OpenBlock();
            if (!type.IsValueType)
            {
                _writer.WriteLine("""
                    if (value is null)
                    {
                        return;
                    }
                    """);
            }
            _writer.WriteLine("var start = writer.BeginMessage(field);");
            foreach (var property in type.Properties)
            {
                WriteValue(property.Value, "writer", Number(property.Field), "value." + property.Identifier, "");
            }
            _writer.WriteLine("writer.EndMessage(start);");
            _writer.CloseBlock();
            _writer.WriteLine();

            _writer.WriteLine($"internal static {type.TypeName} Read_{type.Id}(ref {WireReader} reader)");
            _writer.OpenBlock();
            if (type.Properties.Count == 0)
            {
                _writer.WriteLine("reader.ReadMessage();");
            }
            else
            {
                _writer.WriteLine("var message = reader.ReadMessage();");
                foreach (var property in type.Properties)
                {
                    var initial = Absent(property.Value, property.AllowsNull) == AbsentAs.SharedEmpty
                        ? SharedEmpty(property.Value, TypeOf(_types[property.Value.TypeName].Element ?? property.Value))
                        : "default";
                    _writer.WriteLine($"{TypeOf(property.Value)} property{Number(property.Field)} = {initial};");
                }
                _writer.WriteLine("while (message.ReadTag(out var field))");
                _writer.OpenBlock();
                _writer.WriteLine("switch (field)");
                _writer.OpenBlock();
                foreach (var property in type.Properties)
                {
                    _writer.WriteLine($"case {Number(property.Field)}:");
                    _writer.WriteLine($"    property{Number(property.Field)} = {ReadExpression(property.Value, "message", "")};");
                    _writer.WriteLine("    break;");
                }
                _writer.WriteLine("default:");
                _writer.WriteLine("    message.Skip();");
                _writer.WriteLine("    break;");
                _writer.CloseBlock();
                _writer.CloseBlock();
                foreach (var property in type.Properties)
                {
                    if (Absent(property.Value, property.AllowsNull) == AbsentAs.NewEmpty)
                    {
                        _writer.WriteLine($"property{Number(property.Field)} ??= new();");
                    }
                }
            }
            var constructorArguments = string.Join(", ", type.Properties
                .Where(static p => p.ConstructorPosition >= 0)
                .OrderBy(static p => p.ConstructorPosition)
                .Select(static p => "property" + Number(p.Field)));
            var initialized = type.Properties.Where(static p => p.InInitializer).ToList();
            if (initialized.Count == 0)
            {
                _writer.WriteLine($"return new {type.TypeName}({constructorArguments});");
            }
            else
            {
                _writer.WriteLine(constructorArguments.Length == 0 ? $"return new {type.TypeName}" : $"return new {type.TypeName}({constructorArguments})");
                _writer.OpenBlock();
                foreach (var property in initialized)
                {
                    _writer.WriteLine($"{property.Identifier} = property{Number(property.Field)},");
                }
                _writer.CloseBlock(";");
            }
            _writer.CloseBlock();
        }

        /// <summary>
        /// Writes the statements that encode <paramref name="value"/> at <paramref name="field"/>: nothing
        /// for null, and every non-null value, defaults included.
        /// </summary>
        /// <param name="helperPrefix">How to reach the helpers: empty inside the helpers class, its qualified name plus '.' elsewhere.</param>
        private void WriteValue(ValueSpec spec, string writer, string field, string value, string helperPrefix)
        {
            if (spec.IsNullableValueType)
            {
                _writer.WriteLine($"if ({value}.HasValue)");
                _writer.OpenBlock();
                _writer.WriteLine(WriteStatement(_types[spec.TypeName], writer, field, value + ".GetValueOrDefault()", helperPrefix));
                _writer.CloseBlock();
            }
            else
            {
                _writer.WriteLine(WriteStatement(_types[spec.TypeName], writer, field, value, helperPrefix));
            }
        }

        private static string WriteStatement(TypeSpec type, string writer, string field, string value, string helperPrefix) => type.Kind switch
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
            _ => $"{helperPrefix}Write_{type.Id}({writer}, {field}, {value});",
        };

        /// <summary>An expression that reads the value of the field whose tag <paramref name="reader"/> just read.</summary>
        private string ReadExpression(ValueSpec spec, string reader, string helperPrefix)
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
                _ => $"{helperPrefix}Read_{type.Id}(ref {reader})",
            };
        }
    }
}
