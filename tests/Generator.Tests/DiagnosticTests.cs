using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace SourceGenDO.Generator.Tests;

/// <summary>
/// One test per diagnostic: its id, that it sits on the method's (or class's) identifier, and that the
/// rest of the class still gets its stub.
/// </summary>
public sealed class DiagnosticTests
{
    [Fact]
    public void SynchronousPublicMethodGetsSGDO0001AndIsLeftOut()
    {
        var outcome = AssertDiagnostics("SGDO0001", """
            namespace Shop;

            public class Mixed(DurableObjectState ctx) : DurableObject(ctx)
            {
                public int [|Sync|]() => 1;
                public Task Good() => Task.CompletedTask;
            }
            """);

        Assert.DoesNotContain(" Sync(", outcome.Source("Shop.Mixed.g.cs"), StringComparison.Ordinal);
        Assert.Contains("'int'", outcome.Diagnostics[0].GetMessage(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("ref int value", "ref")]
    [InlineData("out int value", "out")]
    [InlineData("in int value", "in")]
    [InlineData("ref readonly int value", "ref readonly")]
    public void ByReferenceParameterGetsSGDO0002AndIsLeftOut(string parameter, string modifier)
    {
        var outcome = AssertDiagnostics("SGDO0002", $$"""
            namespace Shop;

            public class Mixed(DurableObjectState ctx) : DurableObject(ctx)
            {
                public Task [|Swap|]({{parameter}}) => throw new NotSupportedException();
                public Task Good() => Task.CompletedTask;
            }
            """);

        Assert.Contains($"('{modifier}')", outcome.Diagnostics[0].GetMessage(), StringComparison.Ordinal);
    }

    [Fact]
    public void ParamsArrayIsAnOrdinaryArray()
    {
        var outcome = GeneratorHarness.Run("""
            namespace Shop;

            public class Summer(DurableObjectState ctx) : DurableObject(ctx)
            {
                public Task<int> Sum(params int[] values) => Task.FromResult(values.Sum());
            }
            """.Replace("values.Sum()", "values.Length", StringComparison.Ordinal));

        Assert.Empty(outcome.Diagnostics);
        Assert.Contains("Sum(params int[] values)", outcome.Source("Shop.Summer.g.cs"), StringComparison.Ordinal);
    }

    [Fact]
    public void GenericMethodGetsSGDO0003AndIsLeftOut() => AssertDiagnostics("SGDO0003", """
        namespace Shop;

        public class Mixed(DurableObjectState ctx) : DurableObject(ctx)
        {
            public Task<T> [|Echo|]<T>(T value) => Task.FromResult(value);
            public Task Good() => Task.CompletedTask;
        }
        """);

    [Fact]
    public void EveryOverloadGetsSGDO0004AndIsLeftOut()
    {
        var outcome = AssertDiagnostics("SGDO0004", """
            namespace Shop;

            public class Mixed(DurableObjectState ctx) : DurableObject(ctx)
            {
                public Task [|Add|](int value) => Task.CompletedTask;
                public Task [|Add|](string value) => Task.CompletedTask;
                public Task Good() => Task.CompletedTask;
                private Task Hidden(int value) => Task.CompletedTask;
                private Task Hidden(string value) => Task.CompletedTask;
            }
            """);

        Assert.DoesNotContain(" Add(", outcome.Source("Shop.Mixed.g.cs"), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("object value", "'object' is not supported")]
    [InlineData("dynamic value", "'dynamic' is not supported")]
    [InlineData("IEnumerable<int> value", "interfaces are not supported")]
    [InlineData("IList<int> value", "interfaces are not supported")]
    [InlineData("Shape value", "abstract classes are not supported")]
    [InlineData("Action value", "delegates are not supported")]
    [InlineData("(int, string) value", "tuples are not supported")]
    [InlineData("int[,] value", "multi-dimensional arrays are not supported")]
    [InlineData("Memory<byte> value", "'Memory<byte>' is not a supported framework type")]
    [InlineData("Task value", "'Task' is not a supported framework type")]
    [InlineData("Uri value", "'Uri' is not a supported framework type")]
    [InlineData("Dictionary<Spot, int> value", "key type 'Spot' is not supported")]
    [InlineData("Holder value", "property 'Holder.Items' of type 'List<object>': element type 'object': 'object' is not supported")]
    [InlineData("List<Holder> value", "element type 'Holder': property 'Holder.Items' of type 'List<object>'")]
    [InlineData("Fielded value", "public field 'Fielded.Count' would not be serialized")]
    [InlineData("ReadOnlyBag value", "'ReadOnlyBag' has no public constructor whose parameters all match its public properties")]
    [InlineData("Numbers value", "collection types other than arrays, List<T> and Dictionary<K,V> are not supported")]
    [InlineData("Failure value", "'Failure' derives from the framework type 'Exception'")]
    [InlineData("Pair<object> value", "property 'Pair<object>.Left' of type 'object'")]
    public void UnsupportedParameterTypeGetsSGDO0005NamingTheReason(string parameter, string reason)
    {
        var outcome = AssertDiagnostics("SGDO0005", $$"""
            namespace Shop;

            public abstract class Shape { public int Sides { get; set; } }

            public sealed record Holder(List<object> Items);

            public sealed record Spot(int X);

            public sealed class Numbers : List<int> { }

            public sealed class Failure : Exception { }

            public sealed record Pair<T>(T Left, T Right);

            public sealed class Fielded { public int Count; }

            public sealed class ReadOnlyBag(int size)
            {
                public int Count { get; } = size;
            }

            public class Mixed(DurableObjectState ctx) : DurableObject(ctx)
            {
                public Task [|Use|]({{parameter}}) => Task.CompletedTask;
                public Task Good() => Task.CompletedTask;
            }
            """);

        var message = outcome.Diagnostics[0].GetMessage();
        Assert.Contains("Parameter 'value' of method 'Use'", message, StringComparison.Ordinal);
        Assert.Contains(reason, message, StringComparison.Ordinal);
    }

    [Fact]
    public void SpanParameterGetsSGDO0005() => AssertDiagnostics("SGDO0005", """
        namespace Shop;

        public class Mixed(DurableObjectState ctx) : DurableObject(ctx)
        {
            public Task [|Use|](Span<byte> value) => Task.CompletedTask;
            public Task Good() => Task.CompletedTask;
        }
        """);

    [Fact]
    public void UnsupportedReturnTypeGetsSGDO0006AndIsLeftOut()
    {
        var outcome = AssertDiagnostics("SGDO0006", """
            namespace Shop;

            public class Mixed(DurableObjectState ctx) : DurableObject(ctx)
            {
                public Task<object> [|Get|]() => Task.FromResult(new object());
                public Task Good() => Task.CompletedTask;
            }
            """);

        Assert.Contains("returns a 'object'", outcome.Diagnostics[0].GetMessage(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Id()")]
    [InlineData("Name()")]
    [InlineData("Dispose()")]
    [InlineData("DisposeAsync()")]
    [InlineData("InvokeAsync()")]
    [InlineData("FetchAsync()")]
    [InlineData("Equals(int other)")]
    [InlineData("GetHashCode(int seed)")]
    [InlineData("ToString(int format)")]
    [InlineData("GetType(int kind)")]
    [InlineData("MemberwiseClone(int depth)")]
    [InlineData("MixedStub()")]
    public void MethodNamedLikeAStubMemberGetsSGDO0007AndIsLeftOut(string signature)
    {
        var name = signature[..signature.IndexOf('(', StringComparison.Ordinal)];
        var parameters = signature[name.Length..];
        AssertDiagnostics("SGDO0007", $$"""
            namespace Shop;

            public class Mixed(DurableObjectState ctx) : DurableObject(ctx)
            {
                public Task [|{{name}}|]{{parameters}} => Task.CompletedTask;
                public Task Good() => Task.CompletedTask;
            }
            """);
    }

    [Theory]
    [InlineData("CancellationToken cancellationToken, int value")]
    [InlineData("int value, CancellationToken first, CancellationToken second")]
    public void CancellationTokenNotLastGetsSGDO0008AndIsLeftOut(string parameters) => AssertDiagnostics("SGDO0008", $$"""
        namespace Shop;

        public class Mixed(DurableObjectState ctx) : DurableObject(ctx)
        {
            public Task [|Wait|]({{parameters}}) => Task.CompletedTask;
            public Task Good() => Task.CompletedTask;
        }
        """);

    [Theory]
    [InlineData("private")]
    [InlineData("protected")]
    [InlineData("private protected")]
    public void InaccessibleNestedClassGetsSGDO0009AndNoStub(string accessibility) => AssertClassDiagnostic("SGDO0009", $$"""
        namespace Shop;

        public class Outer
        {
            {{accessibility}} class [|Hidden|](DurableObjectState ctx) : DurableObject(ctx)
            {
                public Task Good() => Task.CompletedTask;
            }
        }
        """);

    [Fact]
    public void FileLocalClassGetsSGDO0009AndNoStub() => AssertClassDiagnostic("SGDO0009", """
        namespace Shop;

        file class [|Local|](DurableObjectState ctx) : DurableObject(ctx)
        {
            public Task Good() => Task.CompletedTask;
        }
        """);

    [Fact]
    public void GenericClassGetsSGDO0010AndNoStub() => AssertClassDiagnostic("SGDO0010", """
        namespace Shop;

        public class [|Box|]<T>(DurableObjectState ctx) : DurableObject(ctx)
        {
            public Task Good() => Task.CompletedTask;
        }
        """);

    [Fact]
    public void ClassNestedInGenericClassGetsSGDO0010AndNoStub() => AssertClassDiagnostic("SGDO0010", """
        namespace Shop;

        public class Outer<T>
        {
            public class [|Inner|](DurableObjectState ctx) : DurableObject(ctx)
            {
                public Task Good() => Task.CompletedTask;
            }
        }
        """);

    [Fact]
    public void ClassWithoutPublicConstructorGetsSGDO0011AndNoStub() => AssertClassDiagnostic("SGDO0011", """
        namespace Shop;

        public class [|Hidden|] : DurableObject
        {
            internal Hidden(DurableObjectState ctx) : base(ctx)
            {
            }

            public Task Good() => Task.CompletedTask;
        }
        """);

    [Fact]
    public void HandlersAndNonPublicStaticOrOverriddenMethodsAreSilentlyLeftOut()
    {
        var outcome = GeneratorHarness.Run("""
            namespace Shop;

            public class Quiet(DurableObjectState ctx) : DurableObject(ctx)
            {
                public int Fetch() => 1;
                public void Alarm() { }
                public void WebSocketMessage(string message) { }
                public void WebSocketClose(int code) { }
                public void WebSocketError(Exception error) { }
                public static int Static() => 1;
                internal int Internal() => 1;
                protected int Protected() => 1;
                public override string ToString() => "quiet";
                public override int GetHashCode() => 1;
                public override bool Equals(object? obj) => false;
                public int Property => 1;
                public Task Good() => Task.CompletedTask;
            }
            """);

        Assert.Empty(outcome.Diagnostics);
        var stub = outcome.Source("Shop.Quiet.g.cs");
        Assert.Contains(" Good()", stub, StringComparison.Ordinal);
        foreach (var name in new[] { "Fetch", "Alarm", "WebSocketMessage", "WebSocketClose", "WebSocketError", "Static", "Internal", "Protected", "Property" })
        {
            Assert.DoesNotContain($" {name}(", stub, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task PragmaWarningDisableSuppressesSGDO0001()
    {
        var outcome = GeneratorHarness.Run("""
            namespace Shop;

            public class Mixed(DurableObjectState ctx) : DurableObject(ctx)
            {
            #pragma warning disable SGDO0001
                public int Quiet() => 1;
            #pragma warning restore SGDO0001
                public int Loud() => 2;
            }
            """);

        // The generator reports both; the compiler applies #pragma to diagnostics located in source,
        // as it does to an analyzer's, which is what replaying them through an analyzer shows.
        Assert.Equal(2, outcome.Diagnostics.Count(static d => d.Id == "SGDO0001"));
        var effective = await new CompilationWithAnalyzers(
                outcome.Output,
                [new ReplayAnalyzer(outcome.Diagnostics)],
                new CompilationWithAnalyzersOptions(new AnalyzerOptions([]), onAnalyzerException: null, concurrentAnalysis: false, logAnalyzerExecutionTime: false))
            .GetAnalyzerDiagnosticsAsync();
        var kept = Assert.Single(effective);
        Assert.Contains("'Loud'", kept.GetMessage(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Ctx.Storage.[|Put|](\"k\", new object());", "stores", "'object' is not supported")]
    [InlineData("Ctx.Storage.[|Put|](\"k\", new { Name = \"a\" });", "stores", "anonymous types are not supported; declare a record")]
    [InlineData("_ = await Ctx.Storage.[|GetAsync<IList<int>>|](\"k\");", "reads", "interfaces are not supported")]
    [InlineData("_ = await Ctx.Storage.[|GetAsync<HashSet<int>>|](\"k\", new HashSet<int>());", "reads", "'HashSet<int>' is not a supported framework type")]
    [InlineData("_ = await Ctx.Storage.[|GetAsync<List<object>>|]([\"a\", \"b\"]);", "reads", "element type 'object': 'object' is not supported; the type must be known where the value is stored")]
    [InlineData("_ = await Ctx.Storage.[|ListAsync<(int, string)>|]();", "reads", "tuples are not supported")]
    [InlineData("await Ctx.Storage.[|PutAsync|](new Dictionary<string, Hidden>());", "stores", "'Keeper.Hidden' is not accessible from generated code")]
    [InlineData("await Ctx.Storage.TransactionAsync(async transaction => { _ = await transaction.[|GetAsync<Action>|](\"k\"); });", "reads", "delegates are not supported")]
    [InlineData("Ctx.GetWebSockets()[0].[|SerializeAttachment|]((1, \"a\"));", "stores", "tuples are not supported")]
    [InlineData("_ = Ctx.GetWebSockets()[0].[|DeserializeAttachment<Action>|]();", "reads", "delegates are not supported")]
    public void UnstorableValueTypeGetsSGDO0012AtTheCall(string statement, string verb, string reason)
    {
        var outcome = AssertStorageDiagnostic("SGDO0012", DiagnosticSeverity.Error, $$"""
            namespace Shop;

            public class Keeper(DurableObjectState ctx) : DurableObject(ctx)
            {
                private sealed record Hidden(int Value);

                public async Task Run()
                {
                    await Task.Yield();
                    {{statement}}
                }
            }
            """);

        var message = outcome.Diagnostics[0].GetMessage();
        Assert.Contains($"{verb} values of type", message, StringComparison.Ordinal);
        Assert.Contains(reason, message, StringComparison.Ordinal);
        Assert.Contains("so the call would fail at run time; store primitives, string", message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("private void Save<T>(T value) => Ctx.Storage.[|Put|](\"k\", value);", "'T', which is or contains the type parameter 'T'")]
    [InlineData("private async Task<int> Count<TItem>() => (await Ctx.Storage.[|GetAsync<List<TItem>>|](\"k\"))?.Count ?? 0;", "'List<TItem>', which is or contains the type parameter 'TItem'")]
    [InlineData("private Task<IReadOnlyDictionary<string, TKey[]>> All<TKey>() => Ctx.Storage.[|ListAsync<TKey[]>|]().AsTask();", "'TKey[]', which is or contains the type parameter 'TKey'")]
    public void TypeParameterValueTypeGetsSGDO0013AtTheCall(string member, string type)
    {
        var outcome = AssertStorageDiagnostic("SGDO0013", DiagnosticSeverity.Warning, $$"""
            namespace Shop;

            public class Keeper(DurableObjectState ctx) : DurableObject(ctx)
            {
                {{member}}
            }
            """);

        var message = outcome.Diagnostics[0].GetMessage();
        Assert.Contains(type, message, StringComparison.Ordinal);
        Assert.Contains("call it with a concrete type", message, StringComparison.Ordinal);
    }

    [Fact]
    public void StorageCallInAGenericBaseClassGetsSGDO0013() => AssertStorageDiagnostic("SGDO0013", DiagnosticSeverity.Warning, """
        namespace Shop;

        public abstract class Entity<TState>(DurableObjectState ctx) : DurableObject(ctx)
        {
            protected Task<TState?> Load() => Ctx.Storage.[|GetAsync<TState>|]("state").AsTask();
        }

        public sealed record Profile(string Name);

        public class ProfileObject(DurableObjectState ctx) : Entity<Profile>(ctx)
        {
            public async Task<string> Describe() => (await Load())?.Name ?? "";
        }
        """);

    [Fact]
    public void UnresolvedStoredTypesAndLookalikeMethodsGetNoStorageDiagnostic()
    {
        var outcome = GeneratorHarness.Run("""
            namespace Shop;

            public sealed class Cache
            {
                public void Put<T>(string key, T value) { }
                public Task<T?> GetAsync<T>(string key) => Task.FromResult(default(T));
            }

            public class Keeper(DurableObjectState ctx) : DurableObject(ctx)
            {
                public async Task Run(Cache cache)
                {
                    cache.Put("k", new object());
                    _ = await cache.GetAsync<Action>("k");
                    Ctx.Storage.Put("k", new Missing());
                    _ = await Ctx.Storage.GetAsync<List<AlsoMissing>>("k");
                }
            }
            """);

        Assert.Empty(outcome.Diagnostics);
        Assert.DoesNotContain(outcome.Sources, static s => s.HintName == DurableObjectGenerator.StorageCodecsHintName);
        Assert.Contains(outcome.Input.GetDiagnostics(), static d => d.Id == "CS0246");
    }

    [Fact]
    public async Task PragmaWarningDisableSuppressesSGDO0013()
    {
        var outcome = GeneratorHarness.Run("""
            namespace Shop;

            public class Keeper(DurableObjectState ctx) : DurableObject(ctx)
            {
            #pragma warning disable SGDO0013
                private void Quiet<T>(T value) => Ctx.Storage.Put("quiet", value);
            #pragma warning restore SGDO0013
                private void Loud<T>(T value) => Ctx.Storage.Put("loud", value);
            }
            """);

        Assert.Equal(2, outcome.Diagnostics.Count(static d => d.Id == "SGDO0013"));
        var effective = await new CompilationWithAnalyzers(
                outcome.Output,
                [new ReplayAnalyzer(outcome.Diagnostics)],
                new CompilationWithAnalyzersOptions(new AnalyzerOptions([]), onAnalyzerException: null, concurrentAnalysis: false, logAnalyzerExecutionTime: false))
            .GetAnalyzerDiagnosticsAsync();
        var kept = Assert.Single(effective);
        Assert.Equal(outcome.Output.SyntaxTrees.First().GetText().ToString().IndexOf("Put(\"loud\"", StringComparison.Ordinal), kept.Location.SourceSpan.Start);
    }

    // A storage diagnostic sits on the called method's name, in the user's file, and no codec is made for the type.
    private static GeneratorOutcome AssertStorageDiagnostic(string id, DiagnosticSeverity severity, string markedSource)
    {
        var (source, spans) = Markup.Parse(markedSource);
        var outcome = GeneratorHarness.Run(source);

        var diagnostic = Assert.Single(outcome.Diagnostics);
        Assert.Equal(id, diagnostic.Id);
        Assert.Equal(severity, diagnostic.Severity);
        Assert.Equal(Assert.Single(spans), diagnostic.Location.SourceSpan);
        Assert.Equal("Source0.cs", diagnostic.Location.SourceTree?.FilePath);
        Assert.DoesNotContain(outcome.Sources, static s => s.HintName == DurableObjectGenerator.StorageCodecsHintName);
        Assert.Empty(outcome.CompilationProblems);
        return outcome;
    }

    private static GeneratorOutcome AssertDiagnostics(string id, string markedSource)
    {
        var (source, spans) = Markup.Parse(markedSource);
        var outcome = GeneratorHarness.Run(source);

        Assert.All(outcome.Diagnostics, d => Assert.Equal(id, d.Id));
        Assert.Equal(spans, outcome.Diagnostics.Select(static d => d.Location.SourceSpan));
        Assert.All(outcome.Diagnostics, static d => Assert.Equal("Source0.cs", d.Location.SourceTree?.FilePath));
        var stub = Assert.Single(outcome.Sources).SourceText.ToString();
        Assert.Contains("public global::System.Threading.Tasks.Task Good()", stub, StringComparison.Ordinal);
        Assert.Empty(outcome.CompilationProblems.Where(static d => d.Severity == DiagnosticSeverity.Error));
        return outcome;
    }

    private static void AssertClassDiagnostic(string id, string markedSource)
    {
        var (source, spans) = Markup.Parse(markedSource);
        var outcome = GeneratorHarness.Run(source);

        var diagnostic = Assert.Single(outcome.Diagnostics);
        Assert.Equal(id, diagnostic.Id);
        Assert.Equal(DiagnosticSeverity.Error, diagnostic.Severity);
        Assert.Equal(Assert.Single(spans), diagnostic.Location.SourceSpan);
        Assert.Empty(outcome.Sources);
    }

    /// <summary>Reports given diagnostics again, as an analyzer, so that the compiler's suppression applies to them.</summary>
#pragma warning disable RS1036, RS1041 // A test-only analyzer, never loaded by a compiler.
    [DiagnosticAnalyzer(LanguageNames.CSharp)]
    private sealed class ReplayAnalyzer(ImmutableArray<Diagnostic> diagnostics) : DiagnosticAnalyzer
#pragma warning restore RS1036, RS1041
    {
        public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics =>
            [.. diagnostics.Select(static d => d.Descriptor).Distinct()];

        public override void Initialize(AnalysisContext context)
        {
            context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
            context.EnableConcurrentExecution();
            context.RegisterCompilationAction(compilation =>
            {
                foreach (var diagnostic in diagnostics)
                {
                    compilation.ReportDiagnostic(diagnostic);
                }
            });
        }
    }
}
