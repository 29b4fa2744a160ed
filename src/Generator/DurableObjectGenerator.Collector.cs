using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using SourceGenDO.Generator.Model;

namespace SourceGenDO.Generator;

public sealed partial class DurableObjectGenerator
{
    /// <summary>
    /// Combines the models of every durable object class and every storage call into the assembly's
    /// specs: each type once, in an order that does not depend on where the types were found.
    /// </summary>
    internal static class Collector
    {
        public static SerializationSpec Serialization(ImmutableArray<ObjectSerializationSpec> objects, ImmutableArray<StoredValueSpec> stored, string generatedNamespace)
        {
            var types = new Dictionary<string, TypeSpec>(StringComparer.Ordinal);
            foreach (var type in objects.SelectMany(static o => o.Types).Concat(stored.SelectMany(static s => s.Types)))
            {
                // Every class sees a type the same way, so the first spec of a type is as good as any.
                if (!types.ContainsKey(type.TypeName))
                {
                    types.Add(type.TypeName, type);
                }
            }
            var results = MergeResults(objects
                .SelectMany(static o => o.Results)
                .Concat(stored.Select(static s => new ResultSpec(s.Value, Encoder: false, Reader: true, NonNullReader: false))));

            return new SerializationSpec(
                generatedNamespace,
                types.Values.OrderBy(static t => t.Id, StringComparer.Ordinal).ToImmutableEquatableArray(),
                results.OrderBy(r => Emitter.ValueId(r.Value, types[r.Value.TypeName]), StringComparer.Ordinal).ToImmutableEquatableArray());
        }

        /// <summary>One result spec per value, asking for every helper any of <paramref name="uses"/> asks for, in first-use order.</summary>
        public static List<ResultSpec> MergeResults(IEnumerable<ResultSpec> uses)
        {
            var merged = new List<ResultSpec>();
            var index = new Dictionary<ValueSpec, int>();
            foreach (var use in uses)
            {
                if (index.TryGetValue(use.Value, out var i))
                {
                    var known = merged[i];
                    merged[i] = new ResultSpec(use.Value, known.Encoder || use.Encoder, known.Reader || use.Reader, known.NonNullReader || use.NonNullReader);
                }
                else
                {
                    index.Add(use.Value, merged.Count);
                    merged.Add(use);
                }
            }
            return merged;
        }

        public static StorageCodecsSpec StorageCodecs(ImmutableArray<StoredValueSpec> stored, string generatedNamespace)
        {
            // A value's own type comes first in its Types.
            var types = new Dictionary<string, TypeSpec>(StringComparer.Ordinal);
            var values = new HashSet<ValueSpec>();
            foreach (var value in stored)
            {
                values.Add(value.Value);
                types[value.Value.TypeName] = value.Types[0];
            }
            return new StorageCodecsSpec(
                generatedNamespace,
                values.OrderBy(v => Emitter.ValueId(v, types[v.TypeName]), StringComparer.Ordinal).ToImmutableEquatableArray(),
                types.Values.OrderBy(static t => t.Id, StringComparer.Ordinal).ToImmutableEquatableArray());
        }
    }
}
