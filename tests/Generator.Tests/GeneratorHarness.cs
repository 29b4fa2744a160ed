using System.Collections.Immutable;
using Basic.Reference.Assemblies;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Text;

namespace SourceGenDO.Generator.Tests;

/// <summary>Compiles test sources against the real runtime and runs the generator over them.</summary>
internal static class GeneratorHarness
{
    /// <summary>Usings every test source starts with, so that the sources show only what matters.</summary>
    public const string Usings = """
        using System;
        using System.Collections.Generic;
        using System.Threading;
        using System.Threading.Tasks;
        using SourceGenDO;

        """;

    // Diagnose mode binds XML doc comments, so a bad cref in generated code shows up as a warning.
    public static readonly CSharpParseOptions ParseOptions = new(LanguageVersion.Latest, DocumentationMode.Diagnose);

    public static readonly ImmutableArray<MetadataReference> References =
    [
        .. Net100.References.All,
        MetadataReference.CreateFromFile(typeof(DurableObject).Assembly.Location),
        MetadataReference.CreateFromFile(typeof(Google.Protobuf.IMessage).Assembly.Location),
    ];

    public static CSharpCompilation CreateCompilation(params string[] sources) =>
        CSharpCompilation.Create(
            "TestAssembly",
            sources.Select((source, i) => Parse(source, $"Source{i}.cs")),
            References,
            new CSharpCompilationOptions(
                OutputKind.DynamicallyLinkedLibrary,
                nullableContextOptions: NullableContextOptions.Enable,
                deterministic: true,
                // As the SDK does: Google.Protobuf targets an older System.Runtime, which unifies fine.
                specificDiagnosticOptions: [new("CS1701", ReportDiagnostic.Suppress), new("CS1702", ReportDiagnostic.Suppress)]));

    public static SyntaxTree Parse(string source, string path) =>
        CSharpSyntaxTree.ParseText(SourceText.From(source, System.Text.Encoding.UTF8), ParseOptions, path);

    public static GeneratorDriver CreateDriver(bool trackSteps = false) =>
        CSharpGeneratorDriver.Create(
            [new DurableObjectGenerator().AsSourceGenerator()],
            parseOptions: ParseOptions,
            driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: trackSteps));

    /// <summary>Runs the generator over <paramref name="sources"/> (each prefixed with <see cref="Usings"/>).</summary>
    public static GeneratorOutcome Run(params string[] sources) =>
        RunExact(sources.Select(static s => Usings + s).ToArray());

    /// <summary>Runs the generator over <paramref name="sources"/> exactly as given.</summary>
    public static GeneratorOutcome RunExact(params string[] sources)
    {
        var compilation = CreateCompilation(sources);
        var driver = CreateDriver().RunGeneratorsAndUpdateCompilation(compilation, out var output, out _);
        return new GeneratorOutcome(compilation, driver.GetRunResult(), output);
    }
}

/// <summary>What one generator run produced.</summary>
internal sealed record GeneratorOutcome(Compilation Input, GeneratorDriverRunResult RunResult, Compilation Output)
{
    /// <summary>The diagnostics the generator reported, ordered by position.</summary>
    public ImmutableArray<Diagnostic> Diagnostics =>
        [.. RunResult.Diagnostics.OrderBy(static d => d.Location.SourceSpan.Start).ThenBy(static d => d.Id, StringComparer.Ordinal)];

    /// <summary>The generated files, ordered by hint name.</summary>
    public ImmutableArray<GeneratedSourceResult> Sources =>
        [.. RunResult.Results.SelectMany(static r => r.GeneratedSources).OrderBy(static s => s.HintName, StringComparer.Ordinal)];

    /// <summary>The text of the generated file whose hint name is <paramref name="hintName"/>.</summary>
    public string Source(string hintName) =>
        Sources.SingleOrDefault(s => s.HintName == hintName).SourceText?.ToString()
        ?? throw new Xunit.Sdk.XunitException($"No file '{hintName}' was generated; generated: {string.Join(", ", Sources.Select(static s => s.HintName))}.");

    /// <summary>
    /// Warnings and errors of the compilation with the generated files added; test sources do not
    /// document their public members, so missing XML comments count only in generated files.
    /// </summary>
    public ImmutableArray<Diagnostic> CompilationProblems => [.. Output.GetDiagnostics().Where(IsProblem)];

    /// <summary>Whether <paramref name="diagnostic"/> counts against the generated code (see <see cref="CompilationProblems"/>).</summary>
    public bool IsProblem(Diagnostic diagnostic) =>
        diagnostic.Severity >= DiagnosticSeverity.Warning
        && !(diagnostic.Id == "CS1591" && Input.SyntaxTrees.Contains(diagnostic.Location.SourceTree));
}
