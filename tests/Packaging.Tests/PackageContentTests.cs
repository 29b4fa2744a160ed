using System.IO.Compression;
using System.Xml.Linq;

namespace SourceGenDO.Packaging.Tests;

/// <summary>What `dotnet pack` puts in the two packages: metadata, the generator inside SourceGenDO, and the dependencies.</summary>
[Collection(PackedPackages.Collection)]
public sealed class PackageContentTests(PackedPackages packages)
{
    [Fact]
    public void TheRuntimePackageCarriesTheGeneratorAsAnAnalyzerAndOnlyItsOwnDependencies()
    {
        using var package = ZipFile.OpenRead(packages.RuntimePackage);
        AssertLibraryWithDocsAndReadme(package, "SourceGenDO.Runtime");
        // The generator, as built (netstandard2.0), where the compiler loads analyzers for C# projects.
        var generator = package.GetEntry("analyzers/dotnet/cs/SourceGenDO.Generator.dll");
        Assert.NotNull(generator);
        var built = Repository.PathOf($"src/Generator/bin/{Repository.Configuration}/netstandard2.0/SourceGenDO.Generator.dll");
        Assert.Equal(File.ReadAllBytes(built), ReadAll(generator));

        var nuspec = Nuspec(package);
        AssertMetadata(nuspec, "SourceGenDO");
        // The runtime's own dependencies and nothing of the generator's (Roslyn) or of the build's (Grpc.Tools).
        Assert.Equal(["Google.Protobuf", "Grpc.Net.Client"], Dependencies(nuspec).Select(dependency => dependency.Id).Order());
        Assert.Empty(nuspec.Descendants(Name("frameworkReference")));
    }

    [Fact]
    public void TheServerPackageDependsOnTheRuntimePackageWithItsAnalyzers()
    {
        using var package = ZipFile.OpenRead(packages.ServerPackage);
        AssertLibraryWithDocsAndReadme(package, "SourceGenDO.Server");
        Assert.DoesNotContain(package.Entries, entry => entry.FullName.StartsWith("analyzers/", StringComparison.Ordinal));

        var nuspec = Nuspec(package);
        AssertMetadata(nuspec, "SourceGenDO.Server");
        var dependencies = Dependencies(nuspec).ToDictionary(dependency => dependency.Id);
        Assert.Equal(["Grpc.AspNetCore.Server", "Microsoft.Data.Sqlite", "SourceGenDO"], dependencies.Keys.Order());
        var runtime = dependencies["SourceGenDO"];
        Assert.Equal(packages.Version, runtime.Version);
        // NuGet excludes a dependency's analyzers unless told otherwise; without them a project referencing
        // SourceGenDO.Server alone would get no stubs.
        Assert.DoesNotContain("Analyzers", runtime.Exclude ?? "", StringComparison.OrdinalIgnoreCase);
        Assert.Equal(["Microsoft.AspNetCore.App"], nuspec.Descendants(Name("frameworkReference")).Select(reference => (string)reference.Attribute("name")!));
    }

    [Fact]
    public void BothPackagesHaveSymbolPackagesWhosePdbsEmbedTheSources()
    {
        foreach (var (package, assembly) in new[] { (packages.RuntimePackage, "SourceGenDO.Runtime"), (packages.ServerPackage, "SourceGenDO.Server") })
        {
            using var symbols = ZipFile.OpenRead(Path.ChangeExtension(package, ".snupkg"));
            var pdb = symbols.GetEntry($"lib/net10.0/{assembly}.pdb");
            Assert.NotNull(pdb);
            using var reader = System.Reflection.Metadata.MetadataReaderProvider.FromPortablePdbStream(new MemoryStream(ReadAll(pdb)));
            var metadata = reader.GetMetadataReader();
            // An embedded source is a custom debug information entry on its document.
            var embeddedSourceKind = new Guid("0E8A571B-6926-466E-B4AD-8AB04611F5FE");
            var embedded = metadata.CustomDebugInformation
                .Select(metadata.GetCustomDebugInformation)
                .Count(information => metadata.GetGuid(information.Kind) == embeddedSourceKind);
            Assert.True(metadata.Documents.Count > 10 && embedded == metadata.Documents.Count, $"{assembly}.pdb embeds {embedded} of its {metadata.Documents.Count} sources.");
        }
    }

    private static void AssertLibraryWithDocsAndReadme(ZipArchive package, string assembly)
    {
        var files = package.Entries.Select(entry => entry.FullName).ToHashSet();
        Assert.Contains($"lib/net10.0/{assembly}.dll", files);
        Assert.Contains($"lib/net10.0/{assembly}.xml", files);
        Assert.Contains("PACKAGE.md", files);
    }

    private void AssertMetadata(XElement nuspec, string id)
    {
        string Value(string element) => (string?)nuspec.Descendants(Name(element)).SingleOrDefault() ?? "";
        Assert.Equal(id, Value("id"));
        Assert.Equal(packages.Version, Value("version"));
        Assert.Equal("SourceGenDO contributors", Value("authors"));
        Assert.Equal("MIT", Value("license"));
        Assert.Equal("expression", (string?)nuspec.Descendants(Name("license")).Single().Attribute("type"));
        Assert.Equal("PACKAGE.md", Value("readme"));
        Assert.Contains("durable-objects", Value("tags").Split(' '));
        Assert.True(Value("description").Length > 80, $"{id}'s description is too short to tell what the package is: \"{Value("description")}\"");
        // The commit it was built from, and no made-up repository address.
        var repository = nuspec.Descendants(Name("repository")).Single();
        Assert.Matches("^[0-9a-f]{40}$", (string?)repository.Attribute("commit") ?? "");
        Assert.Null(repository.Attribute("url"));
    }

    private static IEnumerable<(string Id, string Version, string? Exclude)> Dependencies(XElement nuspec) =>
        nuspec.Descendants(Name("group"))
            .Where(group => (string?)group.Attribute("targetFramework") == "net10.0" && group.Parent?.Name == Name("dependencies"))
            .Single()
            .Elements(Name("dependency"))
            .Select(dependency => ((string)dependency.Attribute("id")!, (string)dependency.Attribute("version")!, (string?)dependency.Attribute("exclude")));

    private static XElement Nuspec(ZipArchive package)
    {
        var entry = package.Entries.Single(entry => entry.FullName.EndsWith(".nuspec", StringComparison.Ordinal) && !entry.FullName.Contains('/'));
        using var stream = entry.Open();
        return XDocument.Load(stream).Root!;
    }

    private static XName Name(string localName) => XName.Get(localName, "http://schemas.microsoft.com/packaging/2013/05/nuspec.xsd");

    private static byte[] ReadAll(ZipArchiveEntry entry)
    {
        using var stream = entry.Open();
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
