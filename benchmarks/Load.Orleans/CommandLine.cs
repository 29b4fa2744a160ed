using System.Globalization;

namespace SourceGenDO.Load.Orleans;

/// <summary>The <c>--name value</c> options that follow the role argument.</summary>
internal sealed class CommandLine
{
    private readonly Dictionary<string, string> _options = new(StringComparer.Ordinal);

    public CommandLine(IReadOnlyList<string> args)
    {
        for (var i = 0; i < args.Count; i += 2)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Count)
            {
                throw new UsageException($"expected '--name value' pairs, got '{args[i]}'");
            }

            _options[args[i][2..]] = args[i + 1];
        }
    }

    public string GetString(string name) =>
        _options.TryGetValue(name, out var value) ? value : throw new UsageException($"missing --{name}");

    public int GetInt(string name) => ParseInt(name, GetString(name));

    public int GetInt(string name, int defaultValue) =>
        _options.TryGetValue(name, out var value) ? ParseInt(name, value) : defaultValue;

    public double GetSeconds(string name, double defaultValue)
    {
        if (!_options.TryGetValue(name, out var value))
        {
            return defaultValue;
        }

        return double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) && seconds >= 0
            ? seconds
            : throw new UsageException($"--{name} must be a number of seconds, got '{value}'");
    }

    private static int ParseInt(string name, string value) =>
        int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var result)
            ? result
            : throw new UsageException($"--{name} must be an integer, got '{value}'");
}

/// <summary>A malformed command line; <see cref="Program"/> prints the message and the usage.</summary>
internal sealed class UsageException(string message) : Exception(message);
