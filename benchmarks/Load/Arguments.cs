namespace SourceGenDO.Load;

/// <summary>The <c>--name value</c> options of a role's command line.</summary>
internal sealed class Arguments(string[] args)
{
    public string? Get(string name)
    {
        var index = Array.IndexOf(args, "--" + name);
        return index >= 0 && index + 1 < args.Length ? args[index + 1] : null;
    }

    public string Require(string name) => Get(name) ?? throw new ArgumentException($"Missing --{name}.");

    public int GetInt(string name, int fallback) => Get(name) is { } text ? int.Parse(text, System.Globalization.CultureInfo.InvariantCulture) : fallback;

    public double GetDouble(string name, double fallback) =>
        Get(name) is { } text ? double.Parse(text, System.Globalization.CultureInfo.InvariantCulture) : fallback;

    public bool Has(string name) => Array.IndexOf(args, "--" + name) >= 0;
}
