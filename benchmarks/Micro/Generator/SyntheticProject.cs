using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using Basic.Reference.Assemblies;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Text;
using SourceGenDO.Generator;

namespace SourceGenDO.Micro.Generator;

/// <summary>
/// A large synthetic project for the generator: <see cref="ClassCount"/> durable object classes of
/// <see cref="MethodsPerClass"/> methods each, one class (and its own record) per file, over shared
/// records, enums, lists and dictionaries; plus one unrelated file that the incremental runs edit.
/// </summary>
public static class SyntheticProject
{
    public const int ClassCount = 500;
    public const int MethodsPerClass = 10;
    public const string UnrelatedPath = "Tools/Unrelated.cs";

    public static readonly CSharpParseOptions ParseOptions = new(LanguageVersion.Latest);

    private static readonly ImmutableArray<MetadataReference> References =
    [
        .. Net100.References.All,
        MetadataReference.CreateFromFile(typeof(DurableObject).Assembly.Location),
        MetadataReference.CreateFromFile(typeof(Google.Protobuf.IMessage).Assembly.Location),
    ];

    private const string SharedTypes = """
        using System;
        using System.Collections.Generic;

        namespace Synthetic.Shared;

        public enum Status { Open = 1, Closed = 2, Archived = 3 }

        public sealed record Address(string Street, string City, int Zip);

        public sealed record Customer(long Id, string Name, Address Home, List<string> Emails);

        public sealed record LineItem(string Sku, int Quantity, decimal Price);

        public record Invoice(Guid Id, List<LineItem> Lines, Dictionary<string, int> Counts, DateTimeOffset IssuedAt)
        {
            public string? Note { get; init; }
        }
        """;

    /// <summary>The compilation the generator runs over: shared types, the classes and the unrelated file.</summary>
    public static CSharpCompilation CreateCompilation()
    {
        var trees = new List<SyntaxTree>(ClassCount + 2)
        {
            Parse(SharedTypes, "Shared/Types.cs"),
            UnrelatedTree(0),
        };
        for (var i = 0; i < ClassCount; i++)
        {
            trees.Add(Parse(ObjectClass(i), $"Objects/Object{i:D3}.cs"));
        }
        return CSharpCompilation.Create(
            "Synthetic",
            trees,
            References,
            new CSharpCompilationOptions(
                OutputKind.DynamicallyLinkedLibrary,
                nullableContextOptions: NullableContextOptions.Enable,
                deterministic: true,
                specificDiagnosticOptions: [new("CS1701", ReportDiagnostic.Suppress), new("CS1702", ReportDiagnostic.Suppress)]));
    }

    /// <summary>A file no durable object depends on (no base list, so the generator's predicate skips it); <paramref name="version"/> varies its text.</summary>
    public static SyntaxTree UnrelatedTree(int version) => Parse(
        $$"""
        namespace Synthetic.Tools;

        public static class Unrelated
        {
            public static int Version => {{version.ToString(CultureInfo.InvariantCulture)}};

            public static string Describe(int value) => value.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        """,
        UnrelatedPath);

    /// <summary>A driver for the generator, tracking the pipeline steps when asked to.</summary>
    public static GeneratorDriver CreateDriver(bool trackSteps = false) =>
        CSharpGeneratorDriver.Create(
            [new DurableObjectGenerator().AsSourceGenerator()],
            parseOptions: ParseOptions,
            driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: trackSteps));

    /// <summary>Throws unless one run produced one file per class, the assembly's serialization helpers and no diagnostics.</summary>
    public static void AssertComplete(GeneratorDriver driver)
    {
        var result = driver.GetRunResult();
        var sources = result.Results.SelectMany(static r => r.GeneratedSources).ToList();
        if (sources.Count != ClassCount + 1
            || !sources.Any(static s => s.HintName == DurableObjectGenerator.SerializationHintName)
            || !result.Diagnostics.IsEmpty)
        {
            throw new InvalidOperationException(
                $"The generator produced {sources.Count} files (expected {ClassCount} and {DurableObjectGenerator.SerializationHintName}) and {result.Diagnostics.Length} diagnostics: {string.Join("; ", result.Diagnostics.Take(5))}");
        }
    }

    private static SyntaxTree Parse(string source, string path) =>
        CSharpSyntaxTree.ParseText(SourceText.From(source, Encoding.UTF8), ParseOptions, path);

    // Ten methods mixing scalars, strings, shared and per-class records, lists, dictionaries, arrays,
    // value tasks, defaults and cancellation, so every emitter path runs.
    private static string ObjectClass(int index)
    {
        var n = index.ToString("D3", CultureInfo.InvariantCulture);
        return $$"""
            using System;
            using System.Collections.Generic;
            using System.Threading;
            using System.Threading.Tasks;
            using SourceGenDO;
            using Synthetic.Shared;

            namespace Synthetic.Group{{(index / 50).ToString(CultureInfo.InvariantCulture)}};

            public sealed record Snapshot{{n}}(long Value, string Label, List<int> History, Status Status);

            public class Object{{n}}(DurableObjectState ctx) : DurableObject(ctx)
            {
                private long _value;

                public Task<long> Add(long amount = 1) => Task.FromResult(_value += amount);

                public Task<string> Echo(string text, int times) => Task.FromResult(text);

                public Task<Customer> FindCustomer(long id, string name, Address? address) =>
                    Task.FromResult(new Customer(id, name, address ?? new Address("", "", 0), new List<string>()));

                public Task Save(Customer customer, Snapshot{{n}} snapshot) => Task.CompletedTask;

                public Task<List<int>> Numbers(List<int> values, int count) => Task.FromResult(values);

                public Task<Dictionary<string, int>> Count(Dictionary<string, int> counts, bool reset) => Task.FromResult(counts);

                public Task<Invoice> Bill(Invoice invoice, decimal discount, Status status) => Task.FromResult(invoice);

                public ValueTask<bool> Check(Guid id, DateTime at, TimeSpan window, CancellationToken cancellationToken) => ValueTask.FromResult(true);

                public Task<double> Measure(double value, float scale, int? limit, byte[]? payload) => Task.FromResult(value * scale);

                public Task<Snapshot{{n}}> Snapshot(LineItem[] items, List<string> tags) =>
                    Task.FromResult(new Snapshot{{n}}(_value, "{{n}}", new List<int>(), Status.Open));
            }
            """;
    }
}
