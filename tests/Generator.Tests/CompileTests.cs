using Microsoft.CodeAnalysis;

namespace SourceGenDO.Generator.Tests;

/// <summary>
/// The generated files compile together with the user's code with no errors and no warnings (nullable
/// and XML doc warnings included), against the real runtime and Google.Protobuf.
/// </summary>
public sealed class CompileTests
{
    public static TheoryData<string> Sources => new()
    {
        nameof(TestSources.Counter),
        nameof(TestSources.EverySupportedType),
        nameof(TestSources.NestedClassWithServices),
        nameof(TestSources.GlobalNamespace),
        nameof(TestSources.ValueTaskAndCancellation),
        nameof(TestSources.AbstractBase),
        nameof(TestSources.StoredValues),
    };

    [Theory]
    [MemberData(nameof(Sources))]
    public void GeneratedCodeCompilesWithoutWarnings(string name)
    {
        var source = (string)typeof(TestSources).GetField(name)!.GetValue(null)!;

        var outcome = GeneratorHarness.Run(source);

        Assert.Empty(outcome.Diagnostics);
        Assert.NotEmpty(outcome.Sources);
        AssertClean(outcome);
    }

    [Fact]
    public void SameNamedClassesInTwoNamespacesCompileWithoutWarnings()
    {
        var outcome = GeneratorHarness.Run(TestSources.CounterInNamespaceA, TestSources.CounterInNamespaceB);

        Assert.Equal(["A.Counter.g.cs", "B.Counter.g.cs", DurableObjectGenerator.SerializationHintName], outcome.Sources.Select(static s => s.HintName));
        AssertClean(outcome);
    }

    [Fact]
    public void ClassesWithDiagnosticsStillCompileWithoutWarnings()
    {
        var outcome = GeneratorHarness.Run("""
            namespace Shop;

            public class Mixed(DurableObjectState ctx) : DurableObject(ctx)
            {
                public int Sync() => 1;
                public Task Generic<T>(T value) => Task.CompletedTask;
                public Task Untyped(object value) => Task.CompletedTask;
                public Task Good(string text) => Task.CompletedTask;
            }
            """);

        Assert.NotEmpty(outcome.Diagnostics);
        Assert.Contains("public global::System.Threading.Tasks.Task Good(string text)", outcome.Source("Shop.Mixed.g.cs"), StringComparison.Ordinal);
        AssertClean(outcome);
    }

    [Fact]
    public void KeywordNamesAreEscaped()
    {
        var outcome = GeneratorHarness.Run("""
            namespace Shop;

            public sealed record Token(string @class, int @event);

            public class Keywords(DurableObjectState ctx) : DurableObject(ctx)
            {
                public Task<Token> @switch(Token @object, int @default = 0) => Task.FromResult(@object);
            }
            """);

        Assert.Empty(outcome.Diagnostics);
        Assert.Contains("@switch(global::Shop.Token @object, int @default = 0)", outcome.Source("Shop.Keywords.g.cs"), StringComparison.Ordinal);
        AssertClean(outcome);
    }

    [Fact]
    public void GeneratedLocalsNeverCollideWithParameterNames()
    {
        var outcome = GeneratorHarness.Run("""
            namespace Shop;

            public class Clash(DurableObjectState ctx) : DurableObject(ctx)
            {
                public Task<int> Use(int __arguments, int __reader, int __field, int instance, int method, int arguments, int cancellationToken) =>
                    Task.FromResult(__arguments + __reader + __field + instance + method + arguments + cancellationToken);
            }
            """);

        Assert.Empty(outcome.Diagnostics);
        AssertClean(outcome);
    }

    [Fact]
    public void ObliviousNullabilityContextCompilesWithoutWarnings()
    {
        var outcome = GeneratorHarness.Run("""
            #nullable disable
            namespace Shop;

            public sealed class Bag
            {
                public List<string> Items { get; set; }
            }

            public class Legacy(DurableObjectState ctx) : DurableObject(ctx)
            {
                public Task<string> Describe(Bag bag, string name) => Task.FromResult(name + bag.Items.Count);
            }
            """);

        Assert.Empty(outcome.Diagnostics);
        AssertClean(outcome);
    }

    private static void AssertClean(GeneratorOutcome outcome)
    {
        var problems = outcome.CompilationProblems;
        Assert.True(problems.IsEmpty, "The compilation has problems:\n" + string.Join("\n", problems));
        using var stream = new MemoryStream();
        var emit = outcome.Output.Emit(stream);
        var emitProblems = emit.Diagnostics.Where(outcome.IsProblem).ToList();
        Assert.True(emit.Success && emitProblems.Count == 0, "Emit failed:\n" + string.Join("\n", emitProblems));
    }
}
