using System;
using System.Collections.Immutable;
using System.Globalization;
using Microsoft.CodeAnalysis;

namespace SourceGenDO.Generator;

public sealed partial class DurableObjectGenerator
{
    /// <summary>
    /// What a transform returns for one node (a durable object class, a storage call): the model to
    /// emit (null when there is nothing to emit) and the diagnostics to report.
    /// </summary>
    /// <remarks>
    /// Equal when the models are equal and the diagnostics have the same ids, messages and locations.
    /// Locations compare by syntax tree identity, so an edit in another file leaves the result equal, and
    /// an edit in the node's own file replaces the diagnostics so they point at the new tree.
    /// </remarks>
    /// <typeparam name="TModel">The model type: an equatable record.</typeparam>
    internal sealed class ParseResult<TModel> : IEquatable<ParseResult<TModel>>
        where TModel : class, IEquatable<TModel>
    {
        public ParseResult(TModel? model, ImmutableArray<Diagnostic> diagnostics)
        {
            Model = model;
            Diagnostics = diagnostics;
        }

        public TModel? Model { get; }

        public ImmutableArray<Diagnostic> Diagnostics { get; }

        public bool Equals(ParseResult<TModel>? other)
        {
            if (other is null || !Equals(Model, other.Model) || Diagnostics.Length != other.Diagnostics.Length)
            {
                return false;
            }
            for (var i = 0; i < Diagnostics.Length; i++)
            {
                var mine = Diagnostics[i];
                var theirs = other.Diagnostics[i];
                if (mine.Id != theirs.Id
                    || mine.Location != theirs.Location
                    || mine.GetMessage(CultureInfo.InvariantCulture) != theirs.GetMessage(CultureInfo.InvariantCulture))
                {
                    return false;
                }
            }
            return true;
        }

        public override bool Equals(object? obj) => obj is ParseResult<TModel> other && Equals(other);

        public override int GetHashCode() => (Model?.GetHashCode() ?? 0) ^ Diagnostics.Length;
    }
}
