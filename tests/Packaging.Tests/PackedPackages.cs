using System.Diagnostics;

namespace SourceGenDO.Packaging.Tests;

/// <summary>
/// SourceGenDO and SourceGenDO.Server packed by `dotnet pack` into a folder of their own, once for the
/// tests of <see cref="Collection"/>. The version is new each time, so no NuGet cache can serve an older build of them.
/// </summary>
public sealed class PackedPackages : IAsyncLifetime
{
    /// <summary>The tests that share one packing.</summary>
    public const string Collection = "Packed packages";

    private readonly TemporaryDirectory _directory = new("packages");

    /// <summary>A prerelease version no other run used (SemVer: a prerelease part starting with a letter).</summary>
    public string Version { get; } = $"0.0.1-t{Guid.NewGuid():n}";

    /// <summary>The folder the packages are in: a local NuGet source.</summary>
    public string Feed => _directory.Combine("feed");

    public string RuntimePackage => Path.Combine(Feed, $"SourceGenDO.{Version}.nupkg");

    public string ServerPackage => Path.Combine(Feed, $"SourceGenDO.Server.{Version}.nupkg");

    /// <summary>How long packing both took, for the test output.</summary>
    public TimeSpan PackTime { get; private set; }

    public async Task InitializeAsync()
    {
        var stopwatch = Stopwatch.StartNew();
        // Both at once: --no-build packs what the build before the tests made, so neither writes where the other reads.
        await Task.WhenAll(
            PackAsync("src/Runtime/SourceGenDO.Runtime.csproj"),
            PackAsync("src/Server/SourceGenDO.Server.csproj"));
        PackTime = stopwatch.Elapsed;
    }

    public Task DisposeAsync()
    {
        _directory.Dispose();
        return Task.CompletedTask;
    }

    private async Task PackAsync(string project)
    {
        var result = await Command.RunAsync(
            Command.Dotnet(Repository.Root,
                "pack", Repository.PathOf(project), "-c", Repository.Configuration, "--no-build",
                "-o", Feed, $"-p:PackageVersion={Version}",
                // The .nuspec goes with the packages, not into the source tree's obj/ folder.
                $"-p:NuspecOutputPath={_directory.Combine("nuspec")}{Path.DirectorySeparatorChar}",
                "-nodeReuse:false"),
            TimeSpan.FromMinutes(3));
        result.EnsureSucceeded();
    }
}

/// <summary>The tests that read the packages packed once by <see cref="PackedPackages"/>.</summary>
[CollectionDefinition(PackedPackages.Collection)]
public sealed class PackedPackagesCollection : ICollectionFixture<PackedPackages>;
