using System;
using System.Collections.Immutable;
using System.Globalization;
using Microsoft.CodeAnalysis;
using SourceGenDO.Generator.Model;

namespace SourceGenDO.Generator;

public sealed partial class DurableObjectGenerator
{
    /// <summary>
    /// What the transform returns for one durable object class: the model to emit (null when the class
    /// gets no stub) and the diagnostics to report.
    /// </summary>
    /// <remarks>
    /// Equal when the models are equal and the diagnostics have the same ids, messages and locations.
    /// Locations compare by syntax tree identity, so an edit in another file leaves the result equal, and
    /// an edit in the class's own file replaces the diagnostics so they point at the new tree.
    /// </remarks>
    internal sealed class ParseResult : IEquatable<ParseResult>
    {
        public ParseResult(ObjectSpec? model, ImmutableArray<Diagnostic> diagnostics)
        {
            Model = model;
            Diagnostics = diagnostics;
        }

        public ObjectSpec? Model { get; }

        public ImmutableArray<Diagnostic> Diagnostics { get; }

        public bool Equals(ParseResult? other)
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

        public override bool Equals(object? obj) => obj is ParseResult other && Equals(other);

        public override int GetHashCode() => (Model?.GetHashCode() ?? 0) ^ Diagnostics.Length;
    }
}
