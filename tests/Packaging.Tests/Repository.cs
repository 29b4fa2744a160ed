using System.Reflection;

namespace SourceGenDO.Packaging.Tests;

/// <summary>Where the source tree is and which configuration these tests were built in (from the project file).</summary>
internal static class Repository
{
    public static string Root { get; } = Metadata("RepositoryRoot");

    /// <summary>Release or Debug: the src projects were built in it before the tests ran, so they pack with --no-build.</summary>
    public static string Configuration { get; } = Metadata("Configuration");

    public static string PathOf(string relativePath) => Path.GetFullPath(Path.Combine(Root, relativePath));

    private static string Metadata(string key) => typeof(Repository).Assembly
        .GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(attribute => attribute.Key == key).Value!;
}
