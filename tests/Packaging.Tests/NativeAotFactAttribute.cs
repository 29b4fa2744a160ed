namespace SourceGenDO.Packaging.Tests;

/// <summary>
/// A test that publishes with Native AOT, which links with clang or gcc: skipped with the reason when
/// neither is on PATH, except under CI=true, where it runs and fails with the publish's own error.
/// scripts/test installs gcc when the machine has no C compiler.
/// </summary>
public sealed class NativeAotFactAttribute : FactAttribute
{
    /// <summary>Sets <see cref="FactAttribute.Skip"/> outside CI when no linker is found.</summary>
    public NativeAotFactAttribute()
    {
        if (!IsCi && !new[] { "clang", "gcc" }.Any(IsOnPath))
        {
            Skip = "Native AOT links with clang or gcc and neither is on PATH: run scripts/test, which installs gcc (apt-get install gcc libc6-dev).";
        }
    }

    private static bool IsCi => Environment.GetEnvironmentVariable("CI") is { } ci
        && (ci.Equals("true", StringComparison.OrdinalIgnoreCase) || ci == "1");

    private static bool IsOnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Any(directory => File.Exists(Path.Combine(directory, program)));
}
