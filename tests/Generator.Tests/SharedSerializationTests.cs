using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis;

namespace SourceGenDO.Generator.Tests;

/// <summary>
/// The serialization helpers are emitted once per assembly, into one file, under names that depend on
/// the type alone, in a namespace that names the assembly.
/// </summary>
public sealed partial class SharedSerializationTests
{
    private const string Customer = """
        namespace Shop;

        public sealed record Address(string Street, int Zip);

        public sealed record Customer(string Name, Address Home, List<Address> Others);
        """;

    [Fact]
    public void ARecordUsedByManyClassesGetsOneSetOfHelpers()
    {
        var outcome = GeneratorHarness.Run([Customer, .. Enumerable.Range(0, 3).Select(UsingClass)]);

        var shared = outcome.Source(DurableObjectGenerator.SerializationHintName);
        Assert.Single(Regex.Matches(shared, @"internal static void Write_Customer_[0-9A-F]{16}\("));
        Assert.Single(Regex.Matches(shared, @"internal static global::Shop\.Customer Read_Customer_[0-9A-F]{16}\("));
        Assert.Single(Regex.Matches(shared, @"internal static global::System\.ReadOnlyMemory<byte> EncodeResult_Customer_[0-9A-F]{16}\("));
        foreach (var file in outcome.Sources.Where(static s => s.HintName.StartsWith("Shop.", StringComparison.Ordinal)))
        {
            var text = file.SourceText.ToString();
            Assert.DoesNotContain("internal static void Write_", text, StringComparison.Ordinal);
            Assert.Contains("global::SourceGenDO.Generated.TestAssembly.Serializers.Write_Customer_", text, StringComparison.Ordinal);
        }
        Assert.Empty(outcome.CompilationProblems);
    }

    [Fact]
    public void HelperNamesDependOnlyOnTheType()
    {
        var alone = GeneratorHarness.Run(Customer, UsingClass(0));
        var withOthers = GeneratorHarness.Run(Customer, UsingClass(0), UsingClass(1), TestSources.EverySupportedType.Replace("namespace Shop;", "namespace Other;", StringComparison.Ordinal));

        Assert.Equal(HelperNames(alone.Source("Shop.User0.g.cs")), HelperNames(withOthers.Source("Shop.User0.g.cs")));
        Assert.Equal(alone.Source("Shop.User0.g.cs"), withOthers.Source("Shop.User0.g.cs"));
    }

    [Fact]
    public void SameNamedTypesOfTwoNamespacesGetTheirOwnHelpers()
    {
        var outcome = GeneratorHarness.Run(
            "namespace A { public sealed record Item(string Name); }",
            "namespace B { public sealed record Item(int Count); }",
            """
            namespace Shop;

            public class Mixed(DurableObjectState ctx) : DurableObject(ctx)
            {
                public Task<A.Item> First(A.Item item) => Task.FromResult(item);
                public Task<B.Item> Second(B.Item item) => Task.FromResult(item);
            }
            """);

        var writers = Regex.Matches(outcome.Source(DurableObjectGenerator.SerializationHintName), @"internal static void (Write_Item_[0-9A-F]{16})\(")
            .Select(static m => m.Groups[1].Value)
            .ToList();
        Assert.Equal(2, writers.Distinct(StringComparer.Ordinal).Count());
        Assert.Empty(outcome.CompilationProblems);
    }

    [Theory]
    [InlineData("Shop.App", "SourceGenDO.Generated.Shop_App")]
    [InlineData("my-app", "SourceGenDO.Generated.my_app")]
    [InlineData("3d", "SourceGenDO.Generated._3d")]
    public void GeneratedNamespaceNamesTheAssembly(string assemblyName, string expected) =>
        Assert.Equal(expected, SymbolNames.GeneratedNamespace(assemblyName));

    // Two assemblies of one solution with InternalsVisibleTo between them each get their own helpers
    // class; one name for both would be CS0436 (a warning, so an error where warnings are errors).
    [Fact]
    public void AssembliesThatSeeEachOthersInternalsDoNotClash()
    {
        var library = Generate("Shop.Core", null, """
            [assembly: System.Runtime.CompilerServices.InternalsVisibleTo("Shop.App")]

            namespace Shop.Core;

            public sealed record Item(string Name);

            public class Catalog(DurableObjectState ctx) : DurableObject(ctx)
            {
                public Task<Item> Get(Item item) => Task.FromResult(item);
            }
            """);
        using var image = new MemoryStream();
        Assert.True(library.Emit(image).Success);

        var app = Generate("Shop.App", MetadataReference.CreateFromImage(image.ToArray()), """
            namespace Shop.App;

            public class Basket(DurableObjectState ctx) : DurableObject(ctx)
            {
                public Task<Shop.Core.Item> Add(Shop.Core.Item item) => Task.FromResult(item);
            }
            """);

        var problems = app.GetDiagnostics().Where(static d => d.Severity >= DiagnosticSeverity.Warning && d.Id != "CS1591").ToList();
        Assert.True(problems.Count == 0, string.Join("\n", problems));
        Assert.NotNull(app.GetTypeByMetadataName("SourceGenDO.Generated.Shop_App.Serializers"));
    }

    private static Compilation Generate(string assemblyName, MetadataReference? reference, string source)
    {
        var compilation = GeneratorHarness.CreateCompilation(GeneratorHarness.Usings + source).WithAssemblyName(assemblyName);
        if (reference is not null)
        {
            compilation = compilation.AddReferences(reference);
        }
        GeneratorHarness.CreateDriver().RunGeneratorsAndUpdateCompilation(compilation, out var output, out var diagnostics);
        Assert.Empty(diagnostics);
        return output;
    }

    private static string UsingClass(int index) => $$"""
        namespace Shop;

        public class User{{index}}(DurableObjectState ctx) : DurableObject(ctx)
        {
            public Task<Customer> Find(Customer customer, List<Address> more) => Task.FromResult(customer);
        }
        """;

    private static List<string> HelperNames(string source) =>
        [.. HelperReference().Matches(source).Select(static m => m.Value).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];

    [GeneratedRegex(@"Serializers\.\w+")]
    private static partial Regex HelperReference();
}
