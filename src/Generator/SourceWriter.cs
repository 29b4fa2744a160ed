using System;
using System.Text;

namespace SourceGenDO.Generator;

/// <summary>
/// Builds indented C# text. Multi-line strings (raw string literals) are split and every line is
/// indented, so templates can be written flush left. Lines always end with '\n' so the output does not
/// depend on the machine that ran the generator.
/// </summary>
internal sealed class SourceWriter
{
    private const int SpacesPerIndentation = 4;

    private readonly StringBuilder _builder = new();
    private int _indentation;

    public int Indentation
    {
        get => _indentation;
        set => _indentation = value >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(value));
    }

    /// <summary>Writes each line of <paramref name="text"/> at the current indentation; empty lines stay empty.</summary>
    public void WriteLine(string text)
    {
        var start = 0;
        while (true)
        {
            var end = text.IndexOf('\n', start);
            var line = end < 0 ? text.Substring(start) : text.Substring(start, end - start);
            line = line.TrimEnd('\r');
            if (line.Length > 0)
            {
                _builder.Append(' ', _indentation * SpacesPerIndentation);
                _builder.Append(line);
            }
            _builder.Append('\n');
            if (end < 0)
            {
                return;
            }
            start = end + 1;
        }
    }

    /// <summary>Writes an empty line.</summary>
    public void WriteLine() => _builder.Append('\n');

    /// <summary>Writes "{" and indents what follows.</summary>
    public void OpenBlock()
    {
        WriteLine("{");
        _indentation++;
    }

    /// <summary>Unindents and writes "}" followed by <paramref name="suffix"/>.</summary>
    public void CloseBlock(string suffix = "")
    {
        _indentation--;
        WriteLine("}" + suffix);
    }

    public override string ToString() => _builder.ToString();
}
