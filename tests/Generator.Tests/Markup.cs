using Microsoft.CodeAnalysis.Text;

namespace SourceGenDO.Generator.Tests;

/// <summary>Test sources that mark expected diagnostic locations with [|...|].</summary>
internal static class Markup
{
    /// <summary>The source without the markers, and the marked spans (in the source as the harness compiles it, usings included).</summary>
    public static (string Source, IReadOnlyList<TextSpan> Spans) Parse(string marked)
    {
        var spans = new List<TextSpan>();
        var builder = new System.Text.StringBuilder();
        var offset = GeneratorHarness.Usings.Length;
        var position = 0;
        while (true)
        {
            var open = marked.IndexOf("[|", position, StringComparison.Ordinal);
            if (open < 0)
            {
                builder.Append(marked, position, marked.Length - position);
                return (builder.ToString(), spans);
            }
            var close = marked.IndexOf("|]", open, StringComparison.Ordinal);
            builder.Append(marked, position, open - position);
            var start = builder.Length;
            builder.Append(marked, open + 2, close - open - 2);
            spans.Add(new TextSpan(offset + start, builder.Length - start));
            position = close + 2;
        }
    }
}
