using System.Reflection;

namespace SourceGenDO.Browser.Tests;

/// <summary>
/// What these tests need from the machine: Debian's chromium and Node with the client's npm packages,
/// which scripts/test installs. Under CI=true a missing one fails the test with the reason; elsewhere the
/// test is skipped with the same reason (see <see cref="ChromiumFactAttribute"/>, <see cref="NodeFactAttribute"/>).
/// </summary>
internal static class Prerequisites
{
    /// <summary>Where Debian's chromium package puts the browser (Playwright's own download is not possible here).</summary>
    public const string ChromiumPath = "/usr/bin/chromium";

    /// <summary>True when the CI variable says this run is CI, where nothing may be skipped.</summary>
    public static bool IsCi => Environment.GetEnvironmentVariable("CI") is { } ci
        && (ci.Equals("true", StringComparison.OrdinalIgnoreCase) || ci == "1");

    /// <summary>tests/Browser.Tests/node in the source tree: the Node client, its package.json and, after npm ci, node_modules.</summary>
    public static string NodeClientDirectory { get; } = typeof(Prerequisites).Assembly
        .GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(attribute => attribute.Key == "NodeClientDirectory").Value!;

    /// <summary>Why the browser tests cannot run here, or null when they can.</summary>
    public static string? ChromiumMissing =>
        File.Exists(ChromiumPath) ? null : $"Chromium is not installed at {ChromiumPath}: run scripts/test, which installs it (apt-get install chromium).";

    /// <summary>Why the Node client test cannot run here, or null when it can.</summary>
    public static string? NodeMissing =>
        FindOnPath("node") is null ? "Node is not installed: run scripts/test, which installs it (apt-get install nodejs npm)."
        : !File.Exists(Path.Combine(NodeClientDirectory, "node_modules", "ws", "package.json"))
            ? $"The Node client's packages are not installed in {NodeClientDirectory}/node_modules: run scripts/test, which runs npm ci there."
            : null;

    /// <summary>The full path of <paramref name="program"/> on PATH, or null.</summary>
    public static string? FindOnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(directory => Path.Combine(directory, program))
            .FirstOrDefault(File.Exists);

    /// <summary>Fails the test with <paramref name="missing"/> when it is set (the attribute skipped it already outside CI).</summary>
    public static void Require(string? missing)
    {
        if (missing is not null)
        {
            Assert.Fail(missing);
        }
    }
}

/// <summary>A test that drives chromium: skipped with the reason when it is missing, except under CI=true, where it fails.</summary>
public sealed class ChromiumFactAttribute : FactAttribute
{
    /// <summary>Sets <see cref="FactAttribute.Skip"/> outside CI when chromium is missing.</summary>
    public ChromiumFactAttribute()
    {
        if (!Prerequisites.IsCi && Prerequisites.ChromiumMissing is { } reason)
        {
            Skip = reason;
        }
    }
}

/// <summary>A test that runs Node with the npm ws package: skipped with the reason when either is missing, except under CI=true, where it fails.</summary>
public sealed class NodeFactAttribute : FactAttribute
{
    /// <summary>Sets <see cref="FactAttribute.Skip"/> outside CI when Node or the packages are missing.</summary>
    public NodeFactAttribute()
    {
        if (!Prerequisites.IsCi && Prerequisites.NodeMissing is { } reason)
        {
            Skip = reason;
        }
    }
}
